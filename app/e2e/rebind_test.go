package e2e

import (
	"fmt"
	"os"

	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDNSRebinding gives the app a real resolver answer (a hosts file in a private mount namespace):
// a name that looks public but resolves to loopback is refused without a prompt (threat: DNS
// rebinding, a public site reaching the user's own machine), while a local-only name gets the
// local-network consent that shows the address, and connects to exactly that address once allowed.
func TestDNSRebinding(t *testing.T) {
	echo, stats := StartEchoServer(t)
	site := StartSite(t, testdataFiles(t, "rebind"), strictCSP)
	dirs := pinnedDirs(t, site)
	hosts, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	hosts = append(hosts, []byte("\n127.0.0.1 rebind.example.com\n127.0.0.1 printer.internal\n127.0.0.1 xn--pple-43d.internal\n")...)
	d := StartXvfb(t)
	app := startWithEtc(t, d, dirs, map[string]string{"hosts": string(hosts)},
		"open", site.URL+"/index.html?port="+strconv.Itoa(echo.Port))

	app.WaitLog(t, regexp.MustCompile(`msg="policy decision" \S+ dest=tcp://rebind.example.com:\d+ verdict=deny reason=non-public-resolution`), pageTimeout)
	mark := app.Mark()
	gestureClick(t, d, site)
	mark = answerConsent(t, d, app, mark, true)
	// The look-alike name (Cyrillic "а") reaches the dialog only as punycode; the user denies it.
	gestureClick(t, d, site)
	app.WaitLogAfter(t, mark, regexp.MustCompile(`msg="policy decision" \S+ dest=tcp://xn--pple-43d.internal:\d+ verdict=ask`), dialogTimeout)
	answerConsent(t, d, app, mark, false)
	res := site.WaitResult(t, resultTimeout)
	for _, k := range []string{"markup", "bidi"} {
		if got := fmt.Sprint(res[k]); !strings.Contains(got, "outcome:TypeError") {
			t.Errorf("%s host gave %s", k, got)
		}
	}
	if got := fmt.Sprint(res["homograph"]); !strings.Contains(got, "outcome:NotAllowedError") {
		t.Errorf("the denied look-alike name gave %s", got)
	}
	if got := fmt.Sprint(res["publicName"]); !strings.Contains(got, "outcome:NotAllowedError") {
		t.Errorf("a public name resolving to loopback gave %s", got)
	}
	if got := fmt.Sprint(res["localName"]); !strings.Contains(got, "outcome:opened") || !strings.Contains(got, "remoteAddress:127.0.0.1") {
		t.Errorf("the local-only name gave %s", got)
	}
	shown := dialogsShown(app)
	if shown != 2 || stats.Accepted.Load() != 1 {
		t.Errorf("%d dialogs and %d connections, want 2 and 1 (the local-only names; one allowed)", shown, stats.Accepted.Load())
	}
}
