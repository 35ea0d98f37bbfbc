package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestConsentDialogGuards attacks the consent dialog the way a page would try to get a connection
// past the user: a key press that lands before the dialog is armed must do nothing (threat: timed
// clicks and key presses), Enter must pick the default, which is Deny, Escape must deny, and so must
// a dialog whose window is closed.
// Only the attempt the user allows reaches the server.
func TestConsentDialogGuards(t *testing.T) {
	echo, stats := StartEchoServer(t)
	other, otherStats := StartEchoServer(t)
	site := StartSite(t, testdataFiles(t, "guards"), strictCSP)
	dirs := pinnedDirs(t, site)
	// A long arming delay makes "pressed before the dialog armed" certain, not a race.
	dirs["SOCKETEER_DIALOG_ARM_MS"] = "4000"
	d := StartXvfb(t)
	app := StartApp(t, d, dirs, "open", site.URL+"/index.html?port="+strconv.Itoa(echo.Port)+"&port2="+strconv.Itoa(other.Port))
	app.WaitLog(t, rePageLoaded, pageTimeout)

	// 1: Alt+A before arming does nothing; Escape then denies.
	gestureClick(t, d, site)
	shown := app.WaitLog(t, regexp.MustCompile(`msg="dialog shown" kind=consent id=(\d+)`), dialogTimeout)
	win := d.WaitWindow(t, "^Socketeer: connection request$", dialogTimeout)
	early := app.Mark()
	d.Key(t, win, "alt+a")
	app.WaitLogAfter(t, early, regexp.MustCompile(`msg="dialog armed" id=`+shown[1]+`\b`), dialogTimeout)
	for _, l := range app.Lines()[early:] {
		if strings.Contains(l, `msg="dialog answered"`) {
			t.Fatalf("a key press before the dialog armed answered it: %s", l)
		}
	}
	mark := app.Mark()
	d.Key(t, win, "Escape")
	app.WaitLogAfter(t, mark, regexp.MustCompile(`msg="dialog answered" id=`+shown[1]+` allow=false`), dialogTimeout)

	// 2: Enter takes the default button, Deny.
	mark = app.Mark()
	gestureClick(t, d, site)
	app.WaitLogAfter(t, mark, reDialogArmed, dialogTimeout)
	win = d.WaitWindow(t, "^Socketeer: connection request$", dialogTimeout)
	next := app.Mark()
	d.Key(t, win, "Return")
	app.WaitLogAfter(t, next, regexp.MustCompile(`msg="dialog answered" id=\d+ allow=false`), dialogTimeout)

	// 3: Allow, once armed.
	mark = app.Mark()
	gestureClick(t, d, site)
	answerConsent(t, d, app, mark, true)

	// 4: the dialog's window goes away without an answer: a denial.
	mark = app.Mark()
	gestureClick(t, d, site)
	app.WaitLogAfter(t, mark, reDialogArmed, dialogTimeout)
	win = d.WaitWindow(t, "^Socketeer: connection request$", dialogTimeout)
	next = app.Mark()
	if _, _, err := d.run("xdotool", "windowclose", win); err != nil {
		t.Fatal(err)
	}
	app.WaitLogAfter(t, next, regexp.MustCompile(`msg="dialog answered" id=\d+ allow=false`), dialogTimeout)

	res := site.WaitResult(t, resultTimeout)
	if got := fmt.Sprint(res["outcomes"]); got != "[NotAllowedError NotAllowedError opened NotAllowedError]" {
		t.Errorf("outcomes = %s", got)
	}
	if n := stats.Accepted.Load(); n != 1 {
		t.Errorf("the server saw %d connections, want 1 (only the allowed one)", n)
	}
	if n := otherStats.Accepted.Load(); n != 0 {
		t.Errorf("the destination whose dialog was closed saw %d connections", n)
	}
}

