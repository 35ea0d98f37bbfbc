package bindings

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"socketeer/policy"
)

const (
	resolveTimeout = 10 * time.Second
	dialTimeout    = 20 * time.Second
)

// socket is one TCP socket of a page. Its lifecycle is opening → open → done; finish moves it to done
// exactly once and frees everything it held.
type socket struct {
	s       *session
	id      uint32
	hasSlot bool
	ctx     context.Context
	cancel  context.CancelFunc

	mu   sync.Mutex
	cond *sync.Cond // signalled on every state change; waited on by the reader and the writer
	conn *net.TCPConn
	open bool
	done bool

	// Read side: Go may send readCredit more bytes before the page returns credit.
	readCredit  int64
	readStopped bool
	readEOF     bool

	// Write side: credit is granted to the page and not yet used; queue holds what the page sent
	// and the OS has not yet taken. Both are drawn from the origin's pool (Manager.takeCredit).
	credit    int64
	queue     [][]byte
	queued    int64
	window    int64
	starved   bool
	wshut     bool
	writeDone bool
}

func newSocket(s *session, id uint32) *socket {
	ctx, cancel := context.WithCancel(s.ctx)
	sk := &socket{s: s, id: id, ctx: ctx, cancel: cancel, window: initialWriteWindow}
	sk.cond = sync.NewCond(&sk.mu)
	return sk
}

