package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	// xvfbStartTimeout bounds the wait for Xvfb to report its display.
	xvfbStartTimeout = 20 * time.Second
	// toolTimeout bounds one xdotool, xwininfo or import call; they take
	// milliseconds, so hitting it means the X server is wedged.
	toolTimeout = 30 * time.Second
	// focusTimeout bounds Focus, which retries XSetInputFocus until it
	// sticks.
	focusTimeout = 10 * time.Second
)

// Display is a private Xvfb server. Each app under test gets its own, so
// that window searches, focus and synthetic input of one test can never
// touch another test's windows.
type Display struct {
	// Num is the X display name, such as ":3".
	Num string

	tmp  string // TMPDIR for the X tools, inside t.TempDir
	xvfb *App
}

// StartXvfb starts Xvfb with a 1280x800 24-bit screen on the first free
// display number and returns once the server accepts connections. Xvfb
// picks the number itself and reports it through -displayfd, which avoids
// the race of guessing a free number. TCP is off so the server is reachable
// only through its local socket. The server is stopped in t.Cleanup.
func StartXvfb(t testing.TB) *Display {
	t.Helper()
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	d := &Display{tmp: t.TempDir()}
	// Registered before the process cleanup, so it runs after it: once Xvfb
	// has gone, remove the socket and lock file that only a clean exit
	// removes, so that a killed server leaves nothing in /tmp.
	t.Cleanup(func() {
		if d.xvfb == nil || !d.xvfb.forced || d.Num == "" {
			return
		}
		n := strings.TrimPrefix(d.Num, ":")
		os.Remove(filepath.Join("/tmp/.X11-unix", "X"+n))
		os.Remove(filepath.Join("/tmp", ".X"+n+"-lock"))
	})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("e2e: pipe: %v", err)
	}
	d.xvfb = startProcess(t, procSpec{
		name: "Xvfb",
		path: xvfb,
		// ExtraFiles[0] becomes descriptor 3 in the child.
		args:       []string{"-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset"},
		env:        childEnv(map[string]string{"TMPDIR": d.tmp}),
		dir:        d.tmp,
		extraFiles: []*os.File{w},
		// Xvfb's start-up chatter (keymap warnings) is noise unless it fails.
		quiet: true,
	})
	w.Close()
	defer r.Close()
	type result struct {
		line string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		got <- result{line, err}
	}()
	timer := time.NewTimer(xvfbStartTimeout)
	defer timer.Stop()
	select {
	case res := <-got:
		num := strings.TrimSpace(res.line)
		if _, err := strconv.Atoi(num); err != nil {
			t.Fatalf("e2e: Xvfb reported no display (%q, %v)\n%s", res.line, res.err, d.xvfb.tail(50))
		}
		d.Num = ":" + num
	case <-timer.C:
		t.Fatalf("e2e: Xvfb reported no display within %s\n%s", xvfbStartTimeout, d.xvfb.tail(50))
	}
	d.xvfb.Name = "Xvfb" + d.Num
	t.Logf("e2e: Xvfb (pid %d) serves display %s", d.xvfb.PID, d.Num)
	return d
}

// run runs an X client tool against this display only: DISPLAY is set
// explicitly and temporary files go to the display's own directory.
func (d *Display) run(name string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd, outBuf, errBuf := groupCommand(ctx, name, args, childEnv(map[string]string{
		"DISPLAY":               d.Num,
		"TMPDIR":                d.tmp,
		"MAGICK_TEMPORARY_PATH": d.tmp,
	}), d.tmp)
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s %s: no answer within %s", name, strings.Join(args, " "), toolTimeout)
	} else if err != nil {
		err = fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errBuf.String()))
	}
	return outBuf.String(), errBuf.String(), err
}

// WaitWindow waits until a visible window whose name (title) matches the
// extended regular expression nameRegex exists on this display and returns
// its id as xdotool prints it (decimal). If several match, the first found
// is returned.
func (d *Display) WaitWindow(t testing.TB, nameRegex string, timeout time.Duration) string {
	t.Helper()
	var id string
	found := pollUntil(timeout, func() bool {
		// xdotool exits with 1 when nothing matches, so errors just mean
		// "not yet".
		out, _, _ := d.run("xdotool", "search", "--onlyvisible", "--name", nameRegex)
		if ids := strings.Fields(out); len(ids) > 0 {
			id = ids[0]
			return true
		}
		return false
	})
	if !found {
		t.Fatalf("e2e: no visible window named %q on %s within %s; visible windows: %s",
			nameRegex, d.Num, timeout, d.describeWindows())
	}
	return id
}

