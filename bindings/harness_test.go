package bindings

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The harness drives the Go side of the bridge exactly as the relay script would: a real TLS
// WebSocket to a real Server, real TCP sockets behind it to servers on 127.0.0.1. The only stand-in
// is the Prompter, because the real one is a native dialog.

const (
	testOrigin = "https://app.test:8443"

	// waitTimeout bounds every wait on a frame or a condition. It is generous because the race
	// detector slows the data path by an order of magnitude; an honest run finishes far sooner.
	waitTimeout = 20 * time.Second
)

// fakePrompter answers every consent request the same way and records what it was shown.
type fakePrompter struct {
	allow    bool
	remember bool

	mu      sync.Mutex
	prompts []Prompt
}

func (p *fakePrompter) Ask(_ context.Context, pr Prompt) (Answer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.prompts = append(p.prompts, pr)
	return Answer{Allow: p.allow, Remember: p.remember}, nil
}

// setAllow changes the answer to the prompts that follow.
func (p *fakePrompter) setAllow(allow bool) {
	p.mu.Lock()
	p.allow = allow
	p.mu.Unlock()
}

func (p *fakePrompter) calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.prompts)
}

func (p *fakePrompter) last() Prompt {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.prompts) == 0 {
		return Prompt{}
	}
	return p.prompts[len(p.prompts)-1]
}

// testBridge is one running Manager and Server.
type testBridge struct {
	m        *Manager
	srv      *Server
	prompter *fakePrompter
	roots    *x509.CertPool
}

// startBridge starts a manager for testOrigin whose prompter always answers allow, and a bridge
// server for it, both torn down when the test ends.
func startBridge(tb testing.TB, cfg Config, allow bool) *testBridge {
	tb.Helper()
	p := &fakePrompter{allow: allow}
	cfg.Origin = testOrigin
	cfg.Prompter = p
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	m := NewManager(cfg)
	srv, err := NewServer(m)
	if err != nil {
		tb.Fatalf("NewServer: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(srv.CertPEM()) {
		tb.Fatal("CertPEM is not a PEM certificate")
	}
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Errorf("Server.Close: %v", err)
		}
		if err := <-served; err != nil {
			tb.Errorf("Serve: %v", err)
		}
		// http.Server.Close does not know about hijacked connections, so the WebSocket sessions
		// are ended the way the app ends them when the web process dies.
		m.CloseSessions(math.MaxUint64, "test finished")
		// A test that already failed may have failed on exactly this; waiting again only adds time.
		if !tb.Failed() {
			waitUntil(tb, "every socket is released", func() bool { return m.OpenSockets() == 0 })
		}
	})
	return &testBridge{m: m, srv: srv, prompter: p, roots: roots}
}

// dialer returns a WebSocket dialer that trusts only this bridge's certificate, like the web view.
// Its buffers hold a whole frame, so that a 64 KiB data frame leaves as one WebSocket frame as it
// does from a browser, instead of being fragmented by a small default buffer.
func (b *testBridge) dialer() *websocket.Dialer {
	return &websocket.Dialer{
		TLSClientConfig:  &tls.Config{RootCAs: b.roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12},
		HandshakeTimeout: waitTimeout,
		ReadBufferSize:   MaxFrame,
		WriteBufferSize:  MaxFrame,
	}
}

// connect opens a bridge session the way the relay does: the right URL, token and Origin.
func (b *testBridge) connect(tb testing.TB) *bridgeClient {
	tb.Helper()
	ws, resp, err := b.dialer().Dial(b.srv.URL(), http.Header{"Origin": {testOrigin}})
	if err != nil {
		tb.Fatalf("dial the bridge: %v (%s)", err, statusOf(resp))
	}
	c := newBridgeClient(ws)
	tb.Cleanup(c.close)
	return c
}

func statusOf(resp *http.Response) string {
	if resp == nil {
		return "no response"
	}
	return resp.Status
}

// errBadGoFrame marks a message from Go that breaks the protocol; tests fail on it.
var errBadGoFrame = errors.New("malformed frame from Go")

// bridgeClient plays the relay script: it sends frames and collects Go's frames per socket id.
// Incoming frames are queued without bound, so that the reader never blocks Go's writer while a test
// is busy sending; a blocked writer would otherwise stall the session and hide what is being tested.
type bridgeClient struct {
	ws         *websocket.Conn
	wmu        sync.Mutex
	activation uint64

	mu      sync.Mutex
	frames  map[uint32][]Frame
	readErr error
	changed chan struct{} // closed and replaced whenever frames or readErr change
	done    chan struct{} // closed when the reader has stopped
}