// start validates the request, asks the policy (and the user when the policy says so), resolves and
// dials. Nothing touches the network before the policy has decided on every resolved address.
func (sk *socket) start(payload []byte) {
	m := sk.s.m
	req, err := DecodeOpen(payload)
	if err != nil {
		sk.finish(pageErrorOf(err))
		return
	}
	host, err := policy.ParseHost(req.RemoteAddress)
	if err != nil {
		sk.finish(&PageError{Name: TypeError, Message: "remoteAddress is not a valid host name or IP address"})
		return
	}
	port := int(req.RemotePort)

	addrs, err := sk.resolve(host, req.DNSQueryType)
	if err != nil {
		m.log.Info("resolution failed", "host", host.Name, "error", err)
		sk.finish(&PageError{Name: NetworkError, Message: "the host name could not be resolved"})
		return
	}

	key := fmt.Sprintf("tcp|%s|%d", host.Name, port)
	sk.s.mu.Lock()
	granted := sk.s.allowed[key]
	sk.s.mu.Unlock()
	if !granted && m.cfg.Grants != nil {
		granted = m.cfg.Grants.Granted(m.cfg.Origin, policy.TCP, policy.Connect, host.Name, port, false)
	}
	preq := policy.Request{
		Origin:    m.cfg.Origin,
		Protocol:  policy.TCP,
		Mode:      policy.Connect,
		Host:      host,
		Port:      port,
		Addresses: addrs,
		Granted:   granted,
	}
	dec := policy.Decide(preq, m.cfg.Policy)
	audit := AuditRecord{Origin: m.cfg.Origin, Protocol: string(policy.TCP), Mode: string(policy.Connect),
		Host: host.Name, Port: port, Verdict: dec.Verdict.String(), Reason: string(dec.Reason)}
	for _, a := range addrs {
		audit.Addresses = append(audit.Addresses, a.String())
	}
	record := func(answer string, remember bool) {
		if m.cfg.Audit != nil {
			audit.Answer, audit.Remember = answer, remember
			m.cfg.Audit.Record(audit)
		}
	}
	m.log.Info("policy decision", "origin", m.cfg.Origin, "dest", "tcp://"+net.JoinHostPort(host.Name, strconv.Itoa(port)),
		"verdict", dec.Verdict.String(), "reason", string(dec.Reason))
	sk.s.mu.Lock()
	failedBefore := sk.s.failed[key]
	sk.s.mu.Unlock()
	// Threat: DDoS of third parties. Attempts that are not to a granted, working destination spend
	// the origin's tokens; a flood of them is refused with a clear error.
	if (dec.Verdict == policy.Ask || failedBefore) && !m.limiter.Allow(m.cfg.Origin, m.now()) {
		record("", false)
		sk.finish(&PageError{Name: NotAllowedError,
			Message: "too many connection attempts from this site; wait a little and try again"})
		return
	}
	switch dec.Verdict {
	case policy.Allow:
		record("", false)
	case policy.Ask:
		// Threat: prompt fatigue. After repeated denials the site may not ask for a while.
		if ok, until := m.lockout.MayAsk(m.cfg.Origin, m.now()); !ok {
			record("", false)
			sk.finish(&PageError{Name: NotAllowedError, Message: fmt.Sprintf(
				"the user refused this site %d times in a row; it may ask again after %s",
				policy.LockoutDenials, until.Format("15:04"))})
			return
		}
		answer, err := sk.s.consent(sk.ctx, key, func() (Answer, error) {
			a, err := m.cfg.Prompter.Ask(sk.ctx, Prompt{
				Origin: m.cfg.Origin, Protocol: policy.TCP, Mode: policy.Connect, Host: host.Name, Port: port,
				Addresses: addrs, LocalNetwork: dec.LocalNetwork,
			})
			// A prompt that was shown and not allowed (denied, closed, timed out) is a denial.
			if err == nil || errors.Is(err, context.DeadlineExceeded) {
				m.lockout.Answered(m.cfg.Origin, a.Allow && err == nil, m.now())
			}
			return a, err
		})
		if err != nil || !answer.Allow {
			m.log.Info("connection not allowed", "dest", host.Name, "port", port, "error", err)
			pe := &PageError{Name: NotAllowedError, Message: "the user did not allow this connection"}
			errors.As(err, &pe)
			record("deny", false)
			sk.finish(pe)
			return
		}
		record("allow", answer.Remember)
		if answer.Remember && m.cfg.Grants != nil {
			if err := m.cfg.Grants.Remember(m.cfg.Origin, policy.TCP, policy.Connect, host.Name, port, false); err != nil {
				m.log.Error("could not remember the grant", "error", err)
			} else {
				m.log.Info("grant remembered", "origin", m.cfg.Origin, "dest", "tcp://"+net.JoinHostPort(host.Name, strconv.Itoa(port)))
			}
		}
	default:
		record("", false)
		sk.finish(&PageError{Name: NotAllowedError, Message: dec.Message})
		return
	}

	conn, err := sk.dial(req, addrs, port)
	sk.s.mu.Lock()
	if err != nil {
		sk.s.failed[key] = true
	} else {
		delete(sk.s.failed, key)
	}
	sk.s.mu.Unlock()
	if err != nil {
		m.limiter.Allow(m.cfg.Origin, m.now())
		m.log.Info("connect failed", "dest", host.Name, "port", port, "error", err)
		sk.finish(dialError(err))
		return
	}
	sk.mu.Lock()
	if sk.done {
		sk.mu.Unlock()
		conn.Close()
		return
	}
	sk.conn = conn
	sk.open = true
	sk.readCredit = ReadWindow
	sk.mu.Unlock()

	local := conn.LocalAddr().(*net.TCPAddr).AddrPort()
	remote := conn.RemoteAddr().(*net.TCPAddr).AddrPort()
	info, _ := json.Marshal(OpenedInfo{
		RemoteAddress: remote.Addr().Unmap().String(), RemotePort: int(remote.Port()),
		LocalAddress: local.Addr().Unmap().String(), LocalPort: int(local.Port()),
	})
	sk.s.send(OpOpened, sk.id, info)
	sk.regrant()
	go sk.readLoop()
	go sk.writeLoop()
}

func (sk *socket) resolve(host policy.Host, queryType string) ([]netip.Addr, error) {
	if host.IP.IsValid() {
		// The dialer connects to ::ffff:a.b.c.d as a.b.c.d; deciding on the same form keeps the
		// dial-time re-check exact.
		return []netip.Addr{host.IP.Unmap()}, nil
	}
	network := "ip"
	switch queryType {
	case "ipv4":
		network = "ip4"
	case "ipv6":
		network = "ip6"
	}
	ctx, cancel := context.WithTimeout(sk.ctx, resolveTimeout)
	defer cancel()
	addrs, err := sk.s.m.cfg.Resolver.LookupNetIP(ctx, network, host.Name)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, errors.New("no addresses")
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs, nil
}

// errNotDecided is returned when the dialer is about to connect to an address the policy never saw.
var errNotDecided = errors.New("dial target was not decided by the policy")

