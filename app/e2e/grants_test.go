package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestRememberRestartRevoke is "remember this host" end to end: the user ticks Remember and allows;
// after a restart the site reconnects without a prompt and without any user gesture (reconnects must
// be robust); `socketeer grants list` shows the grant; after `socketeer grants revoke` the site must
// ask again, and a denial then keeps it out.
func TestRememberRestartRevoke(t *testing.T) {
	echo, stats := StartEchoServer(t)
	site := StartSite(t, testdataFiles(t, "hold"), strictCSP)
	page := "/index.html?port=" + strconv.Itoa(echo.Port)
	d, app := openPinnedSite(t, site, page)

	gestureClick(t, d, site)
	app.WaitLog(t, reDialogArmed, dialogTimeout)
	win := d.WaitWindow(t, "^Socketeer: connection request$", dialogTimeout)
	d.Key(t, win, "alt+r")
	d.Key(t, win, "alt+a")
	app.WaitLog(t, regexp.MustCompile(`msg="dialog answered" id=\d+ allow=true remember=true`), dialogTimeout)
	app.WaitLog(t, regexp.MustCompile(`msg="grant remembered"`), dialogTimeout)
	if res := site.WaitResult(t, resultTimeout); res["held"] != true {
		t.Fatalf("the allowed socket did not open: %v", res)
	}
	env := app.Env
	app.Stop(t)
	// The audit log says the user allowed it and chose to remember it.
	audit, err := os.ReadFile(filepath.Join(env["XDG_STATE_HOME"], "socketeer", "audit.log"))
	if err != nil || !strings.Contains(string(audit), `"answer":"allow","remember":true`) {
		t.Fatalf("the audit log does not record the remembered answer (%v):\n%s", err, audit)
	}

	dest := "127.0.0.1:" + strconv.Itoa(echo.Port)
	out, _, code := RunCLI(t, env, "grants", "list", site.URL+"/")
	if code != 0 || !strings.Contains(out, dest) || !strings.Contains(out, "plaintext") {
		t.Fatalf("grants list: %q", out)
	}

	// The remembered destination reconnects without any click.
	again := StartApp(t, d, env, "open", site.URL+page+"&click=0")
	if res := site.WaitResult(t, resultTimeout); res["held"] != true {
		t.Fatalf("the remembered destination did not reconnect: %v", res)
	}
	for _, l := range again.Lines() {
		if strings.Contains(l, `msg="dialog shown"`) {
			t.Fatalf("a remembered destination prompted again: %s", l)
		}
	}
	again.Stop(t)

	if out, errOut, code := RunCLI(t, env, "grants", "revoke", site.URL+"/", dest); code != 0 {
		t.Fatalf("grants revoke: %q %q", out, errOut)
	}
	third := StartApp(t, d, env, "open", site.URL+page)
	gestureClick(t, d, site)
	answerConsent(t, d, third, 0, false)
	if res := site.WaitResult(t, resultTimeout); res["held"] != false || res["error"] != "NotAllowedError" {
		t.Fatalf("after revoking, the page got %v", res)
	}
	if n := stats.Accepted.Load(); n != 2 {
		t.Errorf("the server saw %d connections, want 2 (allowed, then remembered)", n)
	}
}
