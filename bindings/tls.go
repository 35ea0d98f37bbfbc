package bindings

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"socketeer/policy"
)

// TLS on page sockets. A page asks for it at open (secureTransport "on") or opens in plaintext with
// secureTransport "starttls" and later upgrades with OpStartTLS, as SMTP, IMAP and POP clients do.
// Either way the handshake is Go's, verified like a browser verifies: against the system roots, for
// the host the user consented to, with the profile's certificate pins as the only exception. The
// page never sees a certificate it could have been fooled by, and has no way to switch checks off.

// Secure transport modes of an open request; an absent mode is secureOff.
const (
	secureOff      = "off"
	secureOn       = "on"
	secureStartTLS = "starttls"
)

const (
	handshakeTimeout = 20 * time.Second

	// maxALPN bounds the ALPN list; real clients offer two or three protocols.
	maxALPN = 16
)

// PinStore tells whether the user or the organisation pinned a certificate for a host in this
// profile. The app owns the pins (profile.json and the enterprise policy); the site window asks the
// same store, so one trust decision serves the window and its sockets.
type PinStore interface {
	// Pinned reports whether the certificate whose DER encoding has this SHA-256 (lowercase hex) is
	// pinned for host, a canonical host name or IP address as policy.ParseHost gives it.
	Pinned(host, sha256 string) bool
}

// TLSInfo is what `opened` reports about the TLS session of a socket.
type TLSInfo struct {
	Version         string          `json:"version"`
	CipherSuite     string          `json:"cipherSuite"`
	ALPNProtocol    string          `json:"alpnProtocol"`
	PeerCertificate PeerCertificate `json:"peerCertificate"`
}

// PeerCertificate describes the server's leaf certificate.
type PeerCertificate struct {
	Subject   string `json:"subject"`
	Issuer    string `json:"issuer"`
	ValidFrom string `json:"validFrom"`
	ValidTo   string `json:"validTo"`
	// SHA256Fingerprint is the SHA-256 of the DER encoding in colon-separated uppercase pairs, as
	// browsers and the certificate dialog show it.
	SHA256Fingerprint string `json:"sha256Fingerprint"`
	// Pinned is true when the certificate was accepted because it is pinned, not by the roots.
	Pinned bool `json:"pinned"`
}

// secureState is a socket's TLS settings and, for a STARTTLS socket, its upgrade.
type secureState struct {
	mode string
	sni  string
	alpn []string
	// host is the destination the user consented to; certificates are verified for it, never for
	// the SNI name the page chose.
	host policy.Host
	// upgrading is set once the page asked for the upgrade: the read and write loops stop, and the
	// connection moves to the socket the upgrade creates.
	upgrading bool
	// loops counts the read and write loops still running; the upgrade waits for zero.
	loops int
}

// checkTLSOptions validates the TLS fields of an open request and puts them in canonical form.
func checkTLSOptions(r *OpenRequest) error {
	switch r.SecureTransport {
	case "", secureOff, secureOn, secureStartTLS:
	default:
		return inputErrorf("secureTransport must be \"on\", \"off\" or \"starttls\"")
	}
	if r.SecureTransport != secureOn && r.SecureTransport != secureStartTLS && (r.SNI != "" || r.ALPN != nil) {
		return inputErrorf("sni and alpn need secureTransport \"on\" or \"starttls\"")
	}
	if r.SNI != "" {
		// RFC 6066: the server name is a DNS host name, never an address.
		h, err := policy.ParseHost(r.SNI)
		if err != nil || h.IsLiteral() {
			return inputErrorf("sni must be a DNS host name")
		}
		r.SNI = h.Name
	}
	if len(r.ALPN) > maxALPN {
		return inputErrorf("alpn lists at most %d protocols", maxALPN)
	}
	for _, p := range r.ALPN {
		if len(p) == 0 || len(p) > 255 {
			return inputErrorf("every alpn protocol must be 1 to 255 bytes long")
		}
	}
	return nil
}