// dial connects to the first reachable address of the decided list.
func (sk *socket) dial(req OpenRequest, addrs []netip.Addr, port int) (*net.TCPConn, error) {
	decided := make(map[netip.Addr]bool, len(addrs))
	for _, a := range addrs {
		decided[a] = true
	}
	d := net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: -1,
		// Threat: DNS rebinding at dial time. The dialer is only ever given literal addresses, but
		// this re-check makes it impossible for any path to connect where the policy did not look.
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !decided[ap.Addr().Unmap()] {
				return errNotDecided
			}
			return nil
		},
	}
	if req.KeepAlive || req.KeepAliveDelay != nil {
		d.KeepAlive = 0
		d.KeepAliveConfig = net.KeepAliveConfig{Enable: true}
		if req.KeepAliveDelay != nil {
			d.KeepAliveConfig.Idle = time.Duration(*req.KeepAliveDelay) * time.Millisecond
		}
	}
	var firstErr error
	for _, a := range addrs {
		c, err := d.DialContext(sk.ctx, "tcp", netip.AddrPortFrom(a, uint16(port)).String())
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			if sk.ctx.Err() != nil {
				break
			}
			continue
		}
		tc := c.(*net.TCPConn)
		// Go enables TCP_NODELAY by default; the socket API's default is off.
		tc.SetNoDelay(req.NoDelay)
		if req.SendBufferSize != nil {
			tc.SetWriteBuffer(int(*req.SendBufferSize))
		}
		if req.ReceiveBufferSize != nil {
			tc.SetReadBuffer(int(*req.ReceiveBufferSize))
		}
		return tc, nil
	}
	return nil, firstErr
}

// dialError maps a dial failure to a stable message for the page.
func dialError(err error) *PageError {
	msg := "the connection failed"
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		msg = "the connection was refused"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		msg = "the connection timed out"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		msg = "the host is unreachable"
	}
	return &PageError{Name: NetworkError, Message: msg}
}

// readLoop moves bytes from the OS socket to the page while the page has credit left. The frame is
// built in place: the OS reads into the buffer just after the header, so data is copied once.
func (sk *socket) readLoop() {
	buf := make([]byte, headerLen+MaxChunk)
	buf[0] = byte(OpRecv)
	binary.BigEndian.PutUint32(buf[1:headerLen], sk.id)
	for {
		sk.mu.Lock()
		for sk.readCredit <= 0 && !sk.readStopped && !sk.done {
			sk.cond.Wait()
		}
		if sk.done || sk.readStopped {
			sk.mu.Unlock()
			return
		}
		n := min(sk.readCredit, MaxChunk)
		conn := sk.conn
		sk.mu.Unlock()

		k, err := conn.Read(buf[headerLen : headerLen+n])
		if k > 0 {
			sk.mu.Lock()
			sk.readCredit -= int64(k)
			sk.mu.Unlock()
			sk.s.sendFrame(buf[:headerLen+k])
		}
		if err == io.EOF {
			sk.s.send(OpEOF, sk.id, nil)
			sk.mu.Lock()
			sk.readEOF = true
			clean := sk.writeDone
			sk.mu.Unlock()
			if clean {
				sk.finish(nil)
			}
			return
		}
		if err != nil {
			sk.mu.Lock()
			stopped := sk.done || sk.readStopped
			sk.mu.Unlock()
			if !stopped {
				sk.finish(&PageError{Name: NetworkError, Message: "the connection was reset"})
			}
			return
		}
	}
}

// writeLoop hands queued page data to the OS, all queued chunks in one vectored write, and returns
// the credit as the OS takes it.
func (sk *socket) writeLoop() {
	m := sk.s.m
	for {
		sk.mu.Lock()
		for len(sk.queue) == 0 && !sk.wshut && !sk.done {
			sk.cond.Wait()
		}
		if sk.done {
			sk.mu.Unlock()
			return
		}
		if len(sk.queue) == 0 && sk.wshut {
			conn := sk.conn
			sk.mu.Unlock()
			err := conn.CloseWrite()
			sk.mu.Lock()
			sk.writeDone = true
			clean := sk.readEOF || sk.readStopped
			sk.mu.Unlock()
			if err != nil {
				sk.finish(&PageError{Name: NetworkError, Message: "the connection was reset"})
			} else if clean {
				sk.finish(nil)
			}
			return
		}
		bufs := net.Buffers(sk.queue)
		n := sk.queued
		sk.queue = nil
		conn := sk.conn
		sk.mu.Unlock()

		if _, err := bufs.WriteTo(conn); err != nil {
			sk.finish(&PageError{Name: NetworkError, Message: "the connection was lost while sending"})
			return
		}
		sk.mu.Lock()
		if sk.done {
			// finish already returned these bytes to the pool with the rest of the socket's credit.
			sk.mu.Unlock()
			return
		}
		sk.queued -= n
		sk.mu.Unlock()
		m.returnCredit(sk, n, false)
		sk.regrant()
	}
}

