package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// inNetNS marks the copy of the test binary that runs inside the network namespace.
const inNetNS = "SOCKETEER_E2E_NETNS"

// TestMulticast joins a multicast group from a page, receives a datagram sent to the group, leaves,
// and receives nothing more from it. The loopback interface of this machine has no MULTICAST flag,
// so the test runs itself again inside a network namespace of its own (unshare -n) whose loopback
// has multicast on and a route for 224.0.0.0/4; the machine's own network is not touched.
func TestMulticast(t *testing.T) {
	if os.Getenv(inNetNS) == "" {
		runInNetNS(t, "^TestMulticast$")
		return
	}
	const group = "239.255.77.77"
	site := StartSite(t, testdataFiles(t, "multicast"), strictCSP)
	d, app := openPinnedSite(t, site, "/index.html?group="+group)
	gestureClick(t, d, site)
	answerConsent(t, d, app, 0, true)

	step := site.WaitStep(t, pageTimeout)
	port, err := strconv.Atoi(strings.TrimPrefix(step, "joined "))
	if err != nil {
		t.Fatalf("page step %q", step)
	}
	send := func(to, text string) {
		t.Helper()
		c, err := net.Dial("udp4", net.JoinHostPort(to, strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(text)); err != nil {
			t.Fatalf("send to %s: %v", to, err)
		}
	}
	send(group, "to the group")
	if step := site.WaitStep(t, pageTimeout); step != "left" {
		t.Fatalf("page step %q, want left", step)
	}
	// Sent in this order on one interface, the group datagram would arrive before the marker if the
	// socket were still a member; the page reads exactly one more datagram.
	send(group, "to the group after leaving")
	send("127.0.0.1", "unicast marker")

	r := pageResult(site.WaitResult(t, resultTimeout))
	if r["fatal"] != nil {
		t.Fatalf("page failed: %v", r["fatal"])
	}
	expect := func(want any, path ...string) { t.Helper(); r.expect(t, want, path...) }
	expect("TypeError", "notMulticast", "name")
	expect("ok", "join")
	expect("InvalidStateError", "joinTwice", "name")
	if g := fmt.Sprint(r.get("joinedGroups")); g != "["+group+"]" {
		t.Errorf("joinedGroups = %s", g)
	}
	expect("to the group", "first")
	expect("ok", "leave")
	expect("InvalidStateError", "leaveTwice", "name")
	expect("unicast marker", "second")
	if g := fmt.Sprint(r.get("joinedAfterLeave")); g != "[]" {
		t.Errorf("joinedGroups after leaving = %s", g)
	}
	expect("InvalidStateError", "joinAfterClose", "name")
	if g := fmt.Sprint(r.get("joinedAfterClose")); g != "[]" {
		t.Errorf("joinedGroups after close = %s", g)
	}
	app.WaitLog(t, regexp.MustCompile(regexp.QuoteMeta(`msg="multicast membership changed" op=join group=`+group)), dialogTimeout)
}

// runInNetNS runs the named test again in this test binary, inside a new network namespace whose
// loopback interface is up with multicast on. The copy's output becomes this test's log.
func runInNetNS(t *testing.T, test string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("e2e: this test makes a network namespace (unshare -n), which needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	setup := "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec \"$0\" \"$@\""
	cmd := exec.CommandContext(ctx, "unshare", "--net", "--", "sh", "-c", setup,
		os.Args[0], "-test.run", test, "-test.count", "1", "-test.v")
	cmd.Env = append(os.Environ(), inNetNS+"=1", "SOCKETEER_BIN="+Binary(t))
	out, err := cmd.CombinedOutput()
	t.Logf("e2e: inside the network namespace:\n%s", out)
	if err != nil || !strings.Contains(string(out), "--- PASS: "+strings.Trim(test, "^$")) {
		t.Fatalf("e2e: the test failed inside its network namespace: %v", err)
	}
}