func newBridgeClient(ws *websocket.Conn) *bridgeClient {
	c := &bridgeClient{
		ws:      ws,
		frames:  map[uint32][]Frame{},
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
	go c.readLoop()
	return c
}

func (c *bridgeClient) readLoop() {
	defer close(c.done)
	for {
		typ, data, err := c.ws.ReadMessage()
		var fs []Frame
		if err == nil {
			fs, err = parseGoMessage(typ, data)
		}
		c.mu.Lock()
		if err != nil {
			c.readErr = err
		} else {
			for _, f := range fs {
				c.frames[f.ID] = append(c.frames[f.ID], f)
			}
		}
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// parseGoFrame checks a Go-to-page message against the protocol, so every test also verifies that Go
// only ever sends well-formed frames.
// parseGoMessage splits one message from Go into its frames: one, or those of an OpBatch.
func parseGoMessage(typ int, b []byte) ([]Frame, error) {
	if typ != websocket.BinaryMessage || len(b) < headerLen || Op(b[0]) != OpBatch {
		f, err := parseGoFrame(typ, b)
		return []Frame{f}, err
	}
	var fs []Frame
	for p := b[headerLen:]; len(p) > 0; {
		if len(p) < 4 || int(binary.BigEndian.Uint32(p)) > len(p)-4 {
			return nil, fmt.Errorf("%w: truncated batch", errBadGoFrame)
		}
		n := int(binary.BigEndian.Uint32(p))
		f, err := parseGoFrame(typ, p[4:4+n])
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
		p = p[4+n:]
	}
	if len(fs) < 2 {
		return nil, fmt.Errorf("%w: a batch of %d frames", errBadGoFrame, len(fs))
	}
	return fs, nil
}

func parseGoFrame(typ int, b []byte) (Frame, error) {
	if typ != websocket.BinaryMessage {
		return Frame{}, fmt.Errorf("%w: message type %d", errBadGoFrame, typ)
	}
	if len(b) < headerLen {
		return Frame{}, fmt.Errorf("%w: %d bytes", errBadGoFrame, len(b))
	}
	f := Frame{Op: Op(b[0]), ID: binary.BigEndian.Uint32(b[1:5]), Payload: b[headerLen:]}
	n := len(f.Payload)
	ok := f.ID != 0
	switch f.Op {
	case OpOpened, OpError, OpAccepted, OpReply:
		ok = ok && n > 0 && n <= maxControl && json.Valid(f.Payload)
	case OpRecv:
		// A TCP chunk, or one datagram of up to 65535 bytes with its peer header.
		ok = ok && n > 0 && n <= max(MaxChunk, maxPeerHeader+65535)
	case OpEOF, OpClosed:
		ok = ok && n == 0
	case OpWriteCredit:
		ok = ok && n == 4 && binary.BigEndian.Uint32(f.Payload) > 0
	default:
		ok = false
	}
	if !ok {
		return Frame{}, fmt.Errorf("%w: op %#x id %d with %d bytes", errBadGoFrame, byte(f.Op), f.ID, n)
	}
	return f, nil
}

func (c *bridgeClient) close() {
	c.ws.Close()
	<-c.done
}

// send writes one frame.
func (c *bridgeClient) send(op Op, id uint32, payload []byte) error {
	return c.sendRaw(websocket.BinaryMessage, AppendFrame(make([]byte, 0, headerLen+len(payload)), op, id, payload))
}

// sendRaw writes any WebSocket message, for the tests that break the protocol on purpose.
func (c *bridgeClient) sendRaw(typ int, data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(waitTimeout))
	return c.ws.WriteMessage(typ, data)
}

// next returns the next frame Go sent for socket id, in order.
func (c *bridgeClient) next(id uint32) (Frame, error) {
	var timer *time.Timer
	for {
		c.mu.Lock()
		if q := c.frames[id]; len(q) > 0 {
			f := q[0]
			q[0] = Frame{}
			c.frames[id] = q[1:]
			c.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			return f, nil
		}
		if err := c.readErr; err != nil {
			c.mu.Unlock()
			return Frame{}, fmt.Errorf("bridge connection ended while waiting for socket %d: %w", id, err)
		}
		ch := c.changed
		c.mu.Unlock()
		// The timer is made only when a wait is needed, so the fast path of the benchmarks stays cheap.
		if timer == nil {
			timer = time.NewTimer(waitTimeout)
		}
		select {
		case <-ch:
		case <-timer.C:
			return Frame{}, fmt.Errorf("no frame for socket %d within %v", id, waitTimeout)
		}
	}
}

// pending reports how many frames for id have arrived and not been taken.
func (c *bridgeClient) pending(id uint32) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.frames[id])
}