// queueWrite accepts page data within the credit Go granted.
func (sk *socket) queueWrite(p []byte) {
	sk.mu.Lock()
	if sk.done {
		sk.mu.Unlock()
		return
	}
	// Threat: memory exhaustion. A page that sends more than its credit (only possible by forging
	// relay events) would make Go buffer without bound; it loses the socket instead.
	if !sk.open || sk.wshut || int64(len(p)) > sk.credit {
		sk.mu.Unlock()
		sk.finish(&PageError{Name: QuotaExceededError, Message: fmt.Sprintf(
			"the page sent more data than Socketeer can buffer (at most %d MiB per site)", sk.s.m.cfg.MaxBuffered>>20)})
		return
	}
	sk.credit -= int64(len(p))
	if sk.credit == 0 {
		sk.starved = true
	}
	sk.queue = append(sk.queue, p)
	sk.queued += int64(len(p))
	sk.cond.Broadcast()
	sk.mu.Unlock()
}

// regrant tops the page's write credit back up to the socket's window, in batches of at least a
// quarter window so that credit frames stay rare on a busy socket.
func (sk *socket) regrant() {
	sk.mu.Lock()
	if sk.done || !sk.open || sk.wshut {
		sk.mu.Unlock()
		return
	}
	if sk.starved && sk.window < maxWriteWindow {
		sk.window *= 2
	}
	sk.starved = false
	want := sk.window - sk.credit - sk.queued
	if want <= 0 || (want < sk.window/4 && sk.credit > 0) {
		sk.mu.Unlock()
		return
	}
	got := sk.s.m.takeCredit(sk, want)
	sk.credit += got
	sk.mu.Unlock()
	if got > 0 {
		sk.s.send(OpWriteCredit, sk.id, Uint32Payload(uint32(got)))
	}
}

func (sk *socket) shutdownWrite() {
	sk.mu.Lock()
	sk.wshut = true
	sk.cond.Broadcast()
	sk.mu.Unlock()
}

func (sk *socket) stopReading() {
	sk.mu.Lock()
	if sk.readStopped || sk.done {
		sk.mu.Unlock()
		return
	}
	sk.readStopped = true
	conn := sk.conn
	clean := sk.writeDone
	sk.cond.Broadcast()
	sk.mu.Unlock()
	if conn != nil {
		conn.CloseRead()
	}
	if clean {
		sk.finish(nil)
	}
}

func (sk *socket) addReadCredit(p []byte) {
	n := int64(binary.BigEndian.Uint32(p))
	sk.mu.Lock()
	// An honest page never holds more than one window; clamping keeps a forged grant harmless.
	sk.readCredit = min(sk.readCredit+n, ReadWindow)
	sk.cond.Broadcast()
	sk.mu.Unlock()
}

// finish ends the socket once: with perr nil it closed cleanly (the page sees `closed` resolve),
// otherwise the page sees perr. All credit, the slot and the OS socket are released.
func (sk *socket) finish(perr *PageError) {
	sk.mu.Lock()
	if sk.done {
		sk.mu.Unlock()
		return
	}
	sk.done = true
	held := sk.credit + sk.queued
	sk.credit, sk.queued, sk.queue = 0, 0, nil
	conn := sk.conn
	sk.cond.Broadcast()
	sk.mu.Unlock()

	sk.cancel()
	if conn != nil {
		conn.Close()
	}
	m := sk.s.m
	m.returnCredit(sk, held, true)
	if sk.hasSlot {
		m.releaseSlot()
	}
	sk.s.remove(sk)
	if perr != nil {
		b, _ := json.Marshal(perr)
		sk.s.send(OpError, sk.id, b)
		return
	}
	sk.s.send(OpClosed, sk.id, nil)
}