// tlsConfig is the client configuration for a handshake with host. Go's built-in verification checks
// the certificate against ServerName, which is the page's SNI choice; it is replaced (not dropped) by
// verifyPeer, which checks against the consented host.
func (sk *socket) tlsConfig(pinned *bool, failure **PageError) *tls.Config {
	sec := sk.sec
	serverName := sec.sni
	if serverName == "" && !sec.host.IsLiteral() {
		serverName = sec.host.Name
	}
	pins := sk.s.m.cfg.Pins
	return &tls.Config{
		ServerName: serverName,
		NextProtos: sec.alpn,
		// As browsers do: TLS 1.0 and 1.1 are broken and off.
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			p, perr := verifyPeer(cs.PeerCertificates, sec.host.Name, pins, time.Now())
			*pinned, *failure = p, perr
			if perr != nil {
				return perr
			}
			return nil
		},
	}
}

// verifyPeer decides whether the server's chain is good for host: a certificate pinned for exactly
// this host is accepted as it is (intranet devices are often self-signed or expired), any other is
// verified against the system roots (SSL_CERT_FILE and SSL_CERT_DIR are honoured), for the host
// name, and for the current time.
//
// Threat: plaintext hijack and impersonation. A page cannot name the host to verify against (sni
// only changes what is sent), cannot pass its own roots, and cannot ask for errors to be ignored.
func verifyPeer(chain []*x509.Certificate, host string, pins PinStore, now time.Time) (bool, *PageError) {
	if len(chain) == 0 {
		return false, tlsFailure("the server sent no certificate")
	}
	leaf := chain[0]
	sum := sha256.Sum256(leaf.Raw)
	if pins != nil && pins.Pinned(host, hex.EncodeToString(sum[:])) {
		return true, nil
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Intermediates: inter, CurrentTime: now})
	if err == nil {
		return false, nil
	}
	return false, certFailure(err, leaf, host, now)
}

// certFailure says in words what is wrong with a certificate. Only facts from the certificate
// itself go in; those are public, since the server shows them to anyone who connects.
func certFailure(err error, leaf *x509.Certificate, host string, now time.Time) *PageError {
	var invalid x509.CertificateInvalidError
	var hostErr x509.HostnameError
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		if now.Before(leaf.NotBefore) {
			return tlsFailure("the server's certificate is not valid before " + leaf.NotBefore.UTC().Format(time.DateOnly))
		}
		return tlsFailure("the server's certificate expired on " + leaf.NotAfter.UTC().Format(time.DateOnly))
	case errors.As(err, &hostErr):
		return tlsFailure(fmt.Sprintf("the server's certificate is for %s, not for %s", certNames(leaf), host))
	case errors.As(err, &unknown):
		sum := sha256.Sum256(leaf.Raw)
		return tlsFailure(fmt.Sprintf("the server's certificate (SHA-256 %s) is not issued by an authority this computer trusts; "+
			"if this is your own device, pin it with `socketeer trust add`", colonHex(sum[:])))
	case errors.As(err, &invalid):
		return tlsFailure("the server's certificate chain is invalid: " + strings.TrimPrefix(invalid.Error(), "x509: "))
	}
	return tlsFailure("the server's certificate could not be verified")
}

// certNames lists the names a certificate is for, shortened.
func certNames(c *x509.Certificate) string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = []string{c.Subject.CommonName}
	}
	if len(names) == 0 {
		return "no host name"
	}
	if len(names) > 3 {
		names = append(names[:3], fmt.Sprintf("%d more", len(names)-3))
	}
	return strings.Join(names, ", ")
}

func tlsFailure(msg string) *PageError {
	return &PageError{Name: NetworkError, Message: "TLS: " + msg}
}

