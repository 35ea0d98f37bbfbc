package e2e

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"socketeer/policy"
)

// The launcher under test: `socketeer` without arguments, driven with real key presses. The page
// logs `launcher view shown view=V items=N` whenever it has shown a view, which is when the test (as a
// person) can act on it.

func reShown(view string, items int) *regexp.Regexp {
	return regexp.MustCompile(`msg="launcher view shown" view=` + view + ` items=` + strconv.Itoa(items) + `$`)
}

// holdSocket opens the hold page in the real app; the user allows its socket to an echo server,
// which it keeps open.
func holdSocket(t *testing.T) (*net.TCPAddr, *EchoStats, *SiteServer, *Display, *App) {
	t.Helper()
	echo, stats := StartEchoServer(t)
	site := StartSite(t, testdataFiles(t, "hold"), strictCSP)
	d, app := openPinnedSite(t, site, "/index.html?port="+strconv.Itoa(echo.Port))
	gestureClick(t, d, site)
	answerConsent(t, d, app, 0, true)
	if res := site.WaitResult(t, resultTimeout); res["held"] != true {
		t.Fatalf("the socket did not open: %v", res)
	}
	return echo, stats, site, d, app
}

// startLauncher starts the launcher with dirs on d and returns it with its window.
func startLauncher(t *testing.T, d *Display, dirs map[string]string) (*App, string) {
	t.Helper()
	l := StartApp(t, d, dirs)
	l.WaitLog(t, regexp.MustCompile(`msg="launcher view shown" view=(list|permissions)`), pageTimeout)
	return l, d.WaitWindow(t, "^Socketeer$", pageTimeout)
}

// profileDir is a profile's config folder.
func profileDir(dirs map[string]string, id string) string {
	return filepath.Join(dirs["XDG_CONFIG_HOME"], "socketeer", "profiles", id)
}

// siteProfileID is the profile ID of a test site on localhost.
func siteProfileID(site *SiteServer) string {
	return "localhost_" + strconv.Itoa(site.Addr.Port)
}

// waitProfileClosed waits until no process holds the profile's instance lock.
func waitProfileClosed(t *testing.T, dirs map[string]string, id string) {
	t.Helper()
	waitUntil(t, "the profile's process to end", pageTimeout, func() bool {
		f, err := os.Open(filepath.Join(profileDir(dirs, id), "instance.lock"))
		if err != nil {
			return true
		}
		defer f.Close()
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			return false
		}
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return true
	})
}

// windowClass reads a window's WM_CLASS.
func windowClass(t *testing.T, d *Display, win string) string {
	t.Helper()
	out, _, err := d.run("xprop", "-id", win, "WM_CLASS")
	if err != nil {
		t.Fatalf("xprop: %v", err)
	}
	return strings.TrimSpace(out)
}

// windowGeometry reads a window's position and size as xdotool reports them.
func windowGeometry(t *testing.T, d *Display, win string) string {
	t.Helper()
	out, _, err := d.run("xdotool", "getwindowgeometry", "--shell", win)
	if err != nil {
		t.Fatalf("xdotool: %v", err)
	}
	var keep []string
	for _, l := range strings.Fields(out) {
		if !strings.HasPrefix(l, "WINDOW=") && !strings.HasPrefix(l, "SCREEN=") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, " ")
}

// addSite adds a site in the launcher with real key presses, as a person does: Ctrl+N, the address,
// Enter looks it up; the certificate is self-signed, so the form offers to trust it, and Enter on
// "Trust" does; then the name field has the focus and Enter adds the profile.
func addSite(t *testing.T, d *Display, l *App, win string, site *SiteServer) {
	t.Helper()
	mark := l.Mark()
	d.Key(t, win, "ctrl+n")
	l.WaitLogAfter(t, mark, reShown("add-form", 0), pageTimeout)
	d.Type(t, win, site.URL+"/")
	mark = l.Mark()
	d.Key(t, win, "Return")
	l.WaitLogAfter(t, mark, reShown("add-preview", 0), pageTimeout)
	mark = l.Mark()
	d.Key(t, win, "Return")
	l.WaitLogAfter(t, mark, reShown("add-preview", 1), pageTimeout)
	mark = l.Mark()
	d.Key(t, win, "Return")
	l.WaitLogAfter(t, mark, regexp.MustCompile(`msg="profile added" profile=`+regexp.QuoteMeta(siteProfileID(site))+` `), pageTimeout)
	l.WaitLogAfter(t, mark, reShown("permissions", 0), pageTimeout)
}

