package bindings

import (
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/gorilla/websocket"

	"socketeer/bindings/selfsigned"
)

// Why a loopback wss:// server carries the data path:
//
//   - WebKitGTK script messages mangle typed arrays (a Uint8Array arrives as an object of numbered
//     keys, an ArrayBuffer as {}), so bytes would need base64 both ways; evaluate_javascript pushes
//     run with a forced user gesture, which would hand pages a user activation they never earned.
//   - A WebSocket carries binary messages natively; measured on this machine it moved 250–300 MB/s
//     page → Go and 300–500 MB/s Go → page, the fastest of the paths tried (see webkit-notes.md).
//   - Opened from our isolated-world script it is not subject to the page's Content-Security-Policy
//     and causes no violation report, so pages with `default-src 'self'` work unchanged.
//
// Who may use it, and how the origin is established:
//
//   - The relay script that opens the connection lives in an isolated script world; page script
//     cannot read its source or its variables, so the per-process token embedded in it is unknown
//     to the page. Another local process does not have it either (threat: local processes using the
//     transport). The token is compared in constant time.
//   - The origin is taken from the Origin header of the handshake. WebKit sets that header from the
//     security origin of the frame whose script opened the WebSocket; page script cannot set or
//     change it. It must equal the profile's origin exactly, which refuses cross-origin frames and
//     sandboxed frames ("null") even if they somehow obtained the token.
//   - The server listens on 127.0.0.1 only, with an ephemeral certificate trusted for 127.0.0.1 in
//     this process's web view alone; the Host header must name that exact address (threat: DNS
//     rebinding against the bridge itself).
type Server struct {
	m     *Manager
	token string
	ln    net.Listener
	addr  netip.AddrPort
	pem   []byte
	srv   *http.Server
}

// NewServer listens on a random loopback port for the manager's origin.
func NewServer(m *Manager) (*Server, error) {
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return nil, fmt.Errorf("generate bridge token: %w", err)
	}
	// The bridge certificate's key never leaves memory; a new one is made for every run.
	cert, err := selfsigned.New("Socketeer bridge", []string{"127.0.0.1"}, 7*24*time.Hour)
	if err != nil {
		return nil, fmt.Errorf("bridge certificate: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the bridge: %w", err)
	}
	s := &Server{
		m:     m,
		token: hex.EncodeToString(tok),
		ln:    ln,
		addr:  ln.Addr().(*net.TCPAddr).AddrPort(),
		pem:   cert.CertPEM,
	}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.handle),
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert.TLS}, MinVersion: tls.VersionTLS12},
		// TLS handshake noise (a page closing its WebSocket mid-handshake) is detail, not news.
		ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// Serve accepts bridge connections until Close.
func (s *Server) Serve() error {
	err := s.srv.ServeTLS(s.ln, "", "")
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}

// Close stops the server and ends every session with its sockets (http.Server.Close leaves hijacked
// WebSocket connections alone).
func (s *Server) Close() error {
	err := s.srv.Close()
	s.m.CloseSessions(math.MaxUint64, "bridge closed")
	return err
}

// URL is the address the relay script connects to, token included.
func (s *Server) URL() string {
	return fmt.Sprintf("wss://%s/bridge?t=%s", s.addr, s.token)
}

// Addr is the bridge's loopback address and port.
func (s *Server) Addr() string { return s.addr.String() }

// Host is the host the certificate must be trusted for in the web view.
func (s *Server) Host() string { return s.addr.Addr().String() }

// CertPEM is the ephemeral certificate, for the web view's per-host trust.
func (s *Server) CertPEM() []byte { return s.pem }

var upgrader = websocket.Upgrader{
	ReadBufferSize:  MaxFrame,
	WriteBufferSize: MaxFrame,
	// The origin check is done in handle, before Upgrade, against the profile's exact origin.
	CheckOrigin: func(*http.Request) bool { return true },
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	// Threat: DNS rebinding against the bridge. Only the literal loopback address is accepted.
	if r.Host != s.addr.String() || r.URL.Path != "/bridge" {
		s.m.log.Warn("bridge connection refused", "reason", "bad host or path", "host", r.Host, "remote", r.RemoteAddr)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	// Threat: other local processes and page script. Only our isolated-world relay knows the token.
	if subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("t")), []byte(s.token)) != 1 {
		s.m.log.Warn("bridge connection refused", "reason", "bad token", "remote", r.RemoteAddr)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	// Threat: third-party frames. The Origin header is set by WebKit from the frame's security
	// origin; it is the shell's knowledge of who is asking, never a value the page chose.
	if origin := r.Header.Get("Origin"); origin != s.m.cfg.Origin {
		s.m.log.Warn("bridge connection refused", "reason", "origin mismatch", "origin", origin)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.m.log.Info("bridge session opened", "origin", s.m.cfg.Origin)
	s.m.serve(ws)
	s.m.log.Info("bridge session closed", "origin", s.m.cfg.Origin)
}
