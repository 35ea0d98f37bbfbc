package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// strictCSP is the policy test pages are served with: the bridge must work on pages that allow
// nothing but themselves.
const strictCSP = "default-src 'self'"

// Timeouts are generous because a cold WebKit start on a loaded 2-core machine can take many seconds;
// they bound a failure, they never pace a test.
const (
	pageTimeout   = 90 * time.Second
	dialogTimeout = 60 * time.Second
	resultTimeout = 180 * time.Second
)

var (
	rePageLoaded  = regexp.MustCompile(`msg="page loaded" uri="?https://localhost`)
	reDialogArmed = regexp.MustCompile(`msg="dialog armed" id=(\d+)`)
)

// testdataFiles reads a page from testdata/<dir> into the map StartSite serves.
func testdataFiles(t testing.TB, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	// testdata/shared holds what every page may use (gesture.js).
	for _, root := range []string{filepath.Join("testdata", "shared"), filepath.Join("testdata", dir)} {
		entries, err := os.ReadDir(root)
		if err != nil {
			t.Fatalf("e2e: %v", err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(root, e.Name()))
			if err != nil {
				t.Fatalf("e2e: %v", err)
			}
			files["/"+e.Name()] = string(b)
		}
	}
	return files
}

// openPinnedSite pins the site's certificate with `socketeer trust add`, as a user pins an
// intranet device's, then opens path (with its query) in the real app on a display of its own and
// waits until the page has loaded.
func openPinnedSite(t *testing.T, site *SiteServer, path string) (*Display, *App) {
	t.Helper()
	dirs := pinnedDirs(t, site)
	d := StartXvfb(t)
	app := StartApp(t, d, dirs, "open", site.URL+path)
	app.WaitLog(t, rePageLoaded, pageTimeout)
	return d, app
}

// pinnedDirs makes a fresh set of app folders whose profile for site trusts the site's certificate,
// pinned with `socketeer trust add` as a user would pin an intranet device's.
func pinnedDirs(t *testing.T, site *SiteServer) map[string]string {
	t.Helper()
	dirs := NewAppDirs(t)
	out, errOut, code := RunCLI(t, dirs, "trust", "add", site.URL+"/", site.Fingerprint)
	if code != 0 || !strings.Contains(out, "trusted") {
		t.Fatalf("trust add: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	return dirs
}

// siteTitle matches the title of a test site's window, which always ends with the site's host:port.
var siteTitle = regexp.MustCompile(`localhost:\d+$`)

// clickSite clicks the site window at (x, y) with real X input, which gives the page the user
// activation a socket to a new destination needs (see testdata/shared/gesture.js).
func clickSite(t *testing.T, d *Display, x, y int) {
	t.Helper()
	d.ClickAt(t, waitSiteWindow(t, d), x, y)
}

// waitSiteWindow waits for a test site's window and returns its id.
func waitSiteWindow(t *testing.T, d *Display) string {
	t.Helper()
	var win string
	if !pollUntil(pageTimeout, func() bool {
		for id := range hostileWindows(t, d, siteTitle) {
			win = id
			return true
		}
		return false
	}) {
		t.Fatalf("no site window")
	}
	return win
}

// gestureClick waits until a page of site waits for a click, then clicks the top left of the site
// window, and returns the path of the page that asked.
func gestureClick(t *testing.T, d *Display, site *SiteServer) string {
	t.Helper()
	p := site.WaitGesture(t, pageTimeout)
	// A click that lands while a dialog is still closing over the window is lost; the page says
	// when it got one, and only then is the gesture done.
	for range 5 {
		clickSite(t, d, 8, 8)
		if site.clicked(clickTimeout) {
			return p
		}
		t.Logf("e2e: the page did not get the click within %v; clicking again", clickTimeout)
	}
	t.Fatalf("e2e: the page at %s never got a click", p)
	return p
}

// clickTimeout is how long a page may take to report a click before the test clicks again.
const clickTimeout = 10 * time.Second

// answerConsent waits for the next consent dialog after mark to become answerable, then answers it
// with a real key press: Alt+A presses Allow, Escape denies.
func answerConsent(t *testing.T, d *Display, app *App, mark int, allow bool) int {
	t.Helper()
	app.WaitLogAfter(t, mark, reDialogArmed, dialogTimeout)
	next := app.Mark()
	win := d.WaitWindow(t, "^Socketeer: connection request$", dialogTimeout)
	if allow {
		d.Key(t, win, "alt+a")
	} else {
		d.Key(t, win, "Escape")
	}
	app.WaitLogAfter(t, next, regexp.MustCompile(`msg="dialog answered" id=\d+ allow=`+map[bool]string{true: "true", false: "false"}[allow]), dialogTimeout)
	return app.Mark()
}

// dialogsShown counts the dialogs the app has shown so far.
func dialogsShown(app *App) int {
	n := 0
	for _, l := range app.Lines() {
		if strings.Contains(l, `msg="dialog shown"`) {
			n++
		}
	}
	return n
}

// pageResult is the JSON a test page posted to /result.
type pageResult map[string]any

// get returns the value at path, or nil.
func (r pageResult) get(path ...string) any {
	var v any = map[string]any(r)
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// expect reports an error unless the value at path is want. JSON numbers arrive as float64, so
// integers are compared in that form.
func (r pageResult) expect(t *testing.T, want any, path ...string) {
	t.Helper()
	if n, ok := want.(int); ok {
		want = float64(n)
	}
	if got := r.get(path...); got != want {
		t.Errorf("%v = %v, want %v", path, got, want)
	}
}

// waitPageResult waits for the next page result, logs it and stops the test if the page failed.
func waitPageResult(t *testing.T, site *SiteServer, phase string) map[string]any {
	t.Helper()
	res := site.WaitResult(t, resultTimeout)
	pretty, _ := json.MarshalIndent(res, "", "  ")
	t.Logf("page result:\n%s", pretty)
	if res["fatal"] != nil {
		t.Fatalf("page failed: %v\n%v", res["fatal"], res["stack"])
	}
	if phase != "" && res["phase"] != phase {
		t.Fatalf("page result is phase %v, want %q", res["phase"], phase)
	}
	return res
}
