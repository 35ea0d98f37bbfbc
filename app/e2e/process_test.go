package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeouts for stopping processes. They are generous because a loaded CI
// machine can take seconds to tear down WebKit's helper processes, and they
// only matter when something is already wrong.
const (
	stopGrace    = 10 * time.Second // from SIGTERM to SIGKILL
	groupTimeout = 10 * time.Second // for the group to vanish after SIGKILL
	drainTimeout = 5 * time.Second  // for the output pipe to reach EOF
	exitGrace    = 2 * time.Second  // for last lines after the process exited
	cliTimeout   = 2 * time.Minute  // for one RunCLI invocation
)

// dirVars are the variables that NewAppDirs fills and StartApp requires; a
// process that got only some of them could still reach the real home.
var dirVars = []string{
	"HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME",
	"XDG_STATE_HOME", "XDG_RUNTIME_DIR", "TMPDIR",
}

// NewAppDirs creates a fresh, private set of home, XDG and temporary
// directories under t.TempDir and returns them as environment variables.
// Passing the same map to StartApp twice restarts the app with the same
// profile, which is how tests check what the app persists. The runtime
// directory has mode 0700 because GLib refuses to use one that others can
// read. TMPDIR is included so that whatever the app or WebKit writes to the
// temporary directory is removed with the test too.
func NewAppDirs(t testing.TB) map[string]string {
	t.Helper()
	root := t.TempDir()
	names := map[string]string{
		"HOME":            "home",
		"XDG_CONFIG_HOME": "config",
		"XDG_DATA_HOME":   "data",
		"XDG_CACHE_HOME":  "cache",
		"XDG_STATE_HOME":  "state",
		// Short on purpose: sockets in the runtime directory must fit the
		// 108-byte limit of a Unix socket path.
		"XDG_RUNTIME_DIR": "run",
		"TMPDIR":          "tmp",
	}
	dirs := map[string]string{}
	for v, name := range names {
		p := filepath.Join(root, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatalf("e2e: %v", err)
		}
		// Mkdir is subject to the umask; Chmod makes the mode exact.
		if err := os.Chmod(p, 0o700); err != nil {
			t.Fatalf("e2e: %v", err)
		}
		dirs[v] = p
	}
	return dirs
}

// withDirs returns a copy of env in which every directory variable is set,
// taking missing ones from a fresh NewAppDirs.
func withDirs(t testing.TB, env map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	var fresh map[string]string
	for _, k := range dirVars {
		if out[k] != "" {
			continue
		}
		if fresh == nil {
			fresh = NewAppDirs(t)
		}
		out[k] = fresh[k]
	}
	return out
}

// App is a running process under test, usually the Socketeer app. Its
// standard output and standard error are read line by line, in the order
// they were written, into a buffer that the Wait* methods search.
type App struct {
	// Name prefixes the process's lines in the test log.
	Name string
	// PID is the process id, which is also its process group id.
	PID int
	// Env holds the variables that were set on top of the inherited
	// environment, including the isolated directories but not DISPLAY.
	// Pass it to StartApp again to restart the app with the same profile.
	Env map[string]string

	t          testing.TB
	cmd        *exec.Cmd
	out        *os.File // read end of the output pipe
	readerDone chan struct{}
	exited     chan struct{}
	waitErr    error

	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced whenever a line arrives
	logOpen bool          // false once t may no longer be logged to

	stopOnce sync.Once
	forced   bool // set by terminate when SIGTERM was not enough
}

// procSpec describes a process for startProcess.
type procSpec struct {
	name       string
	path       string
	args       []string
	env        []string
	dir        string
	extraFiles []*os.File
	quiet      bool // keep lines for WaitLog and failures, but do not t.Log them
}

// startProcess starts a process in its own process group with its output
// captured, and registers a cleanup that kills the whole group. Callers must
// create any t.TempDir the process uses before calling it, because cleanups
// run last-registered first and the directories must outlive the process.
func startProcess(t testing.TB, spec procSpec) *App {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatalf("e2e: pipe: %v", err)
	}
	cmd := exec.Command(spec.path, spec.args...)
	cmd.Env = spec.env
	cmd.Dir = spec.dir
	// One pipe for both streams keeps stdout and stderr lines in the order
	// the process wrote them, which matters when a test reads a log.
	cmd.Stdout = pw
	cmd.Stderr = pw
	cmd.ExtraFiles = spec.extraFiles
	cmd.SysProcAttr = groupAttr()
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		t.Fatalf("e2e: start %s: %v", spec.path, err)
	}
	// Only the child may hold the write end, or EOF would never come.
	pw.Close()
	a := &App{
		Name:       spec.name,
		PID:        cmd.Process.Pid,
		t:          t,
		cmd:        cmd,
		out:        pr,
		readerDone: make(chan struct{}),
		exited:     make(chan struct{}),
		changed:    make(chan struct{}),
		logOpen:    !spec.quiet,
	}
	t.Logf("e2e: started %s (pid %d): %s %s", a.Name, a.PID, spec.path, strings.Join(spec.args, " "))
	go a.read()
	go func() {
		a.waitErr = cmd.Wait()
		close(a.exited)
	}()
	t.Cleanup(func() {
		a.terminate()
		// After this no goroutine may call t.Log, because t may be
		// finished by the time a late line arrives.
		a.mu.Lock()
		a.logOpen = false
		a.mu.Unlock()
	})
	return a
}

