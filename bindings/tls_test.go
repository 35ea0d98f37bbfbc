package bindings

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"socketeer/bindings/selfsigned"
)

// The TLS tests run real handshakes on loopback. The test CA is made a system root the way a user
// or administrator would add one, through SSL_CERT_FILE, before anything in the test binary loads
// the system roots; verification therefore takes exactly the path it takes in the app.

var testCA selfsigned.Cert

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "socketeer-bindings-ca-")
	if err == nil {
		err = trustTestCA(filepath.Join(dir, "roots.pem"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// trustTestCA makes the test CA and makes it the only system root.
func trustTestCA(path string) error {
	var err error
	if testCA, err = selfsigned.NewCA("Socketeer test CA", 24*time.Hour); err != nil {
		return err
	}
	if err := os.WriteFile(path, testCA.CertPEM, 0o600); err != nil {
		return err
	}
	os.Setenv("SSL_CERT_FILE", path)
	os.Setenv("SSL_CERT_DIR", filepath.Dir(path))
	return nil
}

// caLeaf issues a server certificate from the test CA for hosts, valid from notBefore to notAfter.
func caLeaf(tb testing.TB, notBefore, notAfter time.Time, hosts ...string) tls.Certificate {
	tb.Helper()
	c, err := testCA.Issue(hosts[0], hosts, notBefore, notAfter)
	if err != nil {
		tb.Fatal(err)
	}
	return c.TLS
}

func validLeaf(tb testing.TB, hosts ...string) tls.Certificate {
	return caLeaf(tb, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), hosts...)
}

func selfSignedLeaf(tb testing.TB, validFor time.Duration) tls.Certificate {
	tb.Helper()
	c, err := selfsigned.New("device.test", []string{"127.0.0.1"}, validFor)
	if err != nil {
		tb.Fatal(err)
	}
	return c.TLS
}

func fingerprintOf(cert tls.Certificate) (lower, display string) {
	sum := sha256.Sum256(cert.Certificate[0])
	return hex.EncodeToString(sum[:]), colonHex(sum[:])
}

// pinSet is a PinStore holding host and fingerprint pairs.
type pinSet map[string]bool

func (p pinSet) Pinned(host, sha string) bool { return p[host+" "+sha] }

// tlsServer is a TLS server on loopback; hello records the SNI and ALPN each client offered.
type tlsServer struct {
	*tcpServer
	mu    sync.Mutex
	hello []*tls.ClientHelloInfo
}

// startTLSServer serves cert and, after the handshake, runs handler on the TLS connection.
func startTLSServer(tb testing.TB, cert tls.Certificate, protos []string, handler func(*tls.Conn)) *tlsServer {
	tb.Helper()
	ts := &tlsServer{}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   protos,
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			ts.mu.Lock()
			ts.hello = append(ts.hello, h)
			ts.mu.Unlock()
			return nil, nil
		},
	}
	ts.tcpServer = startTCPServer(tb, func(_ *tcpServer, c *serverConn) {
		tc := tls.Server(c.TCPConn, cfg)
		if tc.Handshake() != nil {
			return
		}
		handler(tc)
	})
	return ts
}

func tlsEcho(tc *tls.Conn) {
	io.Copy(tc, tc)
	tc.CloseWrite()
}

