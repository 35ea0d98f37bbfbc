package e2e

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"socketeer/bindings/selfsigned"
)

// NewTLSCert creates a fresh self-signed ECDSA P-256 server certificate for
// the given DNS names and IP addresses (localhost and 127.0.0.1 if none are
// given). It returns the certificate and key in PEM, the pair ready for a
// tls.Config, and the SHA-256 of the certificate's DER encoding in lowercase
// hex without separators, which is how the app names a certificate to trust.
// A new certificate per test means no test depends on trust another test
// granted.
func NewTLSCert(t testing.TB, hosts ...string) (certPEM, keyPEM []byte, tlsCert tls.Certificate, sha256Hex string) {
	t.Helper()
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1"}
	}
	c, err := selfsigned.New(hosts[0], hosts, 24*time.Hour)
	if err != nil {
		t.Fatalf("e2e: certificate: %v", err)
	}
	sum := sha256.Sum256(c.DER)
	return c.CertPEM, c.KeyPEM, c.TLS, hex.EncodeToString(sum[:])
}

// maxResultBytes bounds a POST /result body; 64 MiB leaves room for tests
// that move bulk data through the page and report it back.
const maxResultBytes = 64 << 20

// SiteServer is an HTTPS test site on loopback, standing in for the remote
// site a user would open in the app. Pages report back to the test by
// POSTing JSON to /result (see WaitResult) and text to /log (copied to the
// test log).
type SiteServer struct {
	// URL is the site's base URL, https://localhost:PORT, without a
	// trailing slash. The name rather than the address is used because
	// that is what a user would type and what the certificate names.
	URL string
	// Origin is the web origin of the site's pages, equal to URL.
	Origin string
	// Fingerprint is the SHA-256 of the site certificate, as NewTLSCert
	// returns it.
	Fingerprint string
	// CertPEM is the site certificate, for tests that trust it from a file.
	CertPEM []byte
	// Addr is the loopback address the server listens on.
	Addr *net.TCPAddr

	srv     *httptest.Server
	results chan map[string]any
	bad     chan error
	// gestures carries the page path of every POST /waiting: a page waiting for a click.
	gestures chan string
	// steps carries the body of every POST /step: a page telling the test how far it got.
	steps chan string
	// clicks carries the page path of every POST /clicked: a waiting page got its click.
	clicks chan string
	// checkpoints carries every POST /checkpoint; the page's request waits until the test lets it go.
	checkpoints chan checkpoint

	mu       sync.Mutex
	files    map[string]string
	handlers map[string]http.Handler
	csp      string
	t        testing.TB
	logOpen  bool
}