// read collects output lines until EOF. It uses bufio.Reader rather than a
// Scanner because a Scanner stops at an overlong line, after which the child
// would block forever on a full pipe.
func (a *App) read() {
	defer close(a.readerDone)
	r := bufio.NewReader(a.out)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			a.addLine(strings.TrimRight(line, "\r\n"))
		}
		if err != nil {
			return
		}
	}
}

func (a *App) addLine(line string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lines = append(a.lines, line)
	close(a.changed)
	a.changed = make(chan struct{})
	if a.logOpen {
		a.t.Logf("%s| %s", a.Name, line)
	}
}

// Mark returns the number of lines read so far. Passing it to WaitLogAfter
// waits for a line that arrives after this call, which lets a test wait for
// the next occurrence of a message it has already seen.
func (a *App) Mark() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.lines)
}

// Lines returns a copy of all lines read so far.
func (a *App) Lines() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.lines...)
}

// WaitLog waits until any line, past or future, matches re and returns the
// submatches of the first such line (index 0 is the whole match). It fails
// the test, showing the last 50 lines, on timeout or when the process exits
// without having written a matching line.
func (a *App) WaitLog(t testing.TB, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	return a.WaitLogAfter(t, 0, re, timeout)
}

// WaitLogAfter is WaitLog restricted to the lines after the first mark
// lines, where mark usually comes from Mark.
func (a *App) WaitLogAfter(t testing.TB, mark int, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	if mark < 0 {
		mark = 0
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	exited := a.exited
	var grace <-chan time.Time
	ended := false
	for {
		a.mu.Lock()
		for i := mark; i < len(a.lines); i++ {
			if m := re.FindStringSubmatch(a.lines[i]); m != nil {
				a.mu.Unlock()
				return m
			}
		}
		mark = len(a.lines)
		changed := a.changed
		a.mu.Unlock()
		if ended {
			// Output usually ends a moment before the exit is reaped; wait
			// for it so that the message can give the exit status.
			select {
			case <-a.exited:
			case <-time.After(exitGrace):
			}
			t.Fatalf("e2e: %s %s before writing a line matching %q\n%s",
				a.Name, a.exitDescription(), re, a.tail(50))
		}
		select {
		case <-changed:
		case <-a.readerDone:
			// No more output can come; scan once more, then give up.
			ended = true
		case <-exited:
			// The process is gone, but a helper that inherited the pipe may
			// keep it open; allow a moment for lines already written.
			exited = nil
			grace = time.After(exitGrace)
		case <-grace:
			ended = true
		case <-timer.C:
			t.Fatalf("e2e: no line of %s matched %q within %s\n%s",
				a.Name, re, timeout, a.tail(50))
		}
	}
}

// tail formats the last n lines for a failure message.
func (a *App) tail(n int) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	start := max(len(a.lines)-n, 0)
	var b strings.Builder
	fmt.Fprintf(&b, "--- last %d of %d lines of %s ---\n", len(a.lines)-start, len(a.lines), a.Name)
	for _, l := range a.lines[start:] {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString("---")
	return b.String()
}

func (a *App) exitDescription() string {
	select {
	case <-a.exited:
		if a.waitErr == nil {
			return "exited with code 0"
		}
		return "exited (" + a.waitErr.Error() + ")"
	default:
		return "closed its output"
	}
}

// Alive reports whether the process has not exited yet.
func (a *App) Alive() bool {
	select {
	case <-a.exited:
		return false
	default:
		return true
	}
}

// Wait waits up to timeout for the process to exit on its own and returns
// its exit code. If it was killed by a signal, the code is -1 and err names
// the signal; if it is still running after timeout, err says so (and the
// process keeps running until Stop or the cleanup).
func (a *App) Wait(timeout time.Duration) (exitCode int, err error) {
	select {
	case <-a.exited:
	case <-time.After(timeout):
		return -1, fmt.Errorf("%s still running after %s", a.Name, timeout)
	}
	return exitStatus(a.cmd.ProcessState, a.waitErr)
}

// exitStatus turns the result of exec's Wait into an exit code and an error
// that is nil exactly when the process exited normally, whatever its code.
func exitStatus(ps *os.ProcessState, waitErr error) (int, error) {
	if ps == nil {
		return -1, waitErr
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, fmt.Errorf("killed by signal %v", ws.Signal())
	}
	var ee *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &ee) {
		return ps.ExitCode(), waitErr
	}
	return ps.ExitCode(), nil
}

// Stop asks the process group to terminate with SIGTERM, kills it with
// SIGKILL if the leader has not exited within 10 s, and waits until no
// process of the group is left. It logs rather than fails when SIGKILL was
// needed, because whether the app handles SIGTERM is for a test to assert
// (with Wait), not for the harness. Stop may be called more than once.
func (a *App) Stop(t testing.TB) {
	t.Helper()
	a.terminate()
}

