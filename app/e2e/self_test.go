package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHarnessSelf proves the harness without the app: it drives ordinary X
// clients on a private display, fetches from the test site, round-trips the
// echo server, and runs a shell script in place of the app to check the
// process handling. A failure here means the harness, not the app, is at
// fault.
func TestHarnessSelf(t *testing.T) {
	t.Run("cert", testSelfCert)
	t.Run("site", testSelfSite)
	t.Run("echo", testSelfEcho)
	t.Run("display", testSelfDisplay)
	t.Run("process", testSelfProcess)
}

func testSelfCert(t *testing.T) {
	certPEM, keyPEM, pair, fp := NewTLSCert(t, "localhost", "127.0.0.1", "::1")
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatal("certificate PEM does not decode")
	}
	sum := sha256.Sum256(block.Bytes)
	if want := hex.EncodeToString(sum[:]); fp != want {
		t.Fatalf("fingerprint %s, want %s", fp, want)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(fp) {
		t.Fatalf("fingerprint %q is not 64 lowercase hex digits", fp)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatalf("key does not match certificate: %v", err)
	}
	if !bytes.Equal(pair.Certificate[0], block.Bytes) {
		t.Fatal("tls.Certificate holds a different certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		if err := cert.VerifyHostname(h); err != nil {
			t.Errorf("certificate not valid for %s: %v", h, err)
		}
	}
	if _, _, _, other := NewTLSCert(t); other == fp {
		t.Error("two calls returned the same certificate")
	}
}

