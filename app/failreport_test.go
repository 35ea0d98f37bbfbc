package app

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestWantErrorDialog: a dialog only for a window command that failed, with nobody reading standard
// error (not a terminal) and a display to show it on; never for help, version or usage mistakes.
func TestWantErrorDialog(t *testing.T) {
	for _, c := range []struct {
		kind              failureKind
		terminal, display bool
		want              bool
	}{
		{failureWindow, false, true, true}, // started from a menu: the only case with a dialog
		{failureWindow, true, true, false}, // typed in a terminal, which shows the message
		{failureWindow, false, false, false},
		{failureWindow, true, false, false},
		{failureCommand, false, true, false}, // a script's trust/grants/package call
		{failureCommand, true, true, false},
		{failureUsage, false, true, false},
		{failureUsage, true, true, false},
		{failureNone, false, true, false},
	} {
		if got := wantErrorDialog(c.kind, c.terminal, c.display); got != c.want {
			t.Errorf("kind %d, terminal %v, display %v: dialog %v, want %v", c.kind, c.terminal, c.display, got, c.want)
		}
	}

	failed := errors.New("profile x has a damaged start address")
	cases := []struct {
		args []string
		err  error
		want failureKind
	}{
		{[]string{"--help"}, nil, failureNone},
		{[]string{"version"}, nil, failureNone},
		{[]string{"frobnicate"}, usageErr("unknown command %q", "frobnicate"), failureUsage},
		{[]string{"open"}, usageErr("open takes one https:// address"), failureUsage},
		{[]string{"--profile"}, usageErr("--profile takes one profile ID or name"), failureUsage},
		{[]string{"open", "http://x/"}, &exitError{code: 2, msg: "only https:// sites"}, failureWindow},
		{[]string{"--profile", "x"}, failed, failureWindow},
		{[]string{"-profile", "x"}, failed, failureWindow},
		{[]string{"demo"}, failed, failureWindow},
		{nil, failed, failureWindow},
		{[]string{"trust", "list"}, failed, failureCommand},
		{[]string{"package", "--profile", "x"}, failed, failureCommand},
		{[]string{"profiles"}, failed, failureCommand},
	}
	for _, c := range cases {
		if got := classifyFailure(c.args, c.err); got != c.want {
			t.Errorf("%q (%v): kind %d, want %d", c.args, c.err, got, c.want)
		}
	}

	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	if displaySet(env(nil)) || !displaySet(env(map[string]string{"DISPLAY": ":3"})) ||
		!displaySet(env(map[string]string{"WAYLAND_DISPLAY": "wayland-0"})) {
		t.Error("displaySet")
	}
	// A test's buffer is read by the test: no dialog for it.
	if !writesToTerminal(&strings.Builder{}) {
		t.Error("a buffer counts as nobody reading")
	}
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if writesToTerminal(f) {
		t.Error("a file counts as a terminal")
	}
	if got := dialogText("a\x1b[31m\u202eb\nc\x00"); got != "a[31mb\nc" {
		t.Errorf("dialogText: %q", got)
	}
}

// childEnvVar is the helper child's switch: the test binary, started with it, acts as a Socketeer
// window process (see TestLauncherChildHelper).
const childEnvVar = "SOCKETEER_TEST_LAUNCHED_CHILD"

// TestLauncherChildHelper is not a test: it is the window process TestLauncherReportsChildFailure
// starts, running Main with the arguments the launcher gives.
func TestLauncherChildHelper(t *testing.T) {
	if os.Getenv(childEnvVar) != "1" {
		t.Skip("only run as a child of TestLauncherReportsChildFailure")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(Main(args, os.Stdout, os.Stderr))
}

// TestLauncherReportsChildFailure starts window processes through OpenProfile (with the command
// replaced) and checks what WaitOpened says: a failing Socketeer process's own message, a process
// that failed without one, one whose window came up (it closed the report and runs on), and one that
// ended well (it brought an open window to the front).
func TestLauncherReportsChildFailure(t *testing.T) {
	useTempXDG(t)
	p, err := OpenProfile("https://a.example", "https://a.example/")
	if err != nil {
		t.Fatal(err)
	}
	p.Name = "Device A"
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	l := newLauncher()
	wait := func(id string) error {
		t.Helper()
		res := make(chan error, 1)
		go func() { res <- l.WaitOpened(id) }()
		select {
		case err := <-res:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("WaitOpened did not return")
			return nil
		}
	}
	sh := func(script string) func(*Profile) (*exec.Cmd, error) {
		return func(*Profile) (*exec.Cmd, error) { return exec.Command("/bin/sh", "-c", script), nil }
	}

	// The real thing: this test binary as the window process, with a damaged start address.
	p.StartURL = "http://a.example/"
	if err := p.Save(); err != nil {
		t.Fatal(err)
	}
	l.env = append(os.Environ(), childEnvVar+"=1", errorDialogOff+"=off", "DISPLAY=", "WAYLAND_DISPLAY=")
	l.command = func(p *Profile) (*exec.Cmd, error) {
		return exec.Command(os.Args[0], "-test.run=^TestLauncherChildHelper$", "--", "--profile", p.ID()), nil
	}
	if err := l.OpenProfile(p.ID()); err != nil {
		t.Fatal(err)
	}
	err = wait(p.ID())
	if err == nil || !strings.HasPrefix(err.Error(), "Device A could not be opened: profile "+p.ID()+" has a damaged start address") {
		t.Errorf("damaged profile: %v", err)
	}

	l.env = os.Environ()
	cases := []struct {
		name, script string
		want         string // "" for no error
	}{
		{"message", `echo "socketeer: <b>boom</b>" >&3; echo "socketeer: boom" >&2; exit 1`, "Device A could not be opened: <b>boom</b>"},
		{"usage message", `printf 'socketeer: bad\nRun help\n' >&3; exit 2`, "Device A could not be opened: bad"},
		{"no message", `echo "socketeer: only on stderr" >&2; exit 3`, "Device A could not be opened: Socketeer's window process ended at once (exit status 3)"},
		{"crash", `printf 'panic: oops\n\ngoroutine 1 [running]:\n' >&3; exit 2`, "Device A could not be opened: Socketeer stopped with an internal error (panic: oops)"},
		{"window up", `exec 3>&-; sleep 3; exit 1`, ""},
		{"brought to the front", `exit 0`, ""},
		{"endless report", `head -c 100000 /dev/zero >&3; exit 1`, "Device A could not be opened: Socketeer's window process ended at once (exit status 1)"},
	}
	for _, c := range cases {
		l.command = sh(c.script)
		if err := l.OpenProfile(p.ID()); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		err := wait(p.ID())
		if c.want == "" && err != nil || c.want != "" && (err == nil || err.Error() != c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}

	// The child gets the report pipe and nothing else of the kind.
	l.command = sh(`test "$SOCKETEER_REPORT_FD" = 3 && test -p /dev/fd/3 || { echo "socketeer: fd $SOCKETEER_REPORT_FD" >&3; exit 1; }`)
	l.env = append(os.Environ(), launchReportEnv+"=7")
	if err := l.OpenProfile(p.ID()); err != nil {
		t.Fatal(err)
	}
	if err := wait(p.ID()); err != nil {
		t.Errorf("report pipe: %v", err)
	}
	if err := l.WaitOpened("never-opened"); err != nil {
		t.Errorf("a profile not opened: %v", err)
	}
}