// handshake runs the TLS client handshake over tcp and describes the session for `opened`.
func (sk *socket) handshake(tcp *net.TCPConn) (*tls.Conn, *TLSInfo, *PageError) {
	var pinned bool
	var failure *PageError
	conn := tls.Client(tcp, sk.tlsConfig(&pinned, &failure))
	ctx, cancel := context.WithTimeout(sk.ctx, handshakeTimeout)
	defer cancel()
	err := conn.HandshakeContext(ctx)
	if failure != nil {
		return nil, nil, failure
	}
	if err != nil {
		sk.s.m.log.Info("tls handshake failed", "host", sk.sec.host.Name, "error", err)
		return nil, nil, handshakeFailure(ctx, err)
	}
	cs := conn.ConnectionState()
	leaf := cs.PeerCertificates[0]
	sum := sha256.Sum256(leaf.Raw)
	info := &TLSInfo{
		Version:      tls.VersionName(cs.Version),
		CipherSuite:  tls.CipherSuiteName(cs.CipherSuite),
		ALPNProtocol: cs.NegotiatedProtocol,
		PeerCertificate: PeerCertificate{
			Subject:           leaf.Subject.String(),
			Issuer:            leaf.Issuer.String(),
			ValidFrom:         leaf.NotBefore.UTC().Format(time.RFC3339),
			ValidTo:           leaf.NotAfter.UTC().Format(time.RFC3339),
			SHA256Fingerprint: colonHex(sum[:]),
			Pinned:            pinned,
		},
	}
	sk.s.m.log.Info("tls established", "host", sk.sec.host.Name, "version", info.Version,
		"cipher", info.CipherSuite, "pinned", pinned)
	return conn, info, nil
}

// handshakeFailure maps a handshake error other than a certificate failure to a stable message.
func handshakeFailure(ctx context.Context, err error) *PageError {
	var alert tls.AlertError
	var record tls.RecordHeaderError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return tlsFailure("the handshake timed out")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return tlsFailure("the server closed the connection during the handshake")
	case errors.As(err, &alert):
		return tlsFailure("the server refused the handshake (" + strings.TrimPrefix(alert.Error(), "tls: ") + ")")
	case errors.As(err, &record):
		return tlsFailure("the server did not answer in TLS; is this port a TLS port?")
	}
	if msg, ok := strings.CutPrefix(err.Error(), "tls: "); ok {
		// crypto/tls's own errors name the protocol problem (versions, cipher suites) and carry no
		// local detail.
		return tlsFailure("the handshake failed: " + msg)
	}
	return tlsFailure("the handshake failed")
}

// colonHex writes bytes as colon-separated uppercase pairs.
func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":")
}

// stream is the byte stream of an open socket: the TCP connection itself, or TLS over it.
type stream interface {
	net.Conn
	CloseWrite() error
}

// halfClose ends the page's direction. Over TLS that is a close_notify alert followed by the TCP FIN,
// so servers that watch either one see the end.
func halfClose(conn stream, tcp *net.TCPConn) error {
	err := conn.CloseWrite()
	if stream(tcp) != conn && err == nil {
		err = tcp.CloseWrite()
	}
	return err
}

// closeStream closes a socket's stream without blocking its caller: tls.Conn.Close first sends a
// close_notify alert, which waits (up to five seconds) when the peer has stopped reading.
func closeStream(conn stream) {
	if tc, ok := conn.(*tls.Conn); ok {
		go tc.Close()
		return
	}
	conn.Close()
}

// loopDone records that the read or write loop has returned. (UDP sockets run the write loop
// too; they never upgrade, so their count is never read.)
func (sk *socket) loopDone() {
	sk.mu.Lock()
	sk.sec.loops--
	sk.cond.Broadcast()
	sk.mu.Unlock()
}

// upgradingNow reports whether the socket is handing its connection over to a TLS socket.
func (sk *socket) upgradingNow() bool {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	return sk.sec.upgrading
}

