package bindings

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/gorilla/websocket"
)

// Resolver resolves a host name to addresses. The manager resolves exactly once per open and then
// decides on, and dials, only those addresses (threat: DNS rebinding between check and use).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

type systemResolver struct{}

func (systemResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, network, host)
}

// session is one page's bridge connection: one document (top frame or a same-origin frame) from its
// first use of the API until it unloads. Sockets belong to the session that opened them and die with it.
type session struct {
	m          *Manager
	ws         *websocket.Conn
	generation uint64
	ctx        context.Context
	cancel     context.CancelFunc

	wmu  sync.Mutex // gorilla/websocket allows one writer at a time
	dead bool

	// Frames sent while another goroutine writes wait in out and leave together in one OpBatch
	// message: one WebSocket message costs the web view far more than its bytes do.
	omu      sync.Mutex
	out      []byte
	flushing bool

	mu      sync.Mutex
	sockets map[uint32]*socket
	// allowed holds the destinations the user allowed during this page's life, so a page that
	// reconnects (or opens several sockets) to the destination it was just allowed is not asked again.
	allowed map[string]bool
	// lastActivation is the number of the input event that last let this page ask the user.
	lastActivation uint64
	// failed holds destinations whose last connection attempt failed: attempts to them are rate
	// limited even when the user allowed them.
	failed map[string]bool
	// asking holds the consent prompt in flight per destination: concurrent opens to the same
	// destination share one prompt and its answer instead of queueing a dialog each.
	asking map[string]*consentWait
	// nextAccepted is the id the next connection accepted by a server socket gets.
	nextAccepted uint32
}

type consentWait struct {
	done   chan struct{}
	answer Answer
	err    error
}

// errNoActivation refuses a prompt that no fresh user input asked for.
var errNoActivation = &PageError{Name: NotAllowedError,
	Message: "connecting to a new destination needs a click or key press on the page first"}

// takeActivation consumes the input event a request came with: each one lets the page ask once.
func (s *session) takeActivation(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq == 0 || seq <= s.lastActivation {
		return errNoActivation
	}
	s.lastActivation = seq
	return nil
}

// consent returns the user's answer for a destination of this page, asking at most once at a time.
// Only the request that asked reports Remember, so a grant is recorded once.
func (s *session) consent(ctx context.Context, key string, ask func() (Answer, error)) (Answer, error) {
	s.mu.Lock()
	if s.allowed[key] {
		s.mu.Unlock()
		return Answer{Allow: true}, nil
	}
	if w := s.asking[key]; w != nil {
		s.mu.Unlock()
		select {
		case <-w.done:
			// Waiters follow the user's answer, including a destination edited in the dialog.
			a := w.answer
			a.Remember = false
			return a, w.err
		case <-ctx.Done():
			return Answer{}, ctx.Err()
		}
	}
	w := &consentWait{done: make(chan struct{})}
	s.asking[key] = w
	s.mu.Unlock()
	w.answer, w.err = ask()
	s.mu.Lock()
	delete(s.asking, key)
	if w.answer.Allow && w.err == nil {
		s.allowed[key] = true
	}
	s.mu.Unlock()
	close(w.done)
	return w.answer, w.err
}

// serve runs a session until its WebSocket closes or the page breaks the protocol.
func (m *Manager) serve(ws *websocket.Conn) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{
		m:          m,
		ws:         ws,
		generation: m.generation.Load(),
		ctx:        ctx,
		cancel:     cancel,
		sockets:    map[uint32]*socket{},
		allowed:    map[string]bool{},
		asking:     map[string]*consentWait{},
		failed:     map[string]bool{},

		nextAccepted: FirstAcceptedID,
	}
	m.addSession(s)
	defer func() {
		s.shutdown()
		m.removeSession(s)
	}()
	// Threat: memory exhaustion. No honest relay sends a message larger than one batch, and every
	// frame in it is held to its own limit by ParseFrame.
	ws.SetReadLimit(MaxBatch)
	for {
		typ, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if typ != websocket.BinaryMessage {
			m.log.Warn("dropping bridge connection", "error", fmt.Errorf("%w: text message", ErrProtocol))
			return
		}
		frames := [][]byte{data}
		if len(data) > 0 && Op(data[0]) == OpBatchIn {
			frames, err = SplitBatch(data)
		}
		for _, b := range frames {
			if err != nil {
				break
			}
			var f Frame
			if f, err = ParseFrame(b); err == nil {
				err = s.handle(f)
			}
		}
		if err != nil {
			m.log.Warn("dropping bridge connection", "error", err)
			return
		}
	}
}

// handle dispatches one frame. Frames for a socket id that is not (or no longer) open are ignored:
// the page may legitimately race a close against data already in flight.
func (s *session) handle(f Frame) error {
	switch f.Op {
	case OpOpen:
		return s.open(f)
	case OpStartTLS:
		return s.startTLS(f)
	}
	sk := s.get(f.ID)
	if sk == nil {
		return nil
	}
	switch f.Op {
	case OpData:
		sk.queueWrite(f.Payload)
	case OpShutdown:
		sk.shutdownWrite()
	case OpShutdownRead:
		sk.stopReading()
	case OpClose:
		sk.finish(nil)
	case OpReadCredit:
		sk.addReadCredit(f.Payload)
	case OpControl:
		sk.control(f.Payload)
	}
	return nil
}