// describeWindows lists the visible named windows for failure messages.
func (d *Display) describeWindows() string {
	out, _, _ := d.run("xdotool", "search", "--onlyvisible", "--name", ".")
	var names []string
	for i, id := range strings.Fields(out) {
		if i == 20 {
			names = append(names, "...")
			break
		}
		name, _, _ := d.run("xdotool", "getwindowname", id)
		names = append(names, fmt.Sprintf("%s %q", id, strings.TrimSpace(name)))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Focus gives win the keyboard focus and waits until the server reports it
// there. There is no window manager, so "windowfocus --sync" is not relied
// upon: the focus is set with a plain XSetInputFocus (retried, because it
// fails while a just-mapped window is not viewable yet) and then polled.
func (d *Display) Focus(t testing.TB, win string) {
	t.Helper()
	deadline := time.Now().Add(focusTimeout)
	var lastErr error
	for {
		if _, _, err := d.run("xdotool", "windowfocus", win); err != nil {
			lastErr = err
		}
		if pollUntil(500*time.Millisecond, func() bool { return d.hasFocus(win) }) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("e2e: could not focus window %s on %s within %s (last error: %v)",
				win, d.Num, focusTimeout, lastErr)
		}
	}
}

// hasFocus reports whether the focused window is win or one of its
// descendants; GTK may put the focus on a child window.
func (d *Display) hasFocus(win string) bool {
	want, err := parseWindowID(win)
	if err != nil {
		return false
	}
	out, _, err := d.run("xdotool", "getwindowfocus", "-f")
	if err != nil {
		return false
	}
	cur, err := parseWindowID(strings.TrimSpace(out))
	if err != nil {
		return false
	}
	// Walk up the tree; real window trees are only a few levels deep.
	for range 32 {
		if cur == want {
			return true
		}
		parent, ok := d.parentOf(cur)
		if !ok {
			return false
		}
		cur = parent
	}
	return false
}

var parentRE = regexp.MustCompile(`(?m)^\s*Parent window id: (0x[0-9a-fA-F]+)(.*)$`)

// parentOf returns the parent of window id, or false at the root.
func (d *Display) parentOf(id uint64) (uint64, bool) {
	out, _, err := d.run("xwininfo", "-children", "-id", fmt.Sprint(id))
	if err != nil {
		return 0, false
	}
	m := parentRE.FindStringSubmatch(out)
	if m == nil || strings.Contains(m[2], "root window") {
		return 0, false
	}
	p, err := parseWindowID(m[1])
	return p, err == nil
}

// parseWindowID accepts the decimal ids of xdotool and the hex ids of
// xwininfo.
func parseWindowID(s string) (uint64, error) {
	return strconv.ParseUint(s, 0, 32)
}

// Key focuses win and presses the given keys (xdotool key names such as
// "Return", "Escape", "ctrl+q"). The keys are sent through XTEST, as a real
// keyboard would, and not with "--window", whose synthetic events GTK
// ignores. --clearmodifiers keeps a modifier left pressed by an earlier
// step from changing the keys.
func (d *Display) Key(t testing.TB, win string, keys ...string) {
	t.Helper()
	d.Focus(t, win)
	args := append([]string{"key", "--clearmodifiers"}, keys...)
	if _, _, err := d.run("xdotool", args...); err != nil {
		t.Fatalf("e2e: %v", err)
	}
}

// Type focuses win and types text through XTEST, for filling in fields.
func (d *Display) Type(t testing.TB, win, text string) {
	t.Helper()
	d.Focus(t, win)
	if _, _, err := d.run("xdotool", "type", "--clearmodifiers", "--delay", "10", "--", text); err != nil {
		t.Fatalf("e2e: %v", err)
	}
}

// ClickAt moves the pointer to (x, y) relative to win's top-left corner and
// clicks the left button. Both are XTEST input, which GTK and WebKit treat
// as a real user action (it grants the page user activation).
func (d *Display) ClickAt(t testing.TB, win string, x, y int) {
	t.Helper()
	_, _, err := d.run("xdotool", "mousemove", "--window", win, strconv.Itoa(x), strconv.Itoa(y), "click", "1")
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
}

// WindowGone waits until win no longer exists or is no longer viewable
// (unmapped or hidden), as when a dialog closes.
func (d *Display) WindowGone(t testing.TB, win string, timeout time.Duration) {
	t.Helper()
	var lastErr error
	gone := pollUntil(timeout, func() bool {
		out, stderr, err := d.run("xwininfo", "-id", win)
		if err != nil {
			if strings.Contains(stderr, "No such window") || strings.Contains(stderr, "BadWindow") {
				return true
			}
			lastErr = err
			return false
		}
		return !strings.Contains(out, "Map State: IsViewable")
	})
	if !gone {
		t.Fatalf("e2e: window %s on %s still visible after %s (last error: %v)", win, d.Num, timeout, lastErr)
	}
}

// Screenshot saves the whole screen of the display as an image; the format
// follows path's extension (use .png).
func (d *Display) Screenshot(t testing.TB, path string) {
	t.Helper()
	if _, _, err := d.run("import", "-display", d.Num, "-window", "root", path); err != nil {
		t.Fatalf("e2e: screenshot: %v", err)
	}
}

// saveFailureScreenshot keeps a picture of the screen of a failed test when
// SOCKETEER_E2E_ARTIFACTS names a directory. It is the one place where the
// harness writes outside t.TempDir, and only on request, because the
// picture must outlive the test to be of any use.
func (d *Display) saveFailureScreenshot(t testing.TB) {
	dir := os.Getenv("SOCKETEER_E2E_ARTIFACTS")
	if !t.Failed() || dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("e2e: artifacts: %v", err)
		return
	}
	name := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_")
	path := filepath.Join(dir, fmt.Sprintf("%s-display%s.png", name, strings.TrimPrefix(d.Num, ":")))
	if _, _, err := d.run("import", "-display", d.Num, "-window", "root", path); err != nil {
		t.Logf("e2e: failure screenshot: %v", err)
		return
	}
	t.Logf("e2e: failure screenshot saved to %s", path)
}