// StartSite serves files (URL path → content; "/" falls back to
// "/index.html") over HTTPS on 127.0.0.1 with a fresh certificate for
// localhost and 127.0.0.1. Content types follow the file extension. When csp
// is not empty every response, errors included, carries it as
// Content-Security-Policy, so tests can check that the app's own code works
// under a strict page policy. Responses are marked no-store so that a
// restarted app fetches current content instead of its cache.
func StartSite(t testing.TB, files map[string]string, csp string) *SiteServer {
	t.Helper()
	certPEM, _, cert, fp := NewTLSCert(t, "localhost", "127.0.0.1")
	s := &SiteServer{
		Fingerprint: fp,
		CertPEM:     certPEM,
		results:     make(chan map[string]any, 64),
		gestures:    make(chan string, 64),
		steps:       make(chan string, 64),
		clicks:      make(chan string, 64),
		checkpoints: make(chan checkpoint),
		bad:         make(chan error, 64),
		files:       map[string]string{},
		handlers:    map[string]http.Handler{},
		csp:         csp,
		t:           t,
		logOpen:     true,
	}
	for p, c := range files {
		s.files[cleanPath(p)] = c
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	// Server errors such as failed TLS handshakes go to the test log, where
	// they explain a page that did not load, instead of to stderr.
	s.srv.Config.ErrorLog = log.New(logWriter{s}, "site: ", 0)
	s.srv.StartTLS()
	s.Addr = s.srv.Listener.Addr().(*net.TCPAddr)
	s.URL = fmt.Sprintf("https://localhost:%d", s.Addr.Port)
	s.Origin = s.URL
	t.Cleanup(func() {
		// Close waits for running handlers, after which none can log.
		s.srv.Close()
		s.mu.Lock()
		s.logOpen = false
		s.mu.Unlock()
	})
	t.Logf("e2e: site %s serving %d files", s.URL, len(files))
	return s
}

func cleanPath(p string) string {
	return path.Clean("/" + p)
}

// SetFile adds or replaces a file while the server runs, for tests that
// change the site between two loads.
// WaitGesture waits until a page of the site says it waits for a click (see
// testdata/shared/gesture.js) and returns that page's path.
func (s *SiteServer) WaitGesture(t testing.TB, timeout time.Duration) string {
	t.Helper()
	select {
	case p := <-s.gestures:
		return p
	case <-time.After(timeout):
		t.Fatalf("e2e: no page of %s waited for a click within %v", s.URL, timeout)
		return ""
	}
}

// checkpoint is a page waiting at a named point of its run until the test releases it.
type checkpoint struct {
	name    string
	release chan struct{}
}

// WaitCheckpoint waits for the page to reach a checkpoint and returns its name and the function that
// lets the page go on.
func (s *SiteServer) WaitCheckpoint(t testing.TB, timeout time.Duration) (string, func()) {
	t.Helper()
	select {
	case cp := <-s.checkpoints:
		return cp.name, func() { close(cp.release) }
	case r := <-s.results:
		t.Fatalf("e2e: the page finished instead of reaching a checkpoint: %v", r)
		return "", nil
	case <-time.After(timeout):
		t.Fatalf("e2e: no page of %s reached a checkpoint within %v", s.URL, timeout)
		return "", nil
	}
}

// clicked reports whether a waiting page got its click within timeout.
func (s *SiteServer) clicked(timeout time.Duration) bool {
	select {
	case <-s.clicks:
		return true
	case <-time.After(timeout):
		return false
	}
}

// WaitStep waits for the next step a page posted to /step and returns its text.
func (s *SiteServer) WaitStep(t testing.TB, timeout time.Duration) string {
	t.Helper()
	select {
	case step := <-s.steps:
		t.Logf("e2e: page step %q", step)
		return step
	case <-time.After(timeout):
		t.Fatalf("e2e: no page of %s posted a step within %v", s.URL, timeout)
		return ""
	}
}

func (s *SiteServer) SetFile(p, content string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[cleanPath(p)] = content
}

// Handle serves path with h, ahead of the site's files and its test endpoints, for tests that need
// a live endpoint of their own on the site's origin.
func (s *SiteServer) Handle(p string, h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[cleanPath(p)] = h
}

// Client returns an HTTP client that trusts only this site's certificate.
func (s *SiteServer) Client() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CertPEM)
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
}

func (s *SiteServer) logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logOpen {
		s.t.Logf(format, args...)
	}
}

// logWriter adapts SiteServer.logf for log.Logger.
type logWriter struct{ s *SiteServer }