// open registers a new socket and starts opening it.
func (s *session) open(f Frame) error {
	s.mu.Lock()
	_, dup := s.sockets[f.ID]
	s.mu.Unlock()
	if dup {
		return fmt.Errorf("%w: socket id %d reused while open", ErrProtocol, f.ID)
	}
	// Threat: resource exhaustion. The slot is taken before anything else happens, so 2000
	// concurrent opens cannot get past the limit while they wait for DNS or the user.
	if !s.m.reserveSlot() {
		b, _ := json.Marshal(&PageError{Name: QuotaExceededError,
			Message: fmt.Sprintf("this site already has %d sockets open, the most Socketeer allows", s.m.cfg.MaxSockets)})
		s.send(OpError, f.ID, b)
		return nil
	}
	sk := newSocket(s, f.ID)
	sk.hasSlot = true
	s.mu.Lock()
	if s.ctx.Err() != nil {
		// The session is shutting down and has already taken its list of sockets.
		s.mu.Unlock()
		s.m.releaseSlot()
		return nil
	}
	s.sockets[f.ID] = sk
	s.mu.Unlock()
	go sk.start(f.Payload)
	return nil
}

// acceptedID returns a new id for an accepted connection, from Go's half of the id space.
func (s *session) acceptedID() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextAccepted
	// After 2^31 accepts the ids wrap within Go's half; ids still in use are skipped.
	for {
		s.nextAccepted++
		if s.nextAccepted == 0 {
			s.nextAccepted = FirstAcceptedID
		}
		if s.sockets[id] == nil {
			return id
		}
		id = s.nextAccepted
	}
}

// adopt registers a socket Go created (an accepted connection); false when the session is ending.
func (s *session) adopt(sk *socket) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return false
	}
	s.sockets[sk.id] = sk
	return true
}

func (s *session) get(id uint32) *socket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sockets[id]
}

func (s *session) remove(sk *socket) {
	s.mu.Lock()
	if s.sockets[sk.id] == sk {
		delete(s.sockets, sk.id)
	}
	s.mu.Unlock()
}

func (s *session) socketCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sockets)
}

// send writes one frame to the page. Failures mean the page is gone; the read loop notices too.
func (s *session) send(op Op, id uint32, payload []byte) {
	s.sendFrame(AppendFrame(make([]byte, 0, headerLen+len(payload)), op, id, payload))
}

// sendFrame sends one frame to the page. The caller may reuse frame once it returns. A frame that
// arrives while another is being written is copied and goes out with the others that wait, in order,
// as one batch, written by the goroutine that was already writing. What waits is bounded by the
// sockets' read credit and the site's read budget.
func (s *session) sendFrame(frame []byte) {
	s.omu.Lock()
	if s.flushing {
		s.out = binary.BigEndian.AppendUint32(s.out, uint32(len(frame)))
		s.out = append(s.out, frame...)
		s.omu.Unlock()
		return
	}
	s.flushing = true
	s.omu.Unlock()
	s.write(frame, nil)
	s.omu.Lock()
	for len(s.out) > 0 {
		batch := s.out
		s.out = nil
		s.omu.Unlock()
		if int(binary.BigEndian.Uint32(batch)) == len(batch)-4 {
			s.write(batch[4:], nil) // one frame waited: it needs no batch
		} else {
			s.write(AppendFrame(make([]byte, 0, headerLen), OpBatch, 0, nil), batch)
		}
		s.omu.Lock()
	}
	s.flushing = false
	s.omu.Unlock()
}

// write sends head and then tail as one WebSocket message.
func (s *session) write(head, tail []byte) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.dead {
		return
	}
	w, err := s.ws.NextWriter(websocket.BinaryMessage)
	if err == nil {
		_, err = w.Write(head)
	}
	if err == nil && len(tail) > 0 {
		_, err = w.Write(tail)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		s.dead = true
		s.cancel()
	}
}

// shutdown closes the WebSocket and every socket of the session. It is safe to call more than once.
func (s *session) shutdown() {
	s.cancel()
	// Close first: it unblocks a writer stuck on a peer that stopped reading, which holds wmu.
	s.ws.Close()
	s.wmu.Lock()
	s.dead = true
	s.wmu.Unlock()
	s.mu.Lock()
	all := make([]*socket, 0, len(s.sockets))
	for _, sk := range s.sockets {
		all = append(all, sk)
	}
	s.mu.Unlock()
	for _, sk := range all {
		sk.finish(nil)
	}
}

// pageErrorOf turns an error into what the page may see. Anything not already a PageError or an
// InputError is an internal failure whose details stay in the log.
func pageErrorOf(err error) *PageError {
	var pe *PageError
	if errors.As(err, &pe) {
		return pe
	}
	var ie *InputError
	if errors.As(err, &ie) {
		return &PageError{Name: TypeError, Message: ie.Msg}
	}
	return &PageError{Name: NetworkError, Message: "the connection failed"}
}