// TestPinFromCertificateError opens a site whose self-signed certificate nobody pinned: the window
// shows the fingerprint, the native prompt pins exactly that certificate for that host when the user
// trusts it, the site loads, and the pin is in the profile.
func TestPinFromCertificateError(t *testing.T) {
	site := StartSite(t, map[string]string{"/index.html": "<!doctype html><title>pinned</title><p>ok</p>"}, strictCSP)
	dirs := NewAppDirs(t)
	d := StartXvfb(t)
	app := StartApp(t, d, dirs, "open", site.URL+"/index.html")
	app.WaitLog(t, regexp.MustCompile(`msg="certificate not trusted" host=localhost sha256=`+site.Fingerprint), pageTimeout)
	app.WaitLog(t, regexp.MustCompile(`msg="dialog shown" kind=certificate`), dialogTimeout)
	for _, l := range app.Lines() {
		if rePageLoaded.MatchString(l) {
			t.Fatalf("the site loaded before its certificate was trusted: %s", l)
		}
	}
	app.WaitLog(t, reDialogArmed, dialogTimeout)
	win := d.WaitWindow(t, "^Socketeer: untrusted certificate$", dialogTimeout)
	d.Key(t, win, "alt+t")
	app.WaitLog(t, rePageLoaded, pageTimeout)
	out, _, code := RunCLI(t, dirs, "trust", "list", site.URL+"/")
	if code != 0 || !strings.Contains(out, "localhost\t"+site.Fingerprint) {
		t.Errorf("trust list after pinning: %q", out)
	}
}

// TestNoDisplay checks that the binary started without a display says so, instead of dying in GTK.
func TestNoDisplay(t *testing.T) {
	dirs := NewAppDirs(t)
	_, errOut, code := RunCLI(t, dirs, "open", "https://localhost:9/")
	if code == 0 || !strings.Contains(errOut, "no graphical display") {
		t.Errorf("code %d, stderr %q", code, errOut)
	}
}

// TestWebProcessCrashClosesSockets kills the page's web process while a socket is open: the socket
// must not outlive its page (threat: a connection the user can no longer see or close), and the app
// stays up.
func TestWebProcessCrashClosesSockets(t *testing.T) {
	_, stats, _, _, app := holdSocket(t)
	if n := stats.Closed.Load(); n != 0 {
		t.Fatalf("%d connections closed before the crash", n)
	}
	out, err := exec.Command("pgrep", "-P", strconv.Itoa(app.PID), "WebKitWebProces").Output()
	if err != nil {
		t.Fatalf("no web process found: %v", err)
	}
	pid, _ := strconv.Atoi(strings.Fields(string(out))[0])
	mark := app.Mark()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	app.WaitLogAfter(t, mark, regexp.MustCompile(`msg="web process terminated"`), pageTimeout)
	waitUntil(t, "the held connection to close", pageTimeout, func() bool { return stats.Closed.Load() == 1 })
	if !app.Alive() {
		t.Fatalf("the app died with its web process")
	}
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestProfileStoragePersists checks that a profile keeps its site's cookies across runs, and that
// WebKit keeps the profile's data in the profile's own folders rather than in a place shared by all
// profiles.
func TestProfileStoragePersists(t *testing.T) {
	site := StartSite(t, testdataFiles(t, "storage"), strictCSP)
	d, app := openPinnedSite(t, site, "/index.html")
	if res := site.WaitResult(t, resultTimeout); res["local"] != nil || res["cookie"] != "" {
		t.Fatalf("a new profile already had data: %v", res)
	}
	env := app.Env
	app.Stop(t)
	again := StartApp(t, d, env, "open", site.URL+"/index.html")
	again.WaitLog(t, rePageLoaded, pageTimeout)
	res := site.WaitResult(t, resultTimeout)
	if res["cookie"] != "c=remembered" {
		t.Errorf("after a restart the profile remembered %v", res)
	}
	root := filepath.Join(env["XDG_DATA_HOME"], "socketeer")
	if matches, _ := filepath.Glob(filepath.Join(root, "profiles", "localhost_*", "cookies.sqlite")); len(matches) != 1 {
		t.Errorf("cookies are not in the profile's folder: %v", matches)
	}
	if matches, _ := filepath.Glob(filepath.Join(root, "profiles", "localhost_*", "webkit")); len(matches) != 1 {
		t.Errorf("WebKit data is not in the profile's folder: %v", matches)
	}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if e.Name() != "profiles" {
			t.Errorf("%s holds %s outside any profile", root, e.Name())
		}
	}
}