func (w logWriter) Write(p []byte) (int, error) {
	w.s.logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (s *SiteServer) serve(w http.ResponseWriter, r *http.Request) {
	if s.csp != "" {
		w.Header().Set("Content-Security-Policy", s.csp)
	}
	w.Header().Set("Cache-Control", "no-store")
	p := cleanPath(r.URL.Path)
	s.mu.Lock()
	h := s.handlers[p]
	s.mu.Unlock()
	switch {
	case h != nil:
		h.ServeHTTP(w, r)
	case r.Method == http.MethodPost && p == "/result":
		s.postResult(w, r)
	case r.Method == http.MethodPost && (p == "/waiting" || p == "/step" || p == "/clicked"):
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4096))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		ch := map[string]chan string{"/waiting": s.gestures, "/step": s.steps, "/clicked": s.clicks}[p]
		select {
		case ch <- string(body):
		default:
			// Nobody reads it (tests that click without gestureClick): never block the handler.
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && p == "/checkpoint":
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4096))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		cp := checkpoint{name: string(body), release: make(chan struct{})}
		select {
		case s.checkpoints <- cp:
			select {
			case <-cp.release:
			case <-r.Context().Done():
			}
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && p == "/log":
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		s.logf("site log: %s", strings.TrimRight(string(body), "\n"))
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		s.mu.Lock()
		content, ok := s.files[p]
		if !ok && p == "/" {
			p = "/index.html"
			content, ok = s.files[p]
		}
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Length", fmt.Sprint(len(content)))
		if r.Method == http.MethodGet {
			io.WriteString(w, content)
		}
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// postResult decodes a JSON object and hands it to WaitResult. A body that
// is not a JSON object is reported to WaitResult as an error, so that a
// broken page fails the test at once instead of by timeout.
func (s *SiteServer) postResult(w http.ResponseWriter, r *http.Request) {
	var result map[string]any
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxResultBytes))
	if err := dec.Decode(&result); err != nil || result == nil {
		if err == nil {
			err = errors.New("body is not a JSON object")
		}
		err = fmt.Errorf("POST /result: %w", err)
		select {
		case s.bad <- err:
		default:
		}
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	select {
	case s.results <- result:
		w.WriteHeader(http.StatusNoContent)
	default:
		s.logf("e2e: site result dropped, %d results already unread", cap(s.results))
		http.Error(w, "too many unread results", http.StatusServiceUnavailable)
	}
}

// WaitResult returns the next JSON object a page POSTed to /result, in the
// order they arrived. Numbers are float64, as encoding/json decodes them into
// an interface. It fails the test on timeout or if a page posted a body that
// is not a JSON object.
func (s *SiteServer) WaitResult(t testing.TB, timeout time.Duration) map[string]any {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-s.results:
		return r
	case err := <-s.bad:
		t.Fatalf("e2e: site %s: %v", s.URL, err)
	case <-timer.C:
		t.Fatalf("e2e: site %s: no result within %s", s.URL, timeout)
	}
	return nil
}

// EchoStats counts what an echo server saw. Its counters are atomic so that
// a test can read them while connections are in progress; checking
// Accepted is how a test proves that a refused socket never reached the
// network.
type EchoStats struct {
	Accepted atomic.Int64 // connections accepted
	Closed   atomic.Int64 // connections finished and closed by the server
	Bytes    atomic.Int64 // bytes received (and echoed back)
}

// StartEchoServer starts a TCP echo server on 127.0.0.1. Each connection
// gets back every byte it sends; when the client half-closes, the server
// finishes echoing and then half-closes its own side, so a client can send
// everything, shut down writing and read until EOF. The server and all its
// connections are closed in t.Cleanup.
func StartEchoServer(t testing.TB) (addr *net.TCPAddr, stats *EchoStats) {
	t.Helper()
	stats = &EchoStats{}
	addr = serveLoopback(t, func(c *net.TCPConn) {
		stats.Accepted.Add(1)
		echo(c, stats)
		c.Close()
		stats.Closed.Add(1)
	})
	return addr, stats
}

// serveLoopback accepts TCP connections on 127.0.0.1 and runs handle on each in a goroutine of
// its own. When the test ends it stops accepting, closes the connections still open and waits
// for every handler to return.
func serveLoopback(t testing.TB, handle func(*net.TCPConn)) *net.TCPAddr {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatalf("e2e: listen: %v", err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[*net.TCPConn]struct{}{}
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				handle(c)
				c.Close()
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr)
}

// echo copies c to itself until the client stops sending, then half-closes.
func echo(c *net.TCPConn, stats *EchoStats) {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			stats.Bytes.Add(int64(n))
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if errors.Is(err, io.EOF) {
			c.CloseWrite()
			return
		}
		if err != nil {
			return
		}
	}
}