func testSelfSite(t *testing.T) {
	const csp = "default-src 'self'; script-src 'self'"
	s := StartSite(t, map[string]string{
		"index.html": "<!doctype html><title>self</title><script src=/app.js></script>",
		"/app.js":    "console.log('hi')",
	}, csp)
	if s.Origin != s.URL || !strings.HasPrefix(s.URL, "https://localhost:") {
		t.Fatalf("URL %q, Origin %q", s.URL, s.Origin)
	}
	if !s.Addr.IP.IsLoopback() {
		t.Fatalf("site listens on %v, not loopback", s.Addr)
	}
	c := s.Client()
	get := func(p string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(s.URL + p)
		if err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != csp {
			t.Errorf("GET %s: CSP %q, want %q", p, got, csp)
		}
		return resp, string(body)
	}
	resp, body := get("/")
	if resp.StatusCode != 200 || !strings.Contains(body, "<title>self</title>") {
		t.Errorf("GET /: %d %q", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("GET /: content type %q", ct)
	}
	resp, _ = get("/app.js")
	if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("GET /app.js: content type %q", ct)
	}
	if resp, _ = get("/missing"); resp.StatusCode != 404 {
		t.Errorf("GET /missing: %d", resp.StatusCode)
	}
	s.SetFile("/later.txt", "later")
	if _, body = get("/later.txt"); body != "later" {
		t.Errorf("GET /later.txt: %q", body)
	}

	// A client that does not trust the site's certificate must fail, or the
	// tests of the app's certificate handling would prove nothing.
	if _, err := http.Get(s.URL + "/"); err == nil {
		t.Error("an untrusting client fetched the site")
	}

	post := func(p, body string) int {
		t.Helper()
		resp, err := c.Post(s.URL+p, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatalf("POST %s: %v", p, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("/log", "hello from the page"); code != http.StatusNoContent {
		t.Errorf("POST /log: %d", code)
	}
	big := strings.Repeat("x", 3<<20)
	if code := post("/result", `{"ok":true,"n":42,"big":"`+big+`"}`); code != http.StatusNoContent {
		t.Errorf("POST /result: %d", code)
	}
	r := s.WaitResult(t, 5*time.Second)
	if r["ok"] != true || r["n"] != float64(42) || r["big"] != big {
		t.Errorf("result %v", r["n"])
	}
	if code := post("/result", `[1,2]`); code != http.StatusBadRequest {
		t.Errorf("POST /result with an array: %d", code)
	}
	msg := expectFatal(t, func(tb testing.TB) { s.WaitResult(tb, 5*time.Second) })
	if !strings.Contains(msg, "POST /result") {
		t.Errorf("bad result reported as %q", msg)
	}
	msg = expectFatal(t, func(tb testing.TB) { s.WaitResult(tb, 50*time.Millisecond) })
	if !strings.Contains(msg, "no result within") {
		t.Errorf("timeout reported as %q", msg)
	}
}

func testSelfEcho(t *testing.T) {
	addr, stats := StartEchoServer(t)
	if !addr.IP.IsLoopback() {
		t.Fatalf("echo server on %v, not loopback", addr)
	}
	if stats.Accepted.Load() != 0 {
		t.Fatal("connections before any dial")
	}
	c, err := net.DialTCP("tcp", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data := make([]byte, 1<<20)
	rand.Read(data)
	// Writing and reading concurrently keeps both socket buffers from
	// filling up, which would deadlock a sequential write-then-read.
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		if err == nil {
			err = c.CloseWrite()
		}
		werr <- err
	}()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read until EOF: %v", err)
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("echoed %d bytes differ from the %d sent", len(got), len(data))
	}
	if !pollUntil(5*time.Second, func() bool { return stats.Closed.Load() == 1 }) {
		t.Fatal("server did not close the connection after the half-close")
	}
	if a, b := stats.Accepted.Load(), stats.Bytes.Load(); a != 1 || b != int64(len(data)) {
		t.Fatalf("stats: %d accepted, %d bytes", a, b)
	}
}

func testSelfDisplay(t *testing.T) {
	d := StartXvfb(t)
	if !regexp.MustCompile(`^:\d+$`).MatchString(d.Num) {
		t.Fatalf("display %q", d.Num)
	}
	other := StartXvfb(t)
	if other.Num == d.Num {
		t.Fatalf("two servers share display %s", d.Num)
	}

	// xmessage (x11-utils) is preferred because a key closes it, which
	// exercises Key and WindowGone; xlogo (x11-apps) only shows a window.
	client, err := exec.LookPath("xmessage")
	if err != nil {
		if client, err = exec.LookPath("xlogo"); err != nil {
			t.Fatal("neither xmessage nor xlogo is installed")
		}
	}
	args := []string{"-title", "harness-self"}
	if filepath.Base(client) == "xmessage" {
		args = append(args, "-default", "okay", "harness self-test")
	}
	msg := startProcess(t, procSpec{
		name: "xmessage", path: client, args: args,
		env: childEnv(map[string]string{"DISPLAY": d.Num}), dir: t.TempDir(),
	})
	win := d.WaitWindow(t, "^harness-self$", 20*time.Second)

	// The window must exist only on its own display.
	if out, _, _ := other.run("xdotool", "search", "--onlyvisible", "--name", "^harness-self$"); strings.TrimSpace(out) != "" {
		t.Fatalf("window found on the other display %s: %s", other.Num, out)
	}

	shot := filepath.Join(t.TempDir(), "screen.png")
	d.Screenshot(t, shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(f)
	f.Close()
	if err != nil || cfg.Width != 1280 || cfg.Height != 800 {
		t.Fatalf("screenshot: %v, %dx%d", err, cfg.Width, cfg.Height)
	}

	if filepath.Base(client) == "xmessage" {
		d.Key(t, win, "Return")
		d.WindowGone(t, win, 20*time.Second)
		if code, err := msg.Wait(20 * time.Second); code != 0 || err != nil {
			t.Fatalf("xmessage exit: %d, %v", code, err)
		}
	}

	// xev prints the input it receives, which shows that clicks and keys
	// arrive as real (non-synthetic) events at the intended coordinates.
	xev, err := exec.LookPath("xev")
	if err != nil {
		t.Log("xev not installed; not checking input delivery")
		return
	}
	ev := startProcess(t, procSpec{
		name: "xev", path: xev,
		args: []string{"-name", "harness-xev", "-geometry", "400x300+0+0", "-event", "keyboard", "-event", "button"},
		env:  childEnv(map[string]string{"DISPLAY": d.Num}), dir: t.TempDir(), quiet: true,
	})
	evWin := d.WaitWindow(t, "^harness-xev$", 20*time.Second)
	mark := ev.Mark()
	d.ClickAt(t, evWin, 200, 150)
	ev.WaitLogAfter(t, mark, regexp.MustCompile(`^ButtonPress event, serial \d+, synthetic NO`), 10*time.Second)
	ev.WaitLogAfter(t, mark, regexp.MustCompile(`subw 0x0, time \d+, \(200,150\)`), 10*time.Second)
	mark = ev.Mark()
	d.Key(t, evWin, "a")
	ev.WaitLogAfter(t, mark, regexp.MustCompile(`^KeyPress event, serial \d+, synthetic NO`), 10*time.Second)
	ev.WaitLogAfter(t, mark, regexp.MustCompile(`keysym 0x61, a\)`), 10*time.Second)
	ev.Stop(t)
	if ev.Alive() {
		t.Fatal("xev alive after Stop")
	}
	d.WindowGone(t, evWin, 10*time.Second)
}

// fakeAppScript stands in for the app: it reports its environment, starts
// two helpers that ignore SIGTERM (as a stuck WebKit process might), one of
// them in a session of its own (as a sandbox launcher might), and exits with
// code 3 on SIGTERM.
const fakeAppScript = `#!/bin/sh
echo "home=$HOME"
echo "config=$XDG_CONFIG_HOME"
echo "runtime=$XDG_RUNTIME_DIR"
echo "tmp=$TMPDIR"
echo "lang=$LANG at=$NO_AT_BRIDGE"
echo "display=${DISPLAY:-none}"
echo "extra=${EXTRA:-unset}"
echo "args=$*"
echo "to stderr" >&2
(trap '' TERM; exec sleep 300) &
echo "helper=$!"
setsid sh -c 'trap "" TERM; exec sleep 301' &
echo "escaped=$!"
trap 'echo "got TERM"; exit 3' TERM
echo ready
while :; do sleep 1; done
`

func testSelfProcess(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "fake-app")
	if err := os.WriteFile(bin, []byte(fakeAppScript), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LC_ALL", "de_DE.UTF-8") // must not reach the child

	a := startApp(t, bin, nil, map[string]string{"EXTRA": "x"}, "one", "two")
	a.WaitLog(t, regexp.MustCompile(`^ready$`), 10*time.Second)
	home := a.WaitLog(t, regexp.MustCompile(`^home=(.+)$`), time.Second)[1]
	runtimeDir := a.WaitLog(t, regexp.MustCompile(`^runtime=(.+)$`), time.Second)[1]
	for _, want := range []string{"lang=C at=1", "display=none", "extra=x", "args=one two", "to stderr"} {
		a.WaitLog(t, regexp.MustCompile("^"+regexp.QuoteMeta(want)+"$"), time.Second)
	}
	if st, err := os.Stat(runtimeDir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("runtime dir %s: %v %v", runtimeDir, st.Mode(), err)
	}
	if a.Env["HOME"] != home || !strings.HasPrefix(home, os.TempDir()) {
		t.Fatalf("home %q, Env %v", home, a.Env)
	}
	helper := a.WaitLog(t, regexp.MustCompile(`^helper=(\d+)$`), time.Second)[1]
	escaped := a.WaitLog(t, regexp.MustCompile(`^escaped=(\d+)$`), time.Second)[1]

	// The timeout path of WaitLog, while the process is alive.
	msg := expectFatal(t, func(tb testing.TB) {
		a.WaitLog(tb, regexp.MustCompile(`never`), 100*time.Millisecond)
	})
	if !strings.Contains(msg, "within") || !strings.Contains(msg, "ready") {
		t.Errorf("timeout reported as %q", msg)
	}

	a.Stop(t)
	if a.Alive() {
		t.Fatal("alive after Stop")
	}
	if code, err := a.Wait(time.Second); code != 3 || err != nil {
		t.Fatalf("exit after SIGTERM: %d, %v", code, err)
	}
	a.WaitLog(t, regexp.MustCompile(`^got TERM$`), time.Second)
	// Both helpers ignored SIGTERM, and one left the process group; Stop
	// must have killed them all the same.
	for _, pid := range []string{helper, escaped} {
		if st, err := os.ReadFile("/proc/" + pid + "/stat"); err == nil && !regexp.MustCompile(`\) [ZX] `).Match(st) {
			t.Fatalf("helper %s survived Stop: %s", pid, st)
		}
	}

	// A restart with the same Env reuses the profile.
	b := startApp(t, bin, nil, a.Env)
	if got := b.WaitLog(t, regexp.MustCompile(`^home=(.+)$`), 10*time.Second)[1]; got != home {
		t.Fatalf("restart home %q, want %q", got, home)
	}
	b.WaitLog(t, regexp.MustCompile(`^extra=x$`), time.Second)
	b.WaitLog(t, regexp.MustCompile(`^ready$`), 10*time.Second)
	// Lines before the mark do not satisfy WaitLogAfter.
	msg = expectFatal(t, func(tb testing.TB) {
		b.WaitLogAfter(tb, b.Mark(), regexp.MustCompile(`^home=`), 100*time.Millisecond)
	})
	if !strings.Contains(msg, "within") {
		t.Errorf("WaitLogAfter found an old line: %q", msg)
	}

	// A process that exits without the line fails WaitLog at once rather
	// than at the timeout.
	quick := filepath.Join(t.TempDir(), "quick")
	os.WriteFile(quick, []byte("#!/bin/sh\necho bye\nexit 5\n"), 0o755)
	c := startApp(t, quick, nil, nil)
	start := time.Now()
	msg = expectFatal(t, func(tb testing.TB) {
		c.WaitLog(tb, regexp.MustCompile(`never`), time.Minute)
	})
	if !strings.Contains(msg, "exited") || !strings.Contains(msg, "bye") || time.Since(start) > 30*time.Second {
		t.Errorf("early exit reported as %q after %s", msg, time.Since(start))
	}
	if code, err := c.Wait(time.Second); code != 5 || err != nil {
		t.Errorf("exit %d, %v", code, err)
	}

	// RunCLI's conventions, with a display given explicitly.
	cli := filepath.Join(t.TempDir(), "cli")
	os.WriteFile(cli, []byte("#!/bin/sh\necho \"out $1 ${DISPLAY:-none} $HOME\"\necho err >&2\nexit 7\n"), 0o755)
	stdout, stderr, code := runCLI(t, cli, a.Env, "arg")
	if want := fmt.Sprintf("out arg none %s\n", home); stdout != want || stderr != "err\n" || code != 7 {
		t.Errorf("RunCLI: %q %q %d, want %q", stdout, stderr, code, want)
	}
	if stdout, _, _ = runCLI(t, cli, map[string]string{"DISPLAY": ":99"}); !strings.Contains(stdout, " :99 ") {
		t.Errorf("RunCLI with DISPLAY: %q", stdout)
	}
}

// fatalRecorder stands in for a test to check the harness's failure paths:
// it records the message and ends the goroutine, as t.Fatalf would.
type fatalRecorder struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fatalRecorder) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

// expectFatal runs fn and returns the message it failed with; it fails t if
// fn returns normally.
func expectFatal(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	f := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.msg == "" {
		t.Fatal("expected the harness to fail the test, but it did not")
	}
	return f.msg
}