// startTLS handles OpStartTLS: socket f.ID, opened with secureTransport "starttls", hands its
// connection to a new socket with the id in the payload, which opens once the handshake is done.
// The old socket then closes without closing the connection. Refusals go to the new id, so the
// page's startTls() promise learns why.
func (s *session) startTLS(f Frame) error {
	newID := binary.BigEndian.Uint32(f.Payload)
	s.mu.Lock()
	old := s.sockets[f.ID]
	_, dup := s.sockets[newID]
	s.mu.Unlock()
	if dup {
		return fmt.Errorf("%w: startTls to socket id %d, which is in use", ErrProtocol, newID)
	}
	refuse := func(perr *PageError) {
		b, _ := json.Marshal(perr)
		s.send(OpError, newID, b)
	}
	if old == nil {
		refuse(&PageError{Name: InvalidStateError, Message: "the socket is closed"})
		return nil
	}
	if perr := old.beginUpgrade(); perr != nil {
		refuse(perr)
		return nil
	}
	// The new socket takes over the old one's slot: it is the same connection.
	ny := newSocket(s, newID)
	ny.hasSlot = true
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		ny.finish(nil)
		return nil
	}
	s.sockets[newID] = ny
	s.mu.Unlock()
	go ny.upgradeFrom(old)
	return nil
}

// beginUpgrade checks that the socket may be upgraded and stops its loops. Its slot passes to the
// socket the upgrade creates.
func (sk *socket) beginUpgrade() *PageError {
	sk.mu.Lock()
	var msg string
	// open is checked first: the settings in sk.sec are only settled once the socket is open.
	switch {
	case sk.done || !sk.open:
		msg = "the socket is not open"
	case sk.sec.mode != secureStartTLS:
		msg = "startTls() needs a socket opened with secureTransport \"starttls\""
	case sk.sec.upgrading:
		msg = "startTls() was already called on this socket"
	case sk.wshut || sk.readEOF || sk.readStopped:
		msg = "the socket's streams are closed"
	}
	if msg != "" {
		sk.mu.Unlock()
		return &PageError{Name: InvalidStateError, Message: msg}
	}
	sk.sec.upgrading = true
	sk.hasSlot = false
	tcp := sk.tcp
	sk.cond.Broadcast()
	sk.mu.Unlock()
	// A read in progress returns at once; the read loop sees the upgrade and stops. Bytes it had
	// already read belong to the plaintext phase and go to the old socket, never into TLS
	// (threat: STARTTLS command injection, where plaintext sent before the handshake is later
	// taken as if it had been protected).
	tcp.SetReadDeadline(time.Now())
	return nil
}

// upgradeFrom waits until the old socket has written everything the page sent before startTls(),
// takes its connection, closes the old socket and runs the handshake.
func (sk *socket) upgradeFrom(old *socket) {
	old.mu.Lock()
	for old.sec.loops > 0 && !old.done {
		old.cond.Wait()
	}
	if old.done {
		old.mu.Unlock()
		sk.finish(&PageError{Name: NetworkError, Message: "the connection ended before the TLS upgrade"})
		return
	}
	tcp, sec := old.tcp, old.sec
	old.conn, old.tcp = nil, nil
	old.mu.Unlock()
	old.finish(nil)
	tcp.SetReadDeadline(time.Time{})

	sk.sec = secureState{mode: secureOn, sni: sec.sni, alpn: sec.alpn, host: sec.host}
	sk.s.m.log.Info("starting tls on an open socket", "host", sec.host.Name)
	sk.runTLS(tcp)
}

// runTLS runs the handshake over tcp and, once it succeeds, makes the socket open on TLS.
func (sk *socket) runTLS(tcp *net.TCPConn) {
	conn, tlsInfo, perr := sk.handshake(tcp)
	if perr != nil {
		tcp.Close()
		sk.finish(perr)
		return
	}
	if info, ok := sk.attach(conn, tcp, tlsInfo); ok {
		sk.s.send(OpOpened, sk.id, info)
		sk.run()
	}
}
