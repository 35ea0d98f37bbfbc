package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"socketeer/app/debpkg"
	"socketeer/bindings"
)

// The tests in this file check the app as the Debian package installed it. They install and
// remove packages on the machine, so build/scripts/test-packages.sh runs them, with the lock, the
// checks and the clean-up around them, after installing the main package; anywhere else they skip.
func needInstalled(t *testing.T) string {
	t.Helper()
	if os.Getenv("SOCKETEER_PACKAGE_TEST") != "installed" {
		t.Skip("checks the installed package; build/scripts/test-packages.sh runs it (make test)")
	}
	bin := Binary(t)
	if bin != "/usr/bin/socketeer" {
		t.Fatalf("SOCKETEER_BIN is %s, want the installed /usr/bin/socketeer", bin)
	}
	return bin
}

// TestInstalledDemo starts the installed app's demo the way its menu entry's action does and uses
// it as a user would: the socket console loads over HTTPS with its pinned certificate, Return
// in the form asks to connect to the demo's echo service, and the consent dialog appears and is
// answered; the connection then opens, and a line typed into the console comes back from the echo
// service (as the site's own inspector counts it).
func TestInstalledDemo(t *testing.T) {
	needInstalled(t)
	args := desktopExec(t, "/usr/share/applications/socketeer.desktop", "demo")
	if want := []string{"socketeer", "demo"}; strings.Join(args, " ") != strings.Join(want, " ") {
		t.Fatalf("the demo action runs %q, want %q", args, want)
	}
	d := StartXvfb(t)
	app := StartApp(t, d, nil, args[1:]...)
	app.WaitLog(t, regexp.MustCompile(`msg="demo ready"`), pageTimeout)
	app.WaitLog(t, rePageLoaded, pageTimeout)
	win := waitSiteWindow(t, d)
	// The host and port fields are filled in by the page; Tab reaches the host field and Return
	// submits the form with a real key press, which is the user activation a new destination needs.
	mark := app.Mark()
	d.Key(t, win, "Tab", "Return")
	answerConsent(t, d, app, mark, true)
	// The answer reaches the audit log once the decision is final.
	auditPath := filepath.Join(app.Env["XDG_STATE_HOME"], "socketeer", "audit.log")
	want := regexp.MustCompile(`"origin":"https://localhost:\d+".*"verdict":"ask".*"answer":"allow"`)
	if !pollUntil(dialogTimeout, func() bool {
		b, _ := os.ReadFile(auditPath)
		return want.Match(b)
	}) {
		b, _ := os.ReadFile(auditPath)
		t.Errorf("the audit log does not record the allowed connection:\n%s", b)
	}
	// Once connected the page focuses its message field: the line goes out and comes back.
	const line = "socketeer smoke\n"
	d.Type(t, win, strings.TrimSuffix(line, "\n"))
	d.Key(t, win, "Return")
	var last string
	if !pollUntil(dialogTimeout, func() bool {
		sockets, err := inspectSockets(app.Env["XDG_CONFIG_HOME"])
		last = fmt.Sprintf("%+v %v", sockets, err)
		return len(sockets) == 1 && sockets[0].BytesOut == int64(len(line)) && sockets[0].BytesIn == int64(len(line))
	}) {
		t.Errorf("the demo's socket did not echo %q: %s", line, last)
	}
	if !app.Alive() {
		t.Fatalf("the demo exited")
	}
}

// inspectSockets asks the one running site of a profile set for its open sockets, through its
// control socket, as the launcher's inspector does.
func inspectSockets(configHome string) ([]bindings.SocketInfo, error) {
	socks, _ := filepath.Glob(filepath.Join(configHome, "socketeer", "profiles", "*", "control.sock"))
	if len(socks) != 1 {
		return nil, fmt.Errorf("%d control sockets", len(socks))
	}
	c, err := net.DialTimeout("unix", socks[0], 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(`{"op":"sockets"}` + "\n")); err != nil {
		return nil, err
	}
	var resp struct {
		Error   string                `json:"error"`
		Sockets []bindings.SocketInfo `json:"sockets"`
	}
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return nil, err
	}
	if resp.Error != "" {
		return nil, errors.New(resp.Error)
	}
	return resp.Sockets, nil
}