// waitDropped waits until Go has closed the connection and returns the reader's error.
func (c *bridgeClient) waitDropped() error {
	select {
	case <-c.done:
	case <-time.After(waitTimeout):
		return fmt.Errorf("the bridge connection is still open after %v", waitTimeout)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if errors.Is(c.readErr, errBadGoFrame) {
		return c.readErr
	}
	return nil
}

// mustNext is next for tests: it fails the test instead of returning an error. The plain helpers
// return errors so that the benchmarks can share them.
func (c *bridgeClient) mustNext(tb testing.TB, id uint32) Frame {
	tb.Helper()
	f, err := c.next(id)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// expect returns the next frame for id and fails unless it has the given op.
func (c *bridgeClient) expect(tb testing.TB, id uint32, op Op) Frame {
	tb.Helper()
	f := c.mustNext(tb, id)
	if f.Op != op {
		tb.Fatalf("socket %d: got op %#x (%s), want %#x", id, byte(f.Op), describeFrame(f), byte(op))
	}
	return f
}

func describeFrame(f Frame) string {
	switch f.Op {
	case OpOpened, OpError:
		return string(f.Payload)
	case OpWriteCredit:
		return fmt.Sprintf("credit %d", binary.BigEndian.Uint32(f.Payload))
	}
	return fmt.Sprintf("%d bytes", len(f.Payload))
}

// expectError returns the page error Go reported for socket id.
func (c *bridgeClient) expectError(tb testing.TB, id uint32) PageError {
	tb.Helper()
	f := c.expect(tb, id, OpError)
	var pe PageError
	if err := json.Unmarshal(f.Payload, &pe); err != nil {
		tb.Fatalf("error payload %q: %v", f.Payload, err)
	}
	return pe
}

// open asks for a TCP socket to 127.0.0.1:port; extra adds or overrides request fields.
func (c *bridgeClient) open(id uint32, port int, extra map[string]any) error {
	// Every open carries a fresh input event, as the relay's would after a click; tests of the
	// activation rule override it.
	c.activation++
	req := map[string]any{"kind": "tcp", "remoteAddress": "127.0.0.1", "remotePort": port, "activation": c.activation}
	for k, v := range extra {
		req[k] = v
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	return c.send(OpOpen, id, b)
}

// openOK opens a socket that must succeed and returns what Go reported and the initial write credit.
func (c *bridgeClient) openOK(tb testing.TB, id uint32, port int, extra map[string]any) (OpenedInfo, int64) {
	tb.Helper()
	if err := c.open(id, port, extra); err != nil {
		tb.Fatal(err)
	}
	return c.expectOpened(tb, id)
}

// expectOpened waits for OpOpened and the write credit Go grants right after it.
func (c *bridgeClient) expectOpened(tb testing.TB, id uint32) (OpenedInfo, int64) {
	tb.Helper()
	f := c.expect(tb, id, OpOpened)
	var info OpenedInfo
	dec := json.NewDecoder(bytes.NewReader(f.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&info); err != nil {
		tb.Fatalf("opened payload %q: %v", f.Payload, err)
	}
	cr := c.expect(tb, id, OpWriteCredit)
	return info, int64(binary.BigEndian.Uint32(cr.Payload))
}

// streamer sends a byte stream on one socket within the write credit Go grants, and checks that the
// same stream comes back, returning read credit the way the page script does (a quarter window at a
// time). The stream is pattern repeated; its byte at offset i is pattern[i%len(pattern)].
type streamer struct {
	c       *bridgeClient
	id      uint32
	pattern []byte

	credit   int64 // write credit granted and not yet used
	sent     int64
	received int64
	returned int64 // read credit handed back
}

// run sends total more bytes and waits until they have all come back.
func (s *streamer) run(total int64) error {
	end := s.sent + total
	for s.received < end {
		if s.sent < end && s.credit > 0 {
			off := s.sent % int64(len(s.pattern))
			n := min(s.credit, end-s.sent, MaxChunk, int64(len(s.pattern))-off)
			if err := s.c.send(OpData, s.id, s.pattern[off:off+n]); err != nil {
				return err
			}
			s.credit -= n
			s.sent += n
			continue
		}
		f, err := s.c.next(s.id)
		if err != nil {
			return fmt.Errorf("after %d bytes sent and %d received: %w", s.sent, s.received, err)
		}
		if err := s.handle(f); err != nil {
			return err
		}
	}
	return nil
}

func (s *streamer) handle(f Frame) error {
	switch f.Op {
	case OpWriteCredit:
		s.credit += int64(binary.BigEndian.Uint32(f.Payload))
		// The page's unused credit can never exceed Go's largest window, because Go only tops up
		// to its window and the page's view lags Go's.
		if s.credit > maxWriteWindow {
			return fmt.Errorf("write credit %d exceeds the %d-byte window", s.credit, maxWriteWindow)
		}
	case OpRecv:
		if err := checkEcho(s.pattern, s.received, f.Payload); err != nil {
			return err
		}
		s.received += int64(len(f.Payload))
		if s.received > s.sent {
			return fmt.Errorf("received %d bytes but only sent %d", s.received, s.sent)
		}
		if s.received > ReadWindow+s.returned {
			return fmt.Errorf("Go sent %d bytes with only %d of read credit", s.received, ReadWindow+s.returned)
		}
		if n := s.received - s.returned; n >= ReadWindow/4 {
			if err := s.c.send(OpReadCredit, s.id, Uint32Payload(uint32(n))); err != nil {
				return err
			}
			s.returned += n
		}
	case OpError:
		return fmt.Errorf("socket %d failed: %s", s.id, f.Payload)
	default:
		return fmt.Errorf("socket %d: unexpected op %#x (%s)", s.id, byte(f.Op), describeFrame(f))
	}
	return nil
}

// randomBytes returns reproducible incompressible bytes, so a shifted or repeated chunk is caught.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	r.Read(b)
	return b
}

// tcpServer is a real TCP server on 127.0.0.1 that records every connection it accepts.
type tcpServer struct {
	ln       net.Listener
	port     int
	accepts  atomic.Int64
	accepted chan *serverConn
	stop     chan struct{}
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns []*serverConn
}

// serverConn is one accepted connection.
type serverConn struct {
	*net.TCPConn
	remote netip.AddrPort
	// ended is closed once the handler has returned, which each handler does only after it has seen
	// the peer's end of the stream (EOF or an error): it is how tests observe that Go closed a socket.
	ended chan struct{}
	// written counts the bytes a firehose handler has written.
	written atomic.Int64
}

func startTCPServer(tb testing.TB, handler func(*tcpServer, *serverConn)) *tcpServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &tcpServer{
		ln:       ln,
		port:     ln.Addr().(*net.TCPAddr).Port,
		accepted: make(chan *serverConn, 4096),
		stop:     make(chan struct{}),
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepts.Add(1)
			sc := &serverConn{TCPConn: c.(*net.TCPConn), remote: c.RemoteAddr().(*net.TCPAddr).AddrPort(), ended: make(chan struct{})}
			s.mu.Lock()
			s.conns = append(s.conns, sc)
			s.mu.Unlock()
			select {
			case s.accepted <- sc:
			default:
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer close(sc.ended)
				defer sc.Close()
				handler(s, sc)
			}()
		}
	}()
	tb.Cleanup(func() {
		close(s.stop)
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// next returns the next accepted connection.
func (s *tcpServer) next(tb testing.TB) *serverConn {
	tb.Helper()
	select {
	case c := <-s.accepted:
		return c
	case <-time.After(waitTimeout):
		tb.Fatalf("no connection reached the server on port %d within %v", s.port, waitTimeout)
		return nil
	}
}

// echo sends back everything it reads and, at the peer's EOF, finishes its own side too.
func echo(_ *tcpServer, c *serverConn) {
	io.Copy(c.TCPConn, c.TCPConn)
	c.CloseWrite()
}

// waitEnded waits until the server has seen the peer end the connection.
func (c *serverConn) waitEnded(tb testing.TB) {
	tb.Helper()
	select {
	case <-c.ended:
	case <-time.After(waitTimeout):
		tb.Fatalf("the server still sees the connection from %v open after %v", c.remote, waitTimeout)
	}
}

// waitUntil polls a condition until it holds or the deadline passes. It is for state that no frame
// announces (counters inside the manager); the poll interval only bounds latency, never correctness.
func waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting until %s", waitTimeout, what)
		}
		time.Sleep(time.Millisecond)
	}
}
