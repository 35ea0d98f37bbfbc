package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// requiredTools are the external programs the harness itself runs. They are
// checked once up front so that a machine without them fails with one clear
// message instead of with a confusing error deep inside some test.
var requiredTools = []string{"Xvfb", "xdotool", "xwininfo", "import", "unshare", "ip"}

// buildTimeout bounds the one-time build of the app. A cold build with
// WebKitGTK takes about 35 s on the reference machine; the margin covers a
// slow CI machine without letting a wedged compiler hang the run forever.
const buildTimeout = 10 * time.Minute

// TestMain checks the environment before any test runs and removes the
// binary built by Binary afterwards, so that nothing is left outside the
// tests' temporary directories.
func TestMain(m *testing.M) {
	if os.Getenv("SOCKETEER_E2E") == "off" {
		fmt.Println("e2e: SOCKETEER_E2E=off, skipping all end-to-end tests")
		os.Exit(0)
	}
	var missing []string
	for _, tool := range requiredTools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		// A silent skip here would let CI go green on a machine that cannot
		// run a single end-to-end test, so this fails unless told otherwise.
		fmt.Fprintf(os.Stderr, "e2e: FAIL: missing on PATH: %s\n"+
			"e2e: install them (apt-get install xvfb xdotool x11-utils imagemagick iproute2 util-linux) "+
			"or set SOCKETEER_E2E=off to skip the end-to-end tests\n",
			strings.Join(missing, ", "))
		os.Exit(1)
	}
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// build holds the result of the one build of the app per test binary. It is
// shared by all tests, which is why it is created outside any t.TempDir and
// removed by TestMain instead.
var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Binary returns the path of the app binary under test, building it on first
// use. The build is lazy so that tests which never start the app (such as
// TestHarnessSelf) neither pay for nor depend on a buildable app. If
// SOCKETEER_BIN is set it must name an existing file, which is used as is.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		build.path, build.err = findOrBuildBinary()
	})
	if build.err != nil {
		t.Fatalf("e2e: no app binary: %v", build.err)
	}
	return build.path
}

func findOrBuildBinary() (string, error) {
	if bin := os.Getenv("SOCKETEER_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return "", err
		}
		st, err := os.Stat(abs)
		if err != nil {
			return "", fmt.Errorf("SOCKETEER_BIN: %w", err)
		}
		if st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("SOCKETEER_BIN=%s is not an executable file", abs)
		}
		return abs, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "socketeer-e2e-bin-")
	if err != nil {
		return "", err
	}
	build.dir = dir
	out := filepath.Join(dir, "socketeer")
	// "go test" puts its own toolchain first on PATH, so this builds with the
	// same Go that runs the tests.
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("go command not found: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "build", "-tags", "desktop,production,webkit2_41", "-o", out, ".")
	cmd.Dir = root
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build in %s: %v\n%s", root, err, output.String())
	}
	fmt.Fprintf(os.Stderr, "e2e: built %s in %s\n", out, time.Since(start).Round(time.Millisecond))
	return out, nil
}

// repoRoot walks up from the working directory, which "go test" sets to the
// package directory, to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// strippedEnvPrefixes lists inherited variables that would leak the
// developer's session into a child: the display, the home and XDG
// directories, the session bus, the locale and the harness's own settings.
// Children get fresh values for the ones they need instead.
var strippedEnvPrefixes = []string{
	"DISPLAY=", "WAYLAND_DISPLAY=", "XAUTHORITY=", "HOME=", "XDG_",
	"DBUS_SESSION_BUS_ADDRESS=", "LANG=", "LANGUAGE=", "LC_", "TMPDIR=",
	"GDK_BACKEND=", "GSETTINGS_BACKEND=", "NO_AT_BRIDGE=", "SOCKETEER_",
}

