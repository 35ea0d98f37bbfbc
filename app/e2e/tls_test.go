package e2e

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"socketeer/bindings/selfsigned"
)

// TestTLSSockets is issue 5 end to end in the real app: the app trusts a test CA as a system root
// (SSL_CERT_FILE), and its profile pins one self-signed, expired certificate for 127.0.0.1. The
// page opens TLS sockets in both API shapes, gets a pinned certificate accepted, gets the expired,
// wrong-host, unknown-CA and dropped handshakes refused with a NetworkError that says why, measures
// TLS throughput next to plaintext, and upgrades an IMAP conversation with STARTTLS. The three
// consent dialogs are answered with real key presses and must say whether the connection is
// encrypted.
func TestTLSSockets(t *testing.T) {
	ca, err := selfsigned.NewCA("Socketeer e2e CA", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "roots.pem")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	issue := func(hosts []string, from, to time.Time) selfsigned.Cert {
		c, err := ca.Issue(hosts[0], hosts, from, to)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	good := issue([]string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour))
	expired := issue([]string{"127.0.0.1"}, now.Add(-72*time.Hour), now.Add(-48*time.Hour))
	wrongHost := issue([]string{"printer.example"}, now.Add(-time.Hour), now.Add(time.Hour))
	unknown, err := selfsigned.New("127.0.0.1", []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Self-signed and expired half an hour ago: an intranet device's certificate, pinned below.
	pinned, err := selfsigned.New("device.test", []string{"127.0.0.1"}, -30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	tlsSrv := startTLSMux(t, map[string]selfsigned.Cert{
		"": good, "pinned.test": pinned, "expired.test": expired, "wronghost.test": wrongHost, "unknown.test": unknown,
	})
	plainAddr, _ := StartEchoServer(t)
	imap := startIMAPStartTLS(t, good)
	site := StartSite(t, testdataFiles(t, "tls"), strictCSP)

	dirs := pinnedDirs(t, site)
	pinnedFP := sha256Hex(pinned.DER)
	if out, errOut, code := RunCLI(t, dirs, "trust", "add", site.URL+"/", pinnedFP, "--host", "127.0.0.1"); code != 0 {
		t.Fatalf("trust add --host 127.0.0.1: code %d, %s %s", code, out, errOut)
	}
	dirs["SSL_CERT_FILE"] = caFile
	d := StartXvfb(t)
	app := StartApp(t, d, dirs, "open", fmt.Sprintf("%s/index.html?tls=%d&plain=%d&imap=%d", site.URL, tlsSrv.port, plainAddr.Port, imap.port))
	app.WaitLog(t, rePageLoaded, pageTimeout)

	mark := 0
	for range 3 {
		gestureClick(t, d, site)
		mark = answerConsent(t, d, app, mark, true)
	}
	res := site.WaitResult(t, resultTimeout)
	pretty, _ := json.MarshalIndent(res, "", "  ")
	t.Logf("page result:\n%s", pretty)
	if res["fatal"] != nil {
		t.Fatalf("page failed: %v", res["fatal"])
	}
	r := pageResult(res)
	get, expect := r.get, func(want any, path ...string) { t.Helper(); r.expect(t, want, path...) }
	expectPrefix := func(prefix string, path ...string) {
		t.Helper()
		if got, _ := get(path...).(string); !strings.HasPrefix(got, prefix) {
			t.Errorf("%v = %q, want it to start with %q", path, got, prefix)
		}
	}

	expect("function", "api", "startTls")
	for _, k := range []string{"badMode", "sniWithoutTLS", "alpnNotList", "alpnEmpty", "disagree", "sniAddress"} {
		expect("TypeError", "typeErrors", k, "name")
	}

	// TLS at open: what the page saw is what the server negotiated and presented.
	goodConn := tlsSrv.session(t, "")
	expect(tls.VersionName(goodConn.Version), "tls", "info", "version")
	expect(tls.CipherSuiteName(goodConn.CipherSuite), "tls", "info", "cipherSuite")
	expect("echo", "tls", "info", "alpnProtocol")
	expect(displayFP(good.DER), "tls", "info", "peerCertificate", "sha256Fingerprint")
	expect("CN=127.0.0.1", "tls", "info", "peerCertificate", "subject")
	expect("CN=Socketeer e2e CA", "tls", "info", "peerCertificate", "issuer")
	expect(false, "tls", "info", "peerCertificate", "pinned")
	expect("hello over TLS\n", "tls", "echo")
	expect(8<<20, "tls", "bulk", "bytes")
	expect(-1, "tls", "bulk", "mismatch")
	expect("InvalidStateError", "tls", "startTlsOnTLS", "name")
	expect(tls.VersionName(goodConn.Version), "alias", "version")
	expect("alias\n", "alias", "echo")

	// The pinned certificate is accepted although self-signed and expired.
	expect(true, "pinned", "info", "peerCertificate", "pinned")
	expect(displayFP(pinned.DER), "pinned", "info", "peerCertificate", "sha256Fingerprint")
	expect(tls.VersionName(tlsSrv.session(t, "pinned.test").Version), "pinned", "info", "version")
	expect("pinned\n", "pinned", "echo")

	for _, name := range []string{"expired", "wronghost", "unknown", "drop"} {
		expect("NetworkError", "refusals", name, "name")
		expect(true, "refusals", name, "isDOMException")
	}
	expectPrefix("TLS: the server's certificate expired on "+expired.TLS.Leaf.NotAfter.UTC().Format(time.DateOnly), "refusals", "expired", "message")
	expectPrefix("TLS: the server's certificate is for printer.example, not for 127.0.0.1", "refusals", "wronghost", "message")
	expectPrefix("TLS: the server's certificate (SHA-256 "+displayFP(unknown.DER)+") is not issued by an authority", "refusals", "unknown", "message")
	expectPrefix("TLS: the server closed the connection during the handshake", "refusals", "drop", "message")
	expect("still here\n", "afterRefusals")

	expect(false, "plain", "hasTls")
	expect(8<<20, "plain", "bulk", "bytes")
	expect(-1, "plain", "bulk", "mismatch")
	expect("InvalidStateError", "plain", "startTls", "name")
	t.Logf("page-level echo of 8 MiB: TLS %.1f MB/s, plaintext %.1f MB/s", get("tls", "bulk", "mbps"), get("plain", "bulk", "mbps"))

	// STARTTLS: the same connection continues over TLS, and only then does the server offer
	// AUTH=PLAIN, so the page's second CAPABILITY answer proves the upgrade.
	expect(false, "imap", "openedTls")
	expectPrefix("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED]", "imap", "greeting")
	expectPrefix("a2 OK", "imap", "starttls")
	expect("InvalidStateError", "imap", "secondStartTls", "name")
	expect("InvalidStateError", "imap", "oldWriteRejected", "name")
	expect(true, "imap", "oldReadDone")
	expect(true, "imap", "oldClosed")
	expect(imap.port, "imap", "remotePort")
	expect(displayFP(good.DER), "imap", "info", "peerCertificate", "sha256Fingerprint")
	expect(imap.version(), "imap", "info", "version")
	if c, _ := get("imap", "capabilityOverTLS").(string); !strings.Contains(c, "AUTH=PLAIN") || strings.Contains(c, "STARTTLS") {
		t.Errorf("CAPABILITY after the upgrade = %q, want the post-TLS list", c)
	}
	expectPrefix("* BYE", "imap", "logout")
	expect(true, "imap", "closed")
	if !app.Alive() {
		t.Errorf("the app exited")
	}

	// The dialogs said what each connection would be; the audit log tells TLS from plaintext.
	var shown []string
	for _, l := range app.Lines() {
		if strings.Contains(l, `msg="dialog shown" kind=consent`) {
			shown = append(shown, l)
		}
	}
	for i, want := range []string{"[Protocol TCP, encrypted (TLS)]", "[Protocol TCP, unencrypted]",
		"[Protocol TCP, unencrypted until the site switches it to TLS (STARTTLS)]"} {
		if i >= len(shown) || !strings.Contains(shown[i], want) {
			t.Errorf("consent dialog %d did not say %q: %q", i+1, want, shown)
		}
	}
	audit, err := os.ReadFile(filepath.Join(app.Env["XDG_STATE_HOME"], "socketeer", "audit.log"))
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	if want := fmt.Sprintf(`"port":%d,"tls":true,"addresses":["127.0.0.1"],"verdict":"ask","reason":"needs-consent-local","answer":"allow"`, tlsSrv.port); !strings.Contains(string(audit), want) {
		t.Errorf("the audit log lacks %s:\n%s", want, audit)
	}
	if l := app.Lines(); !regexp.MustCompile(`msg="tls established" host=127.0.0.1 version="TLS 1.3"`).MatchString(strings.Join(l, "\n")) {
		t.Errorf("the app log does not record the TLS session")
	}
}

func sha256Hex(der []byte) string {
	sum := sha256.Sum256(der)
	return fmt.Sprintf("%x", sum[:])
}

// displayFP is a fingerprint as `opened` reports it: colon-separated uppercase pairs.
func displayFP(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// tlsMux is a TLS echo server on loopback that presents the certificate the client's SNI names
// (the one under "" without SNI), and hangs up in the middle of the handshake for "drop.test". It
// records the session it negotiated per SNI name, so the test can compare with what the page saw.
type tlsMux struct {
	port int
	mu   sync.Mutex
	seen map[string]tls.ConnectionState
}

func startTLSMux(t *testing.T, certs map[string]selfsigned.Cert) *tlsMux {
	t.Helper()
	m := &tlsMux{seen: map[string]tls.ConnectionState{}}
	cfg := &tls.Config{
		NextProtos: []string{"echo"},
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			if h.ServerName == "drop.test" {
				h.Conn.Close()
				return nil, errors.New("dropped on purpose")
			}
			return nil, nil
		},
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			c, ok := certs[h.ServerName]
			if !ok {
				c = certs[""]
			}
			return &c.TLS, nil
		},
	}
	addr := serveLoopback(t, func(c *net.TCPConn) {
		tc := tls.Server(c, cfg)
		if tc.Handshake() != nil {
			return
		}
		cs := tc.ConnectionState()
		m.mu.Lock()
		m.seen[cs.ServerName] = cs
		m.mu.Unlock()
		io.Copy(tc, tc)
		tc.CloseWrite()
	})
	m.port = addr.Port
	return m
}

// session returns the last session negotiated with the given SNI name.
func (m *tlsMux) session(t *testing.T, sni string) tls.ConnectionState {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	cs, ok := m.seen[sni]
	if !ok {
		t.Fatalf("the TLS server never completed a handshake for SNI %q", sni)
	}
	return cs
}

// imapServer speaks enough IMAP for a STARTTLS upgrade (RFC 3501 section 6.2.1): before TLS it
// offers STARTTLS and refuses logins, after TLS it offers AUTH=PLAIN.
type imapServer struct {
	port int
	mu   sync.Mutex
	tls  uint16 // the negotiated version, once upgraded
}

func (s *imapServer) version() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return tls.VersionName(s.tls)
}