// TestInstalledSitePackage builds a per-site package with the installed app, installs it next to
// the main package, and checks that its menu entry opens the site in the right profile — creating
// it for a user who has none yet — that its pre-grant lets the site connect without a prompt, and
// that removing the package removes the entry, the icon and the policy drop-in.
func TestInstalledSitePackage(t *testing.T) {
	needInstalled(t)
	echoAddr, echoStats := StartEchoServer(t)
	site := StartSite(t, testdataFiles(t, "enterprise"), strictCSP)
	start := fmt.Sprintf("%s/index.html?ports=%d", site.URL, echoAddr.Port)
	dirs := NewAppDirs(t)
	if out, errOut, code := RunCLI(t, dirs, "trust", "add", start, site.Fingerprint); code != 0 {
		t.Fatalf("trust add: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	id := "localhost_" + fmt.Sprint(site.Addr.Port)
	name := "socketeer-site-localhost+" + fmt.Sprint(site.Addr.Port)
	outDir := t.TempDir()
	out, errOut, code := RunCLI(t, dirs, "package", "--profile", id,
		"--grant", fmt.Sprintf("127.0.0.1:%d", echoAddr.Port), "--output", outDir)
	if code != 0 {
		t.Fatalf("package: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	debs, _ := filepath.Glob(filepath.Join(outDir, name+"_*.deb"))
	if len(debs) != 1 {
		t.Fatalf("package wrote %v, want one %s_*.deb; it said %q", debs, name, out)
	}
	if fi, err := os.Stat(debs[0]); err == nil {
		t.Logf("per-site package %s: %d bytes", filepath.Base(debs[0]), fi.Size())
	}

	t.Cleanup(func() { runRoot(t, "dpkg", "--purge", name) })
	runRoot(t, "dpkg", "-i", debs[0])
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Depends}", name).Output(); err != nil || string(out) != "socketeer" {
		t.Errorf("the site package depends on %q (%v), want socketeer", out, err)
	}
	entry := "/usr/share/applications/socketeer-site-" + id + ".desktop"
	dropin := "/etc/socketeer/policy.d/site-" + id + ".json"
	icon := "/usr/share/icons/hicolor/48x48/apps/socketeer-site-" + id + ".png"
	shared := "/usr/share/socketeer/sites/" + id + "/policy.json"
	if target, err := os.Readlink(dropin); err != nil || target != shared {
		t.Errorf("the drop-in %s links to %q (%v), want %s", dropin, target, err, shared)
	}
	for _, f := range []string{entry, dropin, icon} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("the site package did not install %s: %v", f, err)
		}
	}
	if out, err := exec.Command("desktop-file-validate", entry).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("desktop-file-validate %s: %v\n%s", entry, err, out)
	}
	args := desktopExec(t, entry, "")
	if want := []string{"socketeer", "open", start}; strings.Join(args, "\x00") != strings.Join(want, "\x00") {
		t.Fatalf("the entry runs %q, want %q", args, want)
	}
	out, _, _ = RunCLI(t, dirs, "grants", "list", start)
	if !strings.Contains(out, fmt.Sprintf("managed\ttcp addresses 127.0.0.1 ports %d", echoAddr.Port)) {
		t.Errorf("grants list does not show the package's pre-grant:\n%s", out)
	}

	// Started from its menu entry, the site opens in its profile and reaches the pre-granted
	// destination without a consent dialog.
	d := StartXvfb(t)
	app := StartApp(t, d, dirs, args[1:]...)
	app.WaitLog(t, rePageLoaded, pageTimeout)
	// The window has the class the entry names, so the desktop shows it under the site's entry.
	class := desktopValue(t, entry, "Desktop Entry", "StartupWMClass")
	props, _, err := d.run("xprop", "-id", waitSiteWindow(t, d), "-notype", "WM_CLASS")
	if err != nil || !strings.HasPrefix(props, `WM_CLASS = "`+class+`", `) {
		t.Errorf("the site window's class is %q (%v), the entry names %q", props, err, class)
	}
	gestureClick(t, d, site)
	res := site.WaitResult(t, resultTimeout)
	if got, want := fmt.Sprint(res["outcomes"]), fmt.Sprintf("[map[outcome:opened port:%d]]", echoAddr.Port); got != want {
		t.Errorf("the page got %s, want %s", got, want)
	}
	if n := dialogsShown(app); n != 0 {
		t.Errorf("%d consent dialogs shown for a pre-granted destination", n)
	}
	if n := echoStats.Accepted.Load(); n != 1 {
		t.Errorf("the pre-granted destination saw %d connections, want 1", n)
	}
	app.Stop(t)
	if out, _, _ := RunCLI(t, dirs, "profiles"); strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, id+"\t") {
		t.Errorf("after the entry ran, the profiles are %q, want only %s", out, id)
	}

	// A user of the machine who never opened the site gets its profile, with the same ID, on the
	// first start from the menu (its certificate is not pinned for them, so the window says so).
	other := NewAppDirs(t)
	first := StartApp(t, d, other, args[1:]...)
	first.WaitLog(t, regexp.MustCompile(`msg="certificate not trusted" host=localhost`), pageTimeout)
	first.Stop(t)
	if out, _, _ := RunCLI(t, other, "profiles"); !strings.HasPrefix(out, id+"\t") {
		t.Errorf("a new user's first start did not create the profile %s: %q", id, out)
	}

	// Removing the package removes its entry, icon and drop-in, and with them the pre-grant.
	runRoot(t, "dpkg", "-r", name)
	for _, f := range []string{entry, dropin, icon, shared} {
		if _, err := os.Lstat(f); !os.IsNotExist(err) {
			t.Errorf("%s is left after dpkg -r (%v)", f, err)
		}
	}
	out, _, _ = RunCLI(t, dirs, "grants", "list", start)
	if strings.Contains(out, "managed") {
		t.Errorf("the pre-grant outlived the package:\n%s", out)
	}
}

// desktopExec returns the command line of a desktop entry, or of one of its actions, split the way
// a desktop splits it.
func desktopExec(t *testing.T, path, action string) []string {
	t.Helper()
	group := "Desktop Entry"
	if action != "" {
		group = "Desktop Action " + action
	}
	v := desktopValue(t, path, group, "Exec")
	args, err := debpkg.ParseExec(v)
	if err != nil || len(args) == 0 {
		t.Fatalf("e2e: %s: Exec=%s: %v", path, v, err)
	}
	return args
}

// desktopValue returns the raw value of key in group of a desktop entry file.
func desktopValue(t *testing.T, path, group, key string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "[") {
			in = line == "["+group+"]"
			continue
		}
		if v, ok := strings.CutPrefix(line, key+"="); ok && in {
			return v
		}
	}
	t.Fatalf("e2e: %s has no %s in [%s]", path, key, group)
	return ""
}

// runRoot runs a package command (the test runs as root, like make test) and fails on an error.
func runRoot(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	if os.Geteuid() != 0 {
		cmd = exec.Command("sudo", append([]string{name}, args...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
