package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEchoBothShapes is the foundation's end-to-end proof: a page served over HTTPS with a strict
// CSP, its certificate pinned from the command line, opens TCP sockets in both API shapes to a
// loopback echo server, moves 8 MiB and 1000 small messages each way, half-closes and closes; the
// consent dialog is answered with real key presses, and a denied destination is never connected.
func TestEchoBothShapes(t *testing.T) {
	allowAddr, allowStats := StartEchoServer(t)
	denyAddr, denyStats := StartEchoServer(t)
	site := StartSite(t, testdataFiles(t, "echo"), strictCSP)
	d, app := openPinnedSite(t, site, fmt.Sprintf("/index.html?allow=%d&deny=%d", allowAddr.Port, denyAddr.Port))

	gestureClick(t, d, site)
	mark := answerConsent(t, d, app, 0, true)
	gestureClick(t, d, site)
	answerConsent(t, d, app, mark, false)
	res := waitPageResult(t, site, "")

	r := pageResult(res)
	get, expect := r.get, func(want any, path ...string) { t.Helper(); r.expect(t, want, path...) }
	expect("function", "api", "openTCPSocket")
	expect("function", "api", "TCPSocket")
	for _, k := range []string{"portTooBig", "portZero", "keepAliveDelay", "bufferZero", "dnsQueryType", "explainerNoPort", "badHost"} {
		expect("TypeError", "typeErrors", k, "name")
	}
	expect("InvalidStateError", "closeBeforeOpened", "name")
	expect("127.0.0.1", "opened", "remoteAddress")
	expect(allowAddr.Port, "opened", "remotePort")
	expect("127.0.0.1", "opened", "localAddress")
	expect(true, "opened", "readableOnSocket")
	expect(true, "opened", "writableOnSocket")
	for _, shape := range []string{"direct", "explainer"} {
		expect(8<<20, shape, "bulk", "bytes")
		expect(-1, shape, "bulk", "mismatch")
		expect(1000, shape, "small", "count")
		expect(0, shape, "small", "bad")
		expect(true, shape, "closed")
		t.Logf("%s shape: bulk echo %.1f MB/s, small round trip %.0f µs", shape,
			get(shape, "bulk", "mbps"), get(shape, "small", "usPerRoundTrip"))
	}
	expect(3, "direct", "halfClose", "tail")
	expect(true, "explainer", "hasStreams")
	expect("NotAllowedError", "denied", "name")
	expect(true, "denied", "isDOMException")

	if n := denyStats.Accepted.Load(); n != 0 {
		t.Errorf("the denied destination saw %d connections, want 0", n)
	}
	if n := allowStats.Accepted.Load(); n != 2 {
		t.Errorf("the allowed destination saw %d connections, want 2", n)
	}
	if !app.Alive() {
		t.Errorf("the app exited")
	}

	// Every decision is in the audit log, the prompts with the user's answers.
	audit, err := os.ReadFile(filepath.Join(app.Env["XDG_STATE_HOME"], "socketeer", "audit.log"))
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	for _, want := range []string{
		fmt.Sprintf(`"port":%d,"addresses":["127.0.0.1"],"verdict":"ask","reason":"needs-consent-local","answer":"allow"`, allowAddr.Port),
		fmt.Sprintf(`"port":%d,"addresses":["127.0.0.1"],"verdict":"ask","reason":"needs-consent-local","answer":"deny"`, denyAddr.Port),
		fmt.Sprintf(`"port":%d,"addresses":["127.0.0.1"],"verdict":"allow","reason":"granted"`, allowAddr.Port),
	} {
		if !strings.Contains(string(audit), want) {
			t.Errorf("the audit log lacks %s:\n%s", want, audit)
		}
	}
}