// childEnv returns the environment for a child process: the test's own
// environment without the variables above, plus LANG=C so that messages are
// stable, NO_AT_BRIDGE=1 so that GTK does not look for an accessibility bus,
// and GSETTINGS_BACKEND=memory so that GTK settings neither read nor write
// the machine's dconf database. Entries of overrides are applied last; an
// empty value removes the variable.
func childEnv(overrides map[string]string) []string {
	vars := map[string]string{}
	for _, kv := range os.Environ() {
		if hasAnyPrefix(kv, strippedEnvPrefixes) {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	vars["LANG"] = "C"
	vars["NO_AT_BRIDGE"] = "1"
	vars["GSETTINGS_BACKEND"] = "memory"
	for k, v := range overrides {
		if v == "" {
			delete(vars, k)
		} else {
			vars[k] = v
		}
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	// A sorted environment makes logged command lines comparable between runs.
	sort.Strings(env)
	return env
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// groupAttr puts a child in its own process group, so that it and everything
// it spawns (WebKit's web and network processes, for example) can be killed
// with one signal. Pdeathsig is a second line of defence: if the test binary
// itself dies without running its cleanups (a panic on -timeout, say), the
// kernel kills the direct child instead of leaving it running.
func groupAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// procEntry is one running process as /proc shows it.
type procEntry struct {
	pid, ppid, pgrp int
	// start is the start time in clock ticks since boot; together with pid
	// it names a process unambiguously, even if the pid is reused later.
	start string
}

// runningProcs lists the processes that are running, leaving out zombies:
// they hold no resources and are reaped by their parent, which the harness
// cannot hurry.
func runningProcs() []procEntry {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var procs []procEntry
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name in parentheses may contain spaces, so fields
		// are counted from the last ')': state, ppid, pgrp, ... starttime.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		pgrp, _ := strconv.Atoi(f[2])
		procs = append(procs, procEntry{pid: pid, ppid: ppid, pgrp: pgrp, start: f[19]})
	}
	return procs
}

// groupAlive reports whether any process of group pgid is still running.
func groupAlive(pgid int) bool {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		// Without /proc, fall back to asking the kernel, which counts zombies.
		return syscall.Kill(-pgid, 0) == nil
	}
	for _, p := range runningProcs() {
		if p.pgrp == pgid {
			return true
		}
	}
	return false
}

// descendants returns the running processes below pid. The process group
// already covers most of them; this also finds those that left the group
// with setsid or setpgid (a sandbox launcher or a D-Bus proxy, say), which
// the group kill alone would miss. It must be called while pid still runs,
// since orphans lose their link to it.
func descendants(pid int) []procEntry {
	procs := runningProcs()
	children := map[int][]procEntry{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p)
	}
	var out []procEntry
	queue := []int{pid}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		for _, c := range children[next] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
	}
	return out
}

// killProcs kills those of procs that still run as the same process (same
// pid and start time) and waits until none does.
func killProcs(procs []procEntry, timeout time.Duration) bool {
	if len(procs) == 0 {
		return true
	}
	stillRunning := func() []int {
		current := map[int]string{}
		for _, p := range runningProcs() {
			current[p.pid] = p.start
		}
		var pids []int
		for _, p := range procs {
			if current[p.pid] == p.start {
				pids = append(pids, p.pid)
			}
		}
		return pids
	}
	for _, pid := range stillRunning() {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	return pollUntil(timeout, func() bool { return len(stillRunning()) == 0 })
}

// killGroup sends SIGKILL to the group and waits until none of its members
// runs any more, so that a test's temporary directories are no longer in use
// when they are removed.
func killGroup(pgid int, timeout time.Duration) bool {
	syscall.Kill(-pgid, syscall.SIGKILL)
	return pollUntil(timeout, func() bool { return !groupAlive(pgid) })
}

// pollInterval is short enough that waiting adds little latency and long
// enough that polling external commands does not load the machine.
const pollInterval = 25 * time.Millisecond

// pollUntil calls cond until it returns true or the timeout passes and
// reports whether it returned true.
func pollUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollInterval)
	}
}