func startIMAPStartTLS(t *testing.T, cert selfsigned.Cert) *imapServer {
	t.Helper()
	s := &imapServer{}
	addr := serveLoopback(t, func(c *net.TCPConn) {
		var conn io.ReadWriter = c
		r := bufio.NewReader(conn)
		caps := "IMAP4rev1 STARTTLS LOGINDISABLED"
		fmt.Fprintf(conn, "* OK [CAPABILITY %s] test IMAP server ready\r\n", caps)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, cmd, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch strings.ToUpper(cmd) {
			case "CAPABILITY":
				fmt.Fprintf(conn, "* CAPABILITY %s\r\n%s OK CAPABILITY completed\r\n", caps, tag)
			case "STARTTLS":
				if conn != io.ReadWriter(c) {
					fmt.Fprintf(conn, "%s BAD TLS is already active\r\n", tag)
					continue
				}
				fmt.Fprintf(conn, "%s OK Begin TLS negotiation now\r\n", tag)
				tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert.TLS}})
				if r.Buffered() > 0 || tc.Handshake() != nil {
					return
				}
				s.mu.Lock()
				s.tls = tc.ConnectionState().Version
				s.mu.Unlock()
				conn, r, caps = tc, bufio.NewReader(tc), "IMAP4rev1 AUTH=PLAIN"
			case "LOGOUT":
				fmt.Fprintf(conn, "* BYE logging out\r\n%s OK LOGOUT completed\r\n", tag)
				if tc, ok := conn.(*tls.Conn); ok {
					tc.CloseWrite()
				}
				return
			default:
				fmt.Fprintf(conn, "%s BAD unknown command\r\n", tag)
			}
		}
	})
	s.port = addr.Port
	return s
}