// openTLS opens a TLS socket to 127.0.0.1:port with extra request fields.
func openTLS(extra map[string]any) map[string]any {
	m := map[string]any{"secureTransport": "on"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestTLSOpenVerifiedBySystemRoots(t *testing.T) {
	br := startBridge(t, Config{}, true)
	cert := validLeaf(t, "127.0.0.1")
	srv := startTLSServer(t, cert, []string{"imap", "smtp"}, tlsEcho)
	c := br.connect(t)

	info, credit := c.openOK(t, 1, srv.port, openTLS(map[string]any{"alpn": []string{"x-test", "imap"}}))
	if info.TLS == nil {
		t.Fatalf("opened without TLS information: %+v", info)
	}
	_, display := fingerprintOf(cert)
	got := *info.TLS
	if got.Version != "TLS 1.3" || !strings.HasPrefix(got.CipherSuite, "TLS_") || got.ALPNProtocol != "imap" {
		t.Errorf("session = %+v, want TLS 1.3, a TLS_ suite and ALPN imap", got)
	}
	pc := got.PeerCertificate
	if pc.SHA256Fingerprint != display || pc.Pinned || pc.Subject != "CN=127.0.0.1" ||
		pc.Issuer != "CN=Socketeer test CA" {
		t.Errorf("peer certificate = %+v, want fingerprint %s, not pinned", pc, display)
	}
	if p := br.prompter.last(); !p.TLS || p.StartTLS {
		t.Errorf("the consent prompt did not say the connection is encrypted: %+v", p)
	}
	s := &streamer{c: c, id: 1, pattern: randomBytes(100_000, 3), credit: credit}
	if err := s.run(2 << 20); err != nil {
		t.Fatal(err)
	}
	// The half-close reaches the server as the end of the TLS stream, and its own end comes back.
	if err := c.send(OpShutdown, 1, nil); err != nil {
		t.Fatal(err)
	}
	expectSkippingCredit(t, c, 1, OpEOF)
	expectSkippingCredit(t, c, 1, OpClosed)
	srv.mu.Lock()
	sni := srv.hello[0].ServerName
	srv.mu.Unlock()
	if sni != "" {
		t.Errorf("SNI %q sent for an IP address", sni)
	}
}

func TestTLSPinnedSelfSignedAndExpired(t *testing.T) {
	pinned := selfSignedLeaf(t, -time.Minute) // expired a minute ago, and self-signed
	sha, display := fingerprintOf(pinned)
	br := startBridge(t, Config{Pins: pinSet{"127.0.0.1 " + sha: true}}, true)
	srv := startTLSServer(t, pinned, nil, tlsEcho)
	other := startTLSServer(t, selfSignedLeaf(t, time.Hour), nil, tlsEcho)
	c := br.connect(t)

	info, credit := c.openOK(t, 1, srv.port, openTLS(nil))
	if pc := info.TLS.PeerCertificate; !pc.Pinned || pc.SHA256Fingerprint != display {
		t.Errorf("peer certificate = %+v, want the pinned %s", pc, display)
	}
	s := &streamer{c: c, id: 1, pattern: randomBytes(1000, 4), credit: credit}
	if err := s.run(64 << 10); err != nil {
		t.Fatal(err)
	}
	// Another certificate for the same host is verified as usual, and fails.
	if err := c.open(2, other.port, openTLS(nil)); err != nil {
		t.Fatal(err)
	}
	pe := c.expectError(t, 2)
	if pe.Name != NetworkError || !strings.Contains(pe.Message, "not issued by an authority this computer trusts") {
		t.Errorf("unpinned self-signed certificate: %+v", pe)
	}
}

// TestTLSRefusals covers what must fail, each with a NetworkError that says why; the bridge keeps
// serving afterwards.
func TestTLSRefusals(t *testing.T) {
	br := startBridge(t, Config{}, true)
	c := br.connect(t)
	past := time.Now().Add(-48 * time.Hour)
	expired := startTLSServer(t, caLeaf(t, past, past.Add(time.Hour), "127.0.0.1"), nil, tlsEcho)
	notYet := startTLSServer(t, caLeaf(t, time.Now().Add(time.Hour), time.Now().Add(48*time.Hour), "127.0.0.1"), nil, tlsEcho)
	wrongHost := startTLSServer(t, validLeaf(t, "printer.example", "10.9.9.9"), nil, tlsEcho)
	unknownCA := startTLSServer(t, selfSignedLeaf(t, time.Hour), nil, tlsEcho)
	// A server that reads the ClientHello and hangs up.
	drop := startTCPServer(t, func(_ *tcpServer, sc *serverConn) {
		sc.Read(make([]byte, 512))
	})
	// A server that speaks plaintext where TLS was expected.
	plain := startTCPServer(t, func(_ *tcpServer, sc *serverConn) {
		sc.Write([]byte("220 mail.example ESMTP ready, no TLS here\r\n"))
		io.Copy(io.Discard, sc)
	})
	good := startTLSServer(t, validLeaf(t, "127.0.0.1"), nil, tlsEcho)

	cases := []struct {
		port int
		want string
	}{
		{expired.port, "TLS: the server's certificate expired on " + past.Add(time.Hour).UTC().Format(time.DateOnly)},
		{notYet.port, "TLS: the server's certificate is not valid before "},
		{wrongHost.port, "TLS: the server's certificate is for printer.example, 10.9.9.9, not for 127.0.0.1"},
		{unknownCA.port, "TLS: the server's certificate (SHA-256 "},
		{drop.port, "TLS: the server closed the connection during the handshake"},
		{plain.port, "TLS: the server did not answer in TLS"},
	}
	for i, tc := range cases {
		id := uint32(i + 1)
		if err := c.open(id, tc.port, openTLS(nil)); err != nil {
			t.Fatal(err)
		}
		pe := c.expectError(t, id)
		if pe.Name != NetworkError || !strings.HasPrefix(pe.Message, tc.want) {
			t.Errorf("case %d: got %s: %s, want a NetworkError starting %q", i, pe.Name, pe.Message, tc.want)
		}
	}
	// There is no way to ask for an unverified connection.
	if err := c.open(20, unknownCA.port, openTLS(map[string]any{"rejectUnauthorized": false})); err != nil {
		t.Fatal(err)
	}
	if pe := c.expectError(t, 20); pe.Name != TypeError {
		t.Errorf("an unknown TLS option gave %+v, want a TypeError", pe)
	}
	info, _ := c.openOK(t, 21, good.port, openTLS(nil))
	if info.TLS == nil {
		t.Fatal("no TLS information after the refusals")
	}
}

// TestTLSSNIDoesNotChooseTheVerifiedHost: the page may send another SNI name, but the certificate
// is still checked for the host the user consented to.
func TestTLSSNIDoesNotChooseTheVerifiedHost(t *testing.T) {
	br := startBridge(t, Config{}, true)
	c := br.connect(t)
	forName := startTLSServer(t, validLeaf(t, "mail.example"), nil, tlsEcho)
	forIP := startTLSServer(t, validLeaf(t, "127.0.0.1"), nil, tlsEcho)

	if err := c.open(1, forName.port, openTLS(map[string]any{"sni": "Mail.Example"})); err != nil {
		t.Fatal(err)
	}
	if pe := c.expectError(t, 1); !strings.Contains(pe.Message, "is for mail.example, not for 127.0.0.1") {
		t.Errorf("a certificate for the SNI name was accepted or misreported: %+v", pe)
	}
	forName.mu.Lock()
	sni := forName.hello[0].ServerName
	forName.mu.Unlock()
	if sni != "mail.example" {
		t.Errorf("the server saw SNI %q, want mail.example", sni)
	}
	if info, _ := c.openOK(t, 2, forIP.port, openTLS(map[string]any{"sni": "mail.example"})); info.TLS == nil {
		t.Fatal("no TLS information")
	}
}

// smtpStartTLS is a loopback SMTP server that speaks the real upgrade (RFC 3207): greeting, EHLO
// advertising STARTTLS, "220 Ready to start TLS", the handshake, then EHLO again over TLS, after
// which it echoes. inject, when set, is plaintext sent right behind the 220 reply, as a man in the
// middle would to have it taken for protected data.
func smtpStartTLS(cert tls.Certificate, inject string) func(*tcpServer, *serverConn) {
	return func(_ *tcpServer, sc *serverConn) {
		r := bufio.NewReader(sc)
		fmt.Fprintf(sc, "220 mail.test ESMTP\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
			case strings.HasPrefix(cmd, "EHLO"):
				fmt.Fprintf(sc, "250-mail.test\r\n250 STARTTLS\r\n")
			case cmd == "STARTTLS":
				fmt.Fprintf(sc, "220 Ready to start TLS\r\n%s", inject)
				if r.Buffered() > 0 {
					return // pipelined plaintext after STARTTLS is refused, as RFC 3207 says
				}
				tc := tls.Server(sc.TCPConn, &tls.Config{Certificates: []tls.Certificate{cert}})
				if tc.Handshake() != nil {
					return
				}
				tr := bufio.NewReader(tc)
				if line, err := tr.ReadString('\n'); err != nil || !strings.HasPrefix(strings.ToUpper(line), "EHLO") {
					return
				}
				fmt.Fprintf(tc, "250 mail.test at your service, over TLS\r\n")
				io.Copy(tc, tr)
				tc.CloseWrite()
				return
			default:
				fmt.Fprintf(sc, "502 not implemented\r\n")
			}
		}
	}
}

// readUntil reads OpRecv frames of socket id until a CRLF-terminated line ending with want arrives,
// returning read credit as the page script does, and returns everything read.
func readUntil(tb testing.TB, c *bridgeClient, id uint32, want string) string {
	tb.Helper()
	var got strings.Builder
	for !strings.Contains(got.String(), want) {
		f := c.mustNext(tb, id)
		switch f.Op {
		case OpRecv:
			got.Write(f.Payload)
		case OpWriteCredit:
		default:
			tb.Fatalf("socket %d: op %#x (%s) while waiting for %q after %q", id, byte(f.Op), describeFrame(f), want, got.String())
		}
	}
	return got.String()
}

func send(tb testing.TB, c *bridgeClient, id uint32, text string) {
	tb.Helper()
	if err := c.send(OpData, id, []byte(text)); err != nil {
		tb.Fatal(err)
	}
}

// expectSkippingCredit is expect for a socket whose write credit frames do not matter.
func expectSkippingCredit(tb testing.TB, c *bridgeClient, id uint32, op Op) {
	tb.Helper()
	for {
		f := c.mustNext(tb, id)
		if f.Op == op {
			return
		}
		if f.Op != OpWriteCredit {
			tb.Fatalf("socket %d: got op %#x (%s), want %#x", id, byte(f.Op), describeFrame(f), byte(op))
		}
	}
}

func TestStartTLSUpgradesAnSMTPConversation(t *testing.T) {
	br := startBridge(t, Config{}, true)
	cert := validLeaf(t, "127.0.0.1")
	_, display := fingerprintOf(cert)
	srv := startTCPServer(t, smtpStartTLS(cert, ""))
	c := br.connect(t)

	info, _ := c.openOK(t, 1, srv.port, map[string]any{"secureTransport": "starttls"})
	if info.TLS != nil {
		t.Fatalf("a STARTTLS socket reported TLS before the upgrade: %+v", info.TLS)
	}
	if p := br.prompter.last(); p.TLS || !p.StartTLS {
		t.Errorf("the consent prompt did not say the connection starts unencrypted: %+v", p)
	}
	readUntil(t, c, 1, "220 mail.test ESMTP\r\n")
	send(t, c, 1, "EHLO client.test\r\n")
	readUntil(t, c, 1, "250 STARTTLS\r\n")
	send(t, c, 1, "STARTTLS\r\n")
	readUntil(t, c, 1, "220 Ready to start TLS\r\n")
	if err := c.send(OpStartTLS, 1, Uint32Payload(2)); err != nil {
		t.Fatal(err)
	}
	c.expect(t, 1, OpClosed)
	up, credit := c.expectOpened(t, 2)
	if up.TLS == nil || up.TLS.PeerCertificate.SHA256Fingerprint != display || up.RemotePort != srv.port {
		t.Fatalf("upgraded socket: %+v %+v", up, up.TLS)
	}
	send(t, c, 2, "EHLO client.test\r\n")
	readUntil(t, c, 2, "over TLS\r\n")
	s := &streamer{c: c, id: 2, pattern: randomBytes(5000, 6), credit: credit - int64(len("EHLO client.test\r\n"))}
	if err := s.run(256 << 10); err != nil {
		t.Fatal(err)
	}

	// The old socket cannot be upgraded again, and a socket opened without "starttls" never can.
	if err := c.send(OpStartTLS, 1, Uint32Payload(3)); err != nil {
		t.Fatal(err)
	}
	if pe := c.expectError(t, 3); pe.Name != InvalidStateError {
		t.Errorf("second startTls: %+v", pe)
	}
	if err := c.send(OpStartTLS, 2, Uint32Payload(4)); err != nil {
		t.Fatal(err)
	}
	if pe := c.expectError(t, 4); pe.Name != InvalidStateError || !strings.Contains(pe.Message, "starttls") {
		t.Errorf("startTls on a TLS socket: %+v", pe)
	}
	plainSrv := startTCPServer(t, echo)
	c.openOK(t, 5, plainSrv.port, nil)
	if err := c.send(OpStartTLS, 5, Uint32Payload(6)); err != nil {
		t.Fatal(err)
	}
	if pe := c.expectError(t, 6); pe.Name != InvalidStateError {
		t.Errorf("startTls on a plaintext socket: %+v", pe)
	}
	// Upgrading into an id that is in use is a forged frame: the bridge drops the page.
	if err := c.send(OpStartTLS, 5, Uint32Payload(2)); err != nil {
		t.Fatal(err)
	}
	if err := c.waitDropped(); err != nil {
		t.Fatal(err)
	}
}

// TestStartTLSPlaintextInjection: bytes a man in the middle slips in behind the server's "220" are
// never delivered as if they came over TLS.
func TestStartTLSPlaintextInjection(t *testing.T) {
	br := startBridge(t, Config{}, true)
	cert := validLeaf(t, "127.0.0.1")
	srv := startTCPServer(t, smtpStartTLS(cert, "250 INJECTED\r\n"))
	c := br.connect(t)
	c.openOK(t, 1, srv.port, map[string]any{"secureTransport": "starttls"})
	readUntil(t, c, 1, "220 mail.test ESMTP\r\n")
	send(t, c, 1, "STARTTLS\r\n")
	readUntil(t, c, 1, "220 Ready to start TLS\r\n")
	if err := c.send(OpStartTLS, 1, Uint32Payload(2)); err != nil {
		t.Fatal(err)
	}
	// Whether the old socket still read the injected line or the handshake then meets it, it
	// never arrives on the TLS socket: the upgrade fails, or the TLS conversation has no trace of it.
	var got strings.Builder
	for !strings.Contains(got.String(), "over TLS\r\n") {
		f := c.mustNext(t, 2)
		switch f.Op {
		case OpRecv:
			got.Write(f.Payload)
		case OpError:
			var pe PageError
			json.Unmarshal(f.Payload, &pe)
			if pe.Name != NetworkError || !strings.HasPrefix(pe.Message, "TLS: ") {
				t.Errorf("failed upgrade: %+v", pe)
			}
			return
		case OpOpened:
			// An honest page writes once Go has granted credit, which follows `opened`.
			c.expect(t, 2, OpWriteCredit)
			send(t, c, 2, "EHLO client.test\r\n")
		}
	}
	if strings.Contains(got.String(), "INJECTED") {
		t.Fatalf("injected plaintext was delivered on the TLS socket: %q", got.String())
	}
}

func TestDecodeOpenTLS(t *testing.T) {
	const base = `"kind":"tcp","remoteAddress":"example.com","remotePort":7`
	ok := []struct {
		in   string
		mode string
		sni  string
		alpn int
	}{
		{`{` + base + `}`, "", "", 0},
		{`{` + base + `,"secureTransport":"off"}`, "off", "", 0},
		{`{` + base + `,"secureTransport":"on","sni":"Mail.Example.","alpn":["imap","h2"]}`, "on", "mail.example", 2},
		{`{` + base + `,"secureTransport":"starttls","sni":"bücher.example"}`, "starttls", "xn--bcher-kva.example", 0},
	}
	for _, c := range ok {
		r, err := DecodeOpen([]byte(c.in))
		if err != nil || r.SecureTransport != c.mode || r.SNI != c.sni || len(r.ALPN) != c.alpn {
			t.Errorf("DecodeOpen(%s) = %+v, %v", c.in, r, err)
		}
	}
	bad := []string{
		`{` + base + `,"secureTransport":"ON"}`,
		`{` + base + `,"secureTransport":true}`,
		`{` + base + `,"secureTransport":"tls"}`,
		`{` + base + `,"sni":"mail.example"}`,
		`{` + base + `,"secureTransport":"off","alpn":["imap"]}`,
		`{` + base + `,"secureTransport":"on","sni":"127.0.0.1"}`,
		`{` + base + `,"secureTransport":"on","sni":"[::1]"}`,
		`{` + base + `,"secureTransport":"on","sni":"bad name"}`,
		`{` + base + `,"secureTransport":"on","alpn":[""]}`,
		`{` + base + `,"secureTransport":"on","alpn":["` + strings.Repeat("a", 256) + `"]}`,
		`{` + base + `,"secureTransport":"on","alpn":"imap"}`,
		`{` + base + `,"secureTransport":"on","alpn":[1]}`,
		`{` + base + `,"secureTransport":"on","alpn":[` + strings.Repeat(`"a",`, 16) + `"a"]}`,
		`{` + base + `,"useSecureTransport":true}`,
		`{` + base + `,"secureTransport":"on","rejectUnauthorized":false}`,
	}
	for _, in := range bad {
		if r, err := DecodeOpen([]byte(in)); err == nil {
			t.Errorf("DecodeOpen(%s) accepted %+v", in, r)
		} else if pe := pageErrorOf(err); pe.Name != TypeError {
			t.Errorf("DecodeOpen(%s): %+v, want a TypeError", in, pe)
		}
	}
}

// TestTLSConsentIsPerMode: an answer for an encrypted connection is not reused for a plaintext one
// to the same address (threat: downgrade), nor the other way round.
func TestTLSConsentIsPerMode(t *testing.T) {
	br := startBridge(t, Config{}, true)
	srv := startTLSServer(t, validLeaf(t, "127.0.0.1"), nil, tlsEcho)
	c := br.connect(t)
	steps := []struct {
		extra   map[string]any
		prompts int
	}{
		{openTLS(nil), 1},
		{openTLS(nil), 1}, // the page was allowed this encrypted destination
		{nil, 2},          // plaintext to the same address asks again
		{map[string]any{"secureTransport": "starttls"}, 2}, // starts as plaintext: the plaintext answer holds
	}
	for i, st := range steps {
		id := uint32(i + 1)
		c.openOK(t, id, srv.port, st.extra)
		if n := br.prompter.calls(); n != st.prompts {
			t.Errorf("step %d: %d prompts, want %d", i, n, st.prompts)
		}
		if err := c.send(OpClose, id, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// gateResolver answers 127.0.0.1 for every name once open is closed.
type gateResolver struct{ open chan struct{} }

func (r gateResolver) LookupNetIP(ctx context.Context, _, _ string) ([]netip.Addr, error) {
	select {
	case <-r.open:
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestStartTLSBeforeOpened: an upgrade of a socket that is still opening (only a forged frame can
// ask for one) is refused on the new id, and the opening socket is not disturbed.
func TestStartTLSBeforeOpened(t *testing.T) {
	gate := gateResolver{open: make(chan struct{})}
	br := startBridge(t, Config{Resolver: gate}, true)
	srv := startTCPServer(t, smtpStartTLS(validLeaf(t, "127.0.0.1"), ""))
	c := br.connect(t)
	if err := c.open(1, srv.port, map[string]any{"remoteAddress": "mail.lan", "secureTransport": "starttls"}); err != nil {
		t.Fatal(err)
	}
	if err := c.send(OpStartTLS, 1, Uint32Payload(2)); err != nil {
		t.Fatal(err)
	}
	if pe := c.expectError(t, 2); pe.Name != InvalidStateError || pe.Message != "the socket is not open" {
		t.Errorf("startTls while opening: %+v", pe)
	}
	close(gate.open)
	c.expectOpened(t, 1)
	readUntil(t, c, 1, "220 mail.test ESMTP\r\n")
}