// terminate does the work of Stop once; the cleanup calls it too.
func (a *App) terminate() {
	a.stopOnce.Do(func() {
		pgid := a.PID
		// Taken before any signal, while the tree is still linked up.
		tree := descendants(a.PID)
		if a.Alive() {
			syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-a.exited:
			case <-time.After(stopGrace):
				a.forced = true
				a.t.Logf("e2e: %s ignored SIGTERM for %s; killing it", a.Name, stopGrace)
			}
		}
		// Even when the leader is gone, helpers it started may still run in
		// its group, so the group is killed regardless.
		if !killGroup(pgid, groupTimeout) {
			a.t.Logf("e2e: process group %d of %s still alive after SIGKILL", pgid, a.Name)
		}
		if !killProcs(tree, groupTimeout) {
			a.t.Logf("e2e: processes started by %s still alive after SIGKILL", a.Name)
		}
		<-a.exited
		select {
		case <-a.readerDone:
		case <-time.After(drainTimeout):
			// A process outside the group holds the pipe; stop reading.
			a.out.Close()
			<-a.readerDone
		}
	})
}

// StartApp starts the app binary (see Binary) on display d with args. Its
// environment is the test's own minus session-specific variables, plus
// DISPLAY=d.Num, LANG=C, NO_AT_BRIDGE=1, isolated directories and env. The
// directory variables (HOME, XDG_*_HOME, XDG_RUNTIME_DIR, TMPDIR) missing from
// env are created fresh under t.TempDir; pass NewAppDirs(t), or a previous
// App's Env, to reuse them. An empty value in env removes that variable. A
// nil d starts the app without any display.
func StartApp(t testing.TB, d *Display, env map[string]string, args ...string) *App {
	t.Helper()
	return startApp(t, Binary(t), d, env, args...)
}

// startApp is StartApp for any binary, so that the harness can be tested
// with a stand-in for the app.
func startApp(t testing.TB, bin string, d *Display, env map[string]string, args ...string) *App {
	t.Helper()
	vars := withDirs(t, env)
	delete(vars, "DISPLAY")
	full := map[string]string{"DISPLAY": ""}
	for k, v := range vars {
		full[k] = v
	}
	name := filepath.Base(bin)
	if d != nil {
		full["DISPLAY"] = d.Num
		name += d.Num
	}
	a := startProcess(t, procSpec{
		name: name,
		path: bin,
		args: args,
		env:  childEnv(full),
		// A working directory inside the profile keeps stray relative
		// writes, and core dumps, out of the source tree.
		dir: vars["HOME"],
	})
	a.Env = vars
	if d != nil {
		// Registered after startProcess's cleanup, so it runs first, while
		// the app's windows are still on screen.
		t.Cleanup(func() { d.saveFailureScreenshot(t) })
	}
	return a
}

// groupCommand prepares a command that runs to completion in a process group of its own, with its
// output collected in the returned buffers.
func groupCommand(ctx context.Context, name string, args, env []string, dir string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.SysProcAttr = groupAttr()
	// On timeout the whole group goes, not only the direct child.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// Wait would otherwise block for as long as a leftover background
	// process keeps the output pipes open.
	cmd.WaitDelay = drainTimeout
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout = &outBuf
	cmd.Stderr = &errBuf
	return cmd, &outBuf, &errBuf
}

// RunCLI runs the app binary with args to completion, for subcommands such
// as "version" or "trust add", and returns what it wrote and its exit code
// (-1 if a signal killed it). The environment follows StartApp's rules, but
// there is no DISPLAY unless env sets one. It fails the test if the command
// runs longer than two minutes.
func RunCLI(t testing.TB, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLI(t, Binary(t), env, args...)
}

func runCLI(t testing.TB, bin string, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	vars := withDirs(t, env)
	full := map[string]string{"DISPLAY": ""}
	for k, v := range vars {
		full[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd, outBuf, errBuf := groupCommand(ctx, bin, args, childEnv(full), vars["HOME"])
	t.Logf("e2e: run %s %s", bin, strings.Join(args, " "))
	err := cmd.Run()
	if cmd.Process != nil {
		killGroup(cmd.Process.Pid, groupTimeout)
	}
	if ctx.Err() != nil {
		t.Fatalf("e2e: %s %s did not finish within %s\nstdout:\n%s\nstderr:\n%s",
			bin, strings.Join(args, " "), cliTimeout, outBuf.String(), errBuf.String())
	}
	if cmd.ProcessState == nil {
		t.Fatalf("e2e: run %s: %v", bin, err)
	}
	code, serr := exitStatus(cmd.ProcessState, err)
	if serr != nil && !errors.Is(serr, exec.ErrWaitDelay) {
		t.Logf("e2e: %s: %v", filepath.Base(bin), serr)
	}
	t.Logf("e2e: exit code %d\nstdout:\n%s\nstderr:\n%s", code, outBuf.String(), errBuf.String())
	return outBuf.String(), errBuf.String(), code
}