func testIcon(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range 64 {
		img.Set(i, i, color.NRGBA{R: 200, A: 255})
		img.Set(i, 63-i, color.NRGBA{G: 200, A: 255})
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// TestLauncherAddOpenAndIsolate is the launcher's main path, with real key presses: the first run
// lists the demo; Ctrl+N adds a site from its address, whose certificate the user trusts by its
// fingerprint and whose manifest gives a name written as markup (kept as text) and, after an icon
// that is not an image, a real icon (re-encoded); Enter opens the site in a process of its own with
// its own WM class; "Add to menu" writes a desktop entry that matches it; a second start of the
// profile brings the open window to the front instead of opening another; the window's geometry,
// localStorage and cookies persist for the profile and another profile sees none of them; and the
// site page, which tries, reaches none of the launcher's bindings.
func TestLauncherAddOpenAndIsolate(t *testing.T) {
	const markupName = `<b>Lab</b> <img src=x onerror=alert(1)>`
	files := testdataFiles(t, "launcher")
	files["/app.webmanifest"] = `{"name": "` + strings.ReplaceAll(markupName, `"`, `\"`) + `", "icons": [` +
		`{"src": "/big.png", "sizes": "256x256", "type": "image/png"}, {"src": "/icon.png", "sizes": "64x64", "type": "image/png"}]}`
	files["/big.png"] = "<html><script>alert(1)</script></html>"
	files["/icon.png"] = string(testIcon(t))
	site := StartSite(t, files, strictCSP)
	id := siteProfileID(site)
	dirs := NewAppDirs(t)
	d := StartXvfb(t)
	l := StartApp(t, d, dirs)
	l.WaitLog(t, reShown("permissions", 0), pageTimeout)
	win := d.WaitWindow(t, "^Socketeer$", pageTimeout)
	if out, _, _ := RunCLI(t, dirs, "profiles"); !strings.Contains(out, "localhost_47443\tSocketeer demo") {
		t.Fatalf("the first run does not list the demo: %q", out)
	}

	addSite(t, d, l, win, site)

	raw, err := os.ReadFile(filepath.Join(profileDir(dirs, id), "profile.json"))
	if err != nil || !strings.Contains(string(raw), site.Fingerprint) {
		t.Fatalf("profile.json lacks the pin: %s %v", raw, err)
	}
	if out, _, _ := RunCLI(t, dirs, "profiles"); !strings.Contains(out, id+"\t"+markupName+"\t") {
		t.Errorf("the manifest's name was not kept as text: %q", out)
	}
	iconFile, err := os.ReadFile(filepath.Join(profileDir(dirs, id), "icon.png"))
	if err != nil {
		t.Fatalf("no icon: %v", err)
	}
	if img, err := png.Decode(bytes.NewReader(iconFile)); err != nil || img.Bounds().Dx() != 128 || bytes.Equal(iconFile, []byte(files["/icon.png"])) {
		t.Errorf("the icon was not re-encoded: %v", err)
	}

	// Enter on the list opens the selected profile.
	mark := l.Mark()
	d.Key(t, win, "Return")
	l.WaitLogAfter(t, mark, regexp.MustCompile(`msg="profile started" profile=`+regexp.QuoteMeta(id)+` `), pageTimeout)
	res := site.WaitResult(t, resultTimeout)
	if res["local"] != nil || res["cookie"] != "" {
		t.Fatalf("a new profile already had data: %v", res)
	}
	reach, _ := res["reach"].(map[string]any)
	if reach["go"] != "undefined" || reach["runtime"] != "undefined" || reach["external"] != "undefined" ||
		fmt.Sprint(reach["posts"]) != "[TypeError TypeError]" || reach["direct"] != "TypeError" || reach["callback"] != nil {
		t.Errorf("the site page reached Wails or the launcher: %v", reach)
	}
	siteWin := hostileSiteWindow(t, d, site)
	class := "socketeer-site-" + id
	if got := windowClass(t, d, siteWin); got != fmt.Sprintf(`WM_CLASS(STRING) = "%s", "%s"`, class, class) {
		t.Errorf("site window class: %s", got)
	}
	if got := windowClass(t, d, win); got != `WM_CLASS(STRING) = "socketeer", "socketeer"` {
		t.Errorf("launcher window class: %s", got)
	}

	// "Add to menu": the third button after the list.
	mark = l.Mark()
	d.Key(t, win, "Tab", "Tab", "Tab", "Return")
	entry := l.WaitLogAfter(t, mark, regexp.MustCompile(`msg="desktop entry written" profile=\S+ path=(\S+)`), pageTimeout)
	b, err := os.ReadFile(entry[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\nExec=" + Binary(t) + " --profile " + id + "\n",
		"\nStartupWMClass=" + class + "\n",
		"\nIcon=" + filepath.Join(profileDir(dirs, id), "icon.png") + "\n",
		"\nName=" + markupName + "\n",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the desktop entry lacks %q:\n%s", want, b)
		}
	}
	if !strings.HasPrefix(entry[1], filepath.Join(dirs["XDG_DATA_HOME"], "applications")+"/") {
		t.Errorf("desktop entry at %s", entry[1])
	}
	// Back to the list.
	d.Key(t, win, "shift+Tab", "shift+Tab", "shift+Tab")

	// A second start of the open profile brings its window to the front and ends.
	d.Focus(t, win)
	mark = l.Mark()
	second := StartApp(t, d, dirs, "--profile", id)
	second.WaitLog(t, regexp.MustCompile(`msg="the profile is already open; its window was brought to the front"`), pageTimeout)
	if code, err := second.Wait(pageTimeout); code != 0 || err != nil {
		t.Errorf("second start: code %d, %v", code, err)
	}
	l.WaitLogAfter(t, mark, regexp.MustCompile(`msg="window brought to the front"`), pageTimeout)
	if !pollUntil(pageTimeout, func() bool { return d.hasFocus(siteWin) }) {
		t.Error("the open window did not get the focus")
	}
	host := regexp.MustCompile(regexp.QuoteMeta(strings.TrimPrefix(site.Origin, "https://")) + "$")
	if n := len(hostileWindows(t, d, host)); n != 1 {
		t.Errorf("%d windows show the site", n)
	}

	// The window comes back where the user left it.
	mark = l.Mark()
	if _, _, err := d.run("xdotool", "windowsize", siteWin, "900", "600", "windowmove", siteWin, "60", "40"); err != nil {
		t.Fatal(err)
	}
	l.WaitLogAfter(t, mark, regexp.MustCompile(`msg="window geometry saved" x=60 y=40 width=900 height=600`), pageTimeout)
	left := windowGeometry(t, d, siteWin)
	// The site's process ends (as when the user quits it); it was started by the launcher, so the
	// test finds it through its window.
	out, _, err := d.run("xdotool", "getwindowpid", siteWin)
	pid, perr := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || perr != nil {
		t.Fatalf("site window pid: %q %v %v", out, err, perr)
	}
	syscall.Kill(pid, syscall.SIGTERM)
	waitProfileClosed(t, dirs, id)

	// Reopened from the launcher: storage and cookies persisted, and the window is where it was.
	mark = l.Mark()
	d.Key(t, win, "Return")
	l.WaitLogAfter(t, mark, regexp.MustCompile(`msg="site window ready".* profile=`+regexp.QuoteMeta(id)), pageTimeout)
	res = site.WaitResult(t, resultTimeout)
	if res["local"] != "remembered" || res["cookie"] != "c=remembered" {
		t.Errorf("after reopening, the profile remembered %v", res)
	}
	siteWin = hostileSiteWindow(t, d, site)
	var now string
	if !pollUntil(pageTimeout, func() bool { now = windowGeometry(t, d, siteWin); return now == left }) {
		t.Errorf("window geometry %q, want %q", now, left)
	}

	// Another profile on the same host sees none of it (cookies ignore ports: only separate
	// profiles keep them apart).
	other := StartSite(t, testdataFiles(t, "storage"), strictCSP)
	if _, _, code := RunCLI(t, dirs, "trust", "add", other.URL+"/", other.Fingerprint); code != 0 {
		t.Fatal("trust add failed")
	}
	StartApp(t, d, dirs, "open", other.URL+"/index.html")
	if res := other.WaitResult(t, resultTimeout); res["local"] != nil || res["cookie"] != "" {
		t.Errorf("another profile saw this one's storage: %v", res)
	}

	// Nothing the site page tried removed a profile.
	out, _, _ = RunCLI(t, dirs, "profiles")
	for _, want := range []string{id, "localhost_47443"} {
		if !strings.Contains(out, want) {
			t.Errorf("profile %s is gone: %q", want, out)
		}
	}
	if !l.Alive() {
		t.Error("the launcher exited")
	}
}

// TestLauncherRevokeAndRemove shows the organisation's rules for a site as managed on its
// permissions page, revokes a remembered connection there (the site must ask again), renames the
// profile, then removes it: Escape cancels, an open profile is refused, and confirming deletes its
// folders.
func TestLauncherRevokeAndRemove(t *testing.T) {
	echo, stats := StartEchoServer(t)
	site := StartSite(t, testdataFiles(t, "hold"), strictCSP)
	dirs := pinnedDirs(t, site)
	id := siteProfileID(site)
	host, _ := policy.ParseHost("127.0.0.1")
	gr, err := policy.NewGrant(policy.Request{Origin: site.Origin, Protocol: policy.TCP, Mode: policy.Connect, Host: host, Port: echo.Port}, "2026-11-25T10:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	g := policy.Grants{Version: policy.GrantsVersion}
	g.Add(gr)
	if err := os.WriteFile(filepath.Join(profileDir(dirs, id), "grants.json"), g.Encode(), 0o600); err != nil {
		t.Fatal(err)
	}
	d := StartXvfb(t)
	// The site sorts before the demo, so it is selected, and its permissions page lists the grant
	// and the organisation's two rules for it (a third is for another site).
	l := startWithPolicy(t, d, dirs, map[string]string{"policy.json": fmt.Sprintf(`{
  "preGrants": [{"origins": [%q], "hosts": ["printer.corp.example"], "ports": ["9100"]},
                {"origins": ["https://other.example"], "hosts": ["x.example"]}],
  "blockDestinations": [{"cidrs": ["10.66.0.0/16"]}]
}`, site.Origin)})
	l.WaitLog(t, reShown("managed", 2), pageTimeout)
	l.WaitLog(t, reShown("permissions", 1), pageTimeout)
	win := d.WaitWindow(t, "^Socketeer$", pageTimeout)

	// From the list: Open, Edit, Add to menu, Remove, the Permissions tab, then the grant's Revoke.
	mark := l.Mark()
	d.Key(t, win, "Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Return")
	l.WaitLogAfter(t, mark, regexp.MustCompile(`msg="grant revoked" profile=`+regexp.QuoteMeta(id)+` destination=127.0.0.1:`+strconv.Itoa(echo.Port)), pageTimeout)
	l.WaitLogAfter(t, mark, reShown("permissions", 0), pageTimeout)
	if out, _, _ := RunCLI(t, dirs, "grants", "list", site.URL+"/"); !strings.Contains(out, "no remembered connections") {
		t.Fatalf("after revoking: %q", out)
	}
	// The page follows changes made elsewhere without being touched: a grant remembered in the
	// site's window (here written as that window writes it) appears, and one revoked from the
	// command line goes.
	mark = l.Mark()
	if err := os.WriteFile(filepath.Join(profileDir(dirs, id), "grants.json"), g.Encode(), 0o600); err != nil {
		t.Fatal(err)
	}
	l.WaitLogAfter(t, mark, reShown("permissions", 1), pageTimeout)
	mark = l.Mark()
	if _, _, code := RunCLI(t, dirs, "grants", "revoke", site.URL+"/", "127.0.0.1:"+strconv.Itoa(echo.Port)); code != 0 {
		t.Fatalf("grants revoke: exit %d", code)
	}
	l.WaitLogAfter(t, mark, reShown("permissions", 0), pageTimeout)

	// Edit: revoking the last grant left the focus on the Permissions tab; Edit is three buttons
	// back. The name field has the focus. (Choosing an icon file goes through the desktop's file
	// chooser; TestLauncherChooseIcon covers what happens to the file.)
	mark = l.Mark()
	d.Key(t, win, "shift+Tab", "shift+Tab", "shift+Tab", "Return")
	l.WaitLogAfter(t, mark, reShown("edit", 1), pageTimeout)
	d.Key(t, win, "ctrl+a")
	d.Type(t, win, "Lab printer")
	d.Key(t, win, "Return")
	l.WaitLogAfter(t, mark, regexp.MustCompile(`msg="profile updated" profile=`+regexp.QuoteMeta(id)+`$`), pageTimeout)
	if out, _, _ := RunCLI(t, dirs, "profiles"); !strings.Contains(out, id+"\tLab printer\t") {
		t.Errorf("after renaming: %q", out)
	}

	// The next connection asks again; the user denies it.
	app := StartApp(t, d, dirs, "open", site.URL+"/index.html?port="+strconv.Itoa(echo.Port))
	app.WaitLog(t, rePageLoaded, pageTimeout)
	gestureClick(t, d, site)
	answerConsent(t, d, app, 0, false)
	if res := site.WaitResult(t, resultTimeout); res["held"] != false || res["error"] != "NotAllowedError" {
		t.Fatalf("after revoking, the page got %v", res)
	}
	if n := stats.Accepted.Load(); n != 0 {
		t.Errorf("the destination saw %d connections", n)
	}

	// Remove: Escape cancels; while the site is open, removing is refused.
	mark = l.Mark()
	d.Key(t, win, "Delete")
	l.WaitLogAfter(t, mark, reShown("remove", 1), pageTimeout)
	d.Key(t, win, "Escape")
	mark = l.Mark()
	d.Key(t, win, "Delete")
	l.WaitLogAfter(t, mark, reShown("remove", 1), pageTimeout)
	d.Key(t, win, "Tab", "Return")
	l.WaitLogAfter(t, mark, regexp.MustCompile(`msg="profile not removed: its window is open" profile=`+regexp.QuoteMeta(id)+`$`), pageTimeout)
	if _, err := os.Stat(profileDir(dirs, id)); err != nil {
		t.Fatalf("the open profile lost its folder: %v", err)
	}
	d.Key(t, win, "Escape")
	app.Stop(t)
	waitProfileClosed(t, dirs, id)

	mark = l.Mark()
	d.Key(t, win, "Delete")
	l.WaitLogAfter(t, mark, reShown("remove", 1), pageTimeout)
	d.Key(t, win, "Tab", "Return")
	l.WaitLogAfter(t, mark, regexp.MustCompile(`msg="profile removed" profile=`+regexp.QuoteMeta(id)+`$`), pageTimeout)
	for _, dir := range []string{profileDir(dirs, id),
		filepath.Join(dirs["XDG_DATA_HOME"], "socketeer", "profiles", id),
		filepath.Join(dirs["XDG_CACHE_HOME"], "socketeer", "profiles", id)} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s survived the removal: %v", dir, err)
		}
	}
	if out, _, _ := RunCLI(t, dirs, "profiles"); strings.Contains(out, id) || !strings.Contains(out, "localhost_47443") {
		t.Errorf("profiles after removal: %q", out)
	}
}

// TestLauncherInspector sees a site's open socket in the launcher's inspector and closes it from
// there with a key press: the server sees the connection end, the site's own process logs it, and
// the inspector then lists no socket.
func TestLauncherInspector(t *testing.T) {
	echo, stats, site, d, app := holdSocket(t)
	l, win := startLauncher(t, d, app.Env)
	l.WaitLog(t, reShown("permissions", 0), pageTimeout)

	// Tab to the Permissions tab, then the arrow key switches to Connections.
	mark := l.Mark()
	d.Key(t, win, "Tab", "Tab", "Tab", "Tab", "Tab", "Right")
	l.WaitLogAfter(t, mark, reShown("activity", 1), pageTimeout)
	mark = l.Mark()
	d.Key(t, win, "Tab", "Return")
	app.WaitLog(t, regexp.MustCompile(`msg="socket closed by the user" destination=127.0.0.1:`+strconv.Itoa(echo.Port)), pageTimeout)
	waitUntil(t, "the server to see the connection end", pageTimeout, func() bool { return stats.Closed.Load() == 1 })
	l.WaitLogAfter(t, mark, reShown("activity", 0), pageTimeout)
	if !app.Alive() {
		t.Error("the site's process exited")
	}

	// A second launcher brings the first to the front instead of opening another.
	d.Focus(t, hostileSiteWindow(t, d, site))
	second := StartApp(t, d, app.Env)
	second.WaitLog(t, regexp.MustCompile(`msg="the launcher is already open; its window was brought to the front"`), pageTimeout)
	if code, err := second.Wait(pageTimeout); code != 0 || err != nil {
		t.Errorf("second launcher: code %d, %v", code, err)
	}
	if !pollUntil(pageTimeout, func() bool { return d.hasFocus(win) }) {
		t.Error("the launcher did not get the focus")
	}
}

// TestLauncherOpensDemo: on a first run the demo is the launcher's one profile, and opening it
// starts the demo's own servers with its window.
func TestLauncherOpensDemo(t *testing.T) {
	d := StartXvfb(t)
	l, win := startLauncher(t, d, NewAppDirs(t))
	l.WaitLog(t, reShown("list", 1), pageTimeout)
	mark := l.Mark()
	d.Key(t, win, "Return")
	l.WaitLogAfter(t, mark, regexp.MustCompile(`msg="profile started" profile=localhost_47443 `), pageTimeout)
	l.WaitLogAfter(t, mark, regexp.MustCompile(`msg="demo ready"`), pageTimeout)
	l.WaitLogAfter(t, mark, rePageLoaded, pageTimeout)
	if !pollUntil(pageTimeout, func() bool {
		return len(hostileWindows(t, d, regexp.MustCompile(`^Socket console — localhost:\d+$`))) == 1
	}) {
		t.Errorf("no demo window; visible windows: %s", d.describeWindows())
	}
}
