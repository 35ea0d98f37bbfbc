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
	cond *sync.Cond       // signalled on every state change; waited on by the reader and the writer
	conn stream           // the TCP connection, or TLS over it
	tcp  *net.TCPConn     // the OS socket under conn
	udp  *udpState        // set for UDP sockets
	ln   *net.TCPListener // set for server sockets
	open bool
	done bool
	sec  secureState // TLS settings and the STARTTLS upgrade (tls.go)

	// Read side: Go may send readCredit more bytes before the page returns credit. readHeld is
	// what was sent and not yet credited back, taken from the site's read budget (takeRead);
	// readWoken says the budget was returned while this socket waited for it.
	readCredit  int64
	readHeld    int64
	readWoken   bool
	readStopped bool
	readEOF     bool

	// Write side: credit is granted to the page and not yet used; queue holds what the page sent
	// and the OS has not yet taken. Both are drawn from the origin's pool (Manager.takeCredit).
	credit    int64
	queue     [][]byte
	queued    int64
	borrowed  int64 // the part of credit+queued beyond baseWriteCredit, taken from the pool
	window    int64
	starved   bool
	wshut     bool
	writeDone bool

	inspect *inspectInfo // set once connected; see inspect.go
}

func newSocket(s *session, id uint32) *socket {
	ctx, cancel := context.WithCancel(s.ctx)
	sk := &socket{s: s, id: id, ctx: ctx, cancel: cancel, window: initialWriteWindow}
	sk.cond = sync.NewCond(&sk.mu)
	return sk
}

// target is one destination (or, for serving sockets, the local address) with what the policy
// decides on.
type target struct {
	proto policy.Protocol
	mode  policy.Mode
	host  policy.Host
	port  int
	addrs []netip.Addr
	tls   bool
}

// key names the destination for the page's own memory of answers; TLS is part of it, as in grants
// (threat: downgrade, an answer for an encrypted connection reused for a plaintext one).
func (t target) key() string {
	return fmt.Sprintf("%s|%s|%s|%d|%t", t.proto, t.mode, t.host.Name, t.port, t.tls)
}

func (t target) display() string {
	scheme := string(t.proto)
	if t.mode != policy.Connect {
		scheme += "-" + string(t.mode)
	}
	return scheme + "://" + net.JoinHostPort(t.host.Name, strconv.Itoa(t.port))
}

// kindOf maps an open request to the policy's protocol and mode.
func kindOf(req OpenRequest) (policy.Protocol, policy.Mode) {
	switch {
	case req.Kind == KindTCPServer:
		return policy.TCP, policy.Listen
	case req.Kind == KindUDP && req.LocalAddress != nil:
		return policy.UDP, policy.Bind
	case req.Kind == KindUDP:
		return policy.UDP, policy.Connect
	}
	return policy.TCP, policy.Connect
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
	proto, mode := kindOf(req)
	sk.sec = secureState{mode: req.SecureTransport, sni: req.SNI, alpn: req.ALPN}
	tgt := target{proto: proto, mode: mode, tls: req.SecureTransport == secureOn}
	// Without an address the user chooses the destination in the dialog: there is nothing to decide
	// on before asking, and the page learns only what the user chose.
	dec := policy.Decision{Verdict: policy.Ask, Reason: "needs-address"}
	key := fmt.Sprintf("%s|?|%p", proto, sk)
	if mode != policy.Connect {
		// Serving sockets are decided on their local address, an IP literal (DecodeOpen checked).
		host, err := policy.ParseHost(*req.LocalAddress)
		if err != nil {
			sk.finish(&PageError{Name: TypeError, Message: "localAddress must be an IP address"})
			return
		}
		tgt.host, tgt.addrs = host, []netip.Addr{host.IP.Unmap()}
		if req.LocalPort != nil {
			tgt.port = int(*req.LocalPort)
		}
		dec = sk.decide(tgt, false)
		key = tgt.key()
	} else if req.RemoteAddress != "" {
		host, err := policy.ParseHost(req.RemoteAddress)
		if err != nil {
			sk.finish(&PageError{Name: TypeError, Message: "remoteAddress is not a valid host name or IP address"})
			return
		}
		// Threat: probing internal names. What can be refused without an address (API disabled,
		// origin blocked, bad port, port 443) is refused before any DNS query is made.
		tgt.host, tgt.port = host, int(req.RemotePort)
		if pre := policy.Decide(sk.request(tgt), m.cfg.Policy); pre.Verdict == policy.Deny && pre.Reason != policy.ReasonUnresolved {
			sk.logDecision(tgt, pre)
			if !sk.spendAttempt(tgt, pre, false) {
				return
			}
			sk.audit(tgt, pre, "")
			sk.finish(&PageError{Name: NotAllowedError, Message: pre.Message})
			return
		}
		if tgt, err = sk.lookup(tgt, req.DNSQueryType); err != nil {
			sk.finish(&PageError{Name: NetworkError, Message: "the host name could not be resolved"})
			return
		}
		dec = sk.decide(tgt, false)
		key = tgt.key()
	}
	sk.s.mu.Lock()
	failedBefore := sk.s.failed[key]
	sk.s.mu.Unlock()
	if !sk.spendAttempt(tgt, dec, failedBefore) {
		return
	}
	switch dec.Verdict {
	case policy.Allow:
		sk.audit(tgt, dec, "")
	case policy.Ask:
		var ok bool
		if tgt, ok = sk.ask(key, tgt, dec, req.Activation); !ok {
			return
		}
	default:
		sk.audit(tgt, dec, "")
		sk.finish(&PageError{Name: NotAllowedError, Message: dec.Message})
		return
	}
	switch mode {
	case policy.Listen:
		sk.listen(req, tgt)
	case policy.Bind:
		sk.bindUDP(req, tgt)
	default:
		sk.connect(req, tgt)
	}
}

// spendAttempt charges the origin's token bucket for an attempt that is not to a granted, working
// destination, and refuses the attempt when the bucket is empty.
//
// Threat: DDoS of third parties, and floods of refused requests that would crowd the audit log.
// Granted destinations that work are never limited.
func (sk *socket) spendAttempt(tgt target, dec policy.Decision, failedBefore bool) bool {
	m := sk.s.m
	if dec.Verdict == policy.Allow && !failedBefore {
		return true
	}
	if m.limiter.Allow(m.cfg.Origin, m.now()) {
		return true
	}
	sk.audit(tgt, dec, "")
	sk.finish(&PageError{Name: NotAllowedError,
		Message: "too many connection attempts from this site; wait a little and try again"})
	return false
}

// lookup resolves a destination once; the policy then decides on exactly these addresses.
func (sk *socket) lookup(tgt target, queryType string) (target, error) {
	addrs, err := sk.resolve(tgt.host, queryType)
	if err != nil {
		sk.s.m.log.Info("resolution failed", "host", tgt.host.Name, "error", err)
		return target{}, err
	}
	tgt.addrs = addrs
	return tgt, nil
}

// request is what the policy knows of a connection to tgt from this origin.
func (sk *socket) request(tgt target) policy.Request {
	return policy.Request{Origin: sk.s.m.cfg.Origin, Protocol: tgt.proto, Mode: tgt.mode,
		Host: tgt.host, Port: tgt.port, Addresses: tgt.addrs, TLS: tgt.tls}
}

// decide asks the policy about a destination, counting grants the page or the profile holds.
func (sk *socket) decide(tgt target, userTyped bool) policy.Decision {
	m := sk.s.m
	req := sk.request(tgt)
	req.UserTyped = userTyped
	req.Granted = sk.granted(tgt)
	dec := policy.Decide(req, m.cfg.Policy)
	sk.logDecision(tgt, dec)
	return dec
}

// granted reports whether the user allowed tgt during this page's life or remembered it.
func (sk *socket) granted(tgt target) bool {
	sk.s.mu.Lock()
	ok := sk.s.allowed[tgt.key()]
	sk.s.mu.Unlock()
	if !ok && sk.s.m.cfg.Grants != nil {
		ok = sk.s.m.cfg.Grants.Granted(sk.request(tgt))
	}
	return ok
}

// remember records a lasting grant for tgt, as the user asked in the dialog.
func (sk *socket) remember(tgt target) {
	m := sk.s.m
	if m.cfg.Grants == nil {
		return
	}
	if err := m.cfg.Grants.Remember(sk.request(tgt)); err != nil {
		m.log.Error("could not remember the grant", "error", err)
		return
	}
	m.log.Info("grant remembered", "origin", m.cfg.Origin, "dest", tgt.display())
}

func (sk *socket) logDecision(tgt target, dec policy.Decision) {
	m := sk.s.m
	m.log.Info("policy decision", "origin", m.cfg.Origin, "dest", tgt.display(),
		"verdict", dec.Verdict.String(), "reason", string(dec.Reason))
}

// audit hands one decision to the audit log.
func (sk *socket) audit(tgt target, dec policy.Decision, answer string) {
	sk.auditAnswer(tgt, dec, answer, false)
}

// auditAnswer is audit with whether the user also chose to remember the answer.
func (sk *socket) auditAnswer(tgt target, dec policy.Decision, answer string, remember bool) {
	m := sk.s.m
	if m.cfg.Audit == nil {
		return
	}
	r := AuditRecord{Origin: m.cfg.Origin, Protocol: string(tgt.proto), Mode: string(tgt.mode),
		Host: tgt.host.Name, Port: tgt.port, TLS: tgt.tls, Verdict: dec.Verdict.String(), Reason: string(dec.Reason),
		Answer: answer, Remember: remember}
	for _, a := range tgt.addrs {
		r.Addresses = append(r.Addresses, a.String())
	}
	m.cfg.Audit.Record(r)
}

// ask puts the destination before the user and returns the destination the user allowed, which the
// user may have edited; a changed destination is decided again by the policy, as typed by the user.
// It finishes the socket itself when the answer is no.
func (sk *socket) ask(key string, tgt target, dec policy.Decision, activation uint64) (target, bool) {
	answer, perr := sk.consent(key, tgt, dec, activation)
	if perr != nil {
		sk.finish(perr)
		return tgt, false
	}
	if edited := answer.Host != "" && (answer.Host != tgt.host.Name || answer.Port != strconv.Itoa(tgt.port)); edited {
		if tgt, perr = sk.retarget(tgt, answer); perr != nil {
			sk.finish(perr)
			return tgt, false
		}
	} else if tgt.host.Name == "" {
		sk.finish(&PageError{Name: NotAllowedError, Message: "the user did not enter an address"})
		return tgt, false
	}
	if answer.Remember {
		sk.remember(tgt)
	}
	return tgt, true
}

// consent asks the user about tgt (sharing a prompt already showing for the same key) and returns
// the answer, or the error the page should see when the user did not allow it. activation is the
// input event the request came with.
func (sk *socket) consent(key string, tgt target, dec policy.Decision, activation uint64) (Answer, *PageError) {
	m := sk.s.m
	// Threat: prompt fatigue. After repeated denials the site may not ask for a while.
	if ok, until := m.lockout.MayAsk(m.cfg.Origin, m.now()); !ok {
		sk.audit(tgt, dec, "")
		return Answer{}, &PageError{Name: NotAllowedError, Message: fmt.Sprintf(
			"the user refused this site %d times in a row; it may ask again after %s",
			policy.LockoutDenials, until.Format("15:04"))}
	}
	answer, err := sk.s.consent(sk.ctx, key, func() (Answer, error) {
		// Threat: connections without the user knowing. A prompt needs fresh user input, consumed
		// here; requests that share this prompt share its input.
		if err := sk.s.takeActivation(activation); err != nil {
			return Answer{}, err
		}
		a, err := m.cfg.Prompter.Ask(sk.ctx, Prompt{
			Origin: m.cfg.Origin, Protocol: tgt.proto, Mode: tgt.mode, Host: tgt.host.Name, Port: tgt.port,
			Addresses: tgt.addrs, LocalNetwork: dec.LocalNetwork, Managed: dec.Managed,
			TLS: tgt.tls, StartTLS: sk.sec.mode == secureStartTLS,
		})
		// A prompt that was shown and not allowed (denied, closed, timed out) is a denial.
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			m.lockout.Answered(m.cfg.Origin, a.Allow && err == nil, m.now())
		}
		return a, err
	})
	if err != nil || !answer.Allow {
		m.log.Info("connection not allowed", "dest", tgt.display(), "error", err)
		pe := &PageError{Name: NotAllowedError, Message: "the user did not allow this connection"}
		errors.As(err, &pe)
		sk.audit(tgt, dec, "deny")
		return Answer{}, pe
	}
	sk.auditAnswer(tgt, dec, "allow", answer.Remember)
	return answer, nil
}

// retarget takes the destination the user typed in the dialog, resolves it and asks the policy
// again with UserTyped set: what the user typed is exempt from the rebinding rule (the user knows the
// name is internal) but from nothing else, so port 443 or the organisation's blocks still refuse it.
func (sk *socket) retarget(tgt target, answer Answer) (target, *PageError) {
	host, err := policy.ParseHost(answer.Host)
	if err != nil {
		return target{}, &PageError{Name: NotAllowedError, Message: "the address entered in the dialog is not a valid host name or IP address"}
	}
	port, err := strconv.Atoi(answer.Port)
	if err != nil || port < 1 || port > 65535 {
		return target{}, &PageError{Name: NotAllowedError, Message: "the port entered in the dialog is not a number from 1 to 65535"}
	}
	tgt.host, tgt.port = host, port
	tgt, err = sk.lookup(tgt, "")
	if err != nil {
		return target{}, &PageError{Name: NetworkError, Message: "the host name could not be resolved"}
	}
	dec := sk.decide(tgt, true)
	sk.audit(tgt, dec, "")
	if dec.Verdict == policy.Deny {
		return target{}, &PageError{Name: NotAllowedError, Message: dec.Message}
	}
	sk.s.mu.Lock()
	sk.s.allowed[tgt.key()] = true
	sk.s.mu.Unlock()
	return tgt, nil
}

// connect dials the decided destination and starts moving bytes.
func (sk *socket) connect(req OpenRequest, tgt target) {
	m := sk.s.m
	key := tgt.key()
	conn, err := sk.dial(req, tgt)
	sk.s.mu.Lock()
	if err != nil {
		sk.s.failed[key] = true
	} else {
		delete(sk.s.failed, key)
	}
	sk.s.mu.Unlock()
	if err != nil {
		m.limiter.Allow(m.cfg.Origin, m.now())
		m.log.Info("connect failed", "dest", tgt.display(), "error", err)
		sk.finish(dialError(err))
		return
	}
	if uc, ok := conn.(*net.UDPConn); ok {
		sk.startUDP(uc, false)
		return
	}
	tc := conn.(*net.TCPConn)
	sk.sec.host = tgt.host
	if sk.sec.mode == secureOn {
		sk.runTLS(tc)
		return
	}
	if info, ok := sk.attach(tc, tc, nil); ok {
		sk.s.send(OpOpened, sk.id, info)
		sk.run()
	}
}

// attach makes an established stream (over the TCP connection tcp) this socket's and returns what
// `opened` reports; it returns false when the socket was closed meanwhile (and the connection with
// it). The inspector shows the host the page asked for, or the peer of an accepted connection.
func (sk *socket) attach(conn stream, tcp *net.TCPConn, tlsInfo *TLSInfo) ([]byte, bool) {
	remote := tcp.RemoteAddr().(*net.TCPAddr)
	dest := ""
	if sk.sec.host.Name != "" {
		dest = net.JoinHostPort(sk.sec.host.Name, strconv.Itoa(remote.Port))
	}
	if !sk.becomeOpen(conn, ReadWindow, func() {
		sk.conn, sk.tcp = conn, tcp
		sk.inspectAs("tcp", dest, remote.String())
		sk.inspect.tls = tlsInfo != nil
	}) {
		return nil, false
	}
	info := openedInfo(tcp.LocalAddr(), tcp.RemoteAddr())
	info.TLS = tlsInfo
	b, _ := json.Marshal(info)
	return b, true
}

// becomeOpen makes an operating-system socket this socket's, with its first read credit, unless
// the page closed the socket meanwhile: then c is closed and the answer is false. set stores c; it
// runs with sk.mu held.
func (sk *socket) becomeOpen(c io.Closer, readCredit int64, set func()) bool {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.done {
		c.Close()
		return false
	}
	set()
	sk.open = true
	sk.readCredit = readCredit
	return true
}

// awaitReadCredit waits until the page has room for more, and returns how much; ok is false once
// the socket is done, the page stopped reading, or a STARTTLS upgrade takes the connection.
func (sk *socket) awaitReadCredit() (credit int64, ok bool) {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	for sk.readCredit <= 0 && !sk.readStopped && !sk.done && !sk.sec.upgrading {
		sk.cond.Wait()
	}
	return sk.readCredit, !sk.done && !sk.readStopped && !sk.sec.upgrading
}

// run grants the first write credit and starts moving bytes, once `opened` (or the accept that
// announced the socket) is on its way to the page.
func (sk *socket) run() {
	sk.mu.Lock()
	sk.sec.loops = 2
	sk.mu.Unlock()
	sk.regrant()
	go sk.readLoop()
	go sk.writeLoop()
}

// openedInfo reports a socket's addresses as the operating system sees them; remote may be nil.
func openedInfo(local, remote net.Addr) OpenedInfo {
	var info OpenedInfo
	if ap := addrPort(local); ap.IsValid() {
		info.LocalAddress, info.LocalPort = ap.Addr().Unmap().String(), int(ap.Port())
	}
	if ap := addrPort(remote); ap.IsValid() {
		info.RemoteAddress, info.RemotePort = ap.Addr().Unmap().String(), int(ap.Port())
	}
	return info
}

func addrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort()
	case *net.UDPAddr:
		return a.AddrPort()
	}
	return netip.AddrPort{}
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

// dial connects to the first reachable address of the decided list: a *net.TCPConn, or a connected
// *net.UDPConn for UDP.
func (sk *socket) dial(req OpenRequest, tgt target) (net.Conn, error) {
	decided := make(map[netip.Addr]bool, len(tgt.addrs))
	for _, a := range tgt.addrs {
		decided[a] = true
	}
	d := net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: -1,
		// Threat: DNS rebinding at dial time. The dialer is only ever given literal addresses, but
		// this re-check makes it impossible for any path to connect where the policy did not look.
		Control: func(network, address string, c syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !decided[ap.Addr().Unmap()] {
				return errNotDecided
			}
			if tgt.proto == policy.UDP {
				return noBroadcast(network, address, c)
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
	for _, a := range tgt.addrs {
		c, err := d.DialContext(sk.ctx, string(tgt.proto), netip.AddrPortFrom(a, uint16(tgt.port)).String())
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			if sk.ctx.Err() != nil {
				break
			}
			continue
		}
		if tc, ok := c.(*net.TCPConn); ok {
			// Go enables TCP_NODELAY by default; the socket API's default is off.
			tc.SetNoDelay(req.NoDelay)
		}
		setBuffers(c.(bufferSetter), req)
		return c, nil
	}
	return nil, firstErr
}

// bufferSetter is the part of *net.TCPConn and *net.UDPConn that sizes kernel buffers.
type bufferSetter interface {
	SetReadBuffer(int) error
	SetWriteBuffer(int) error
}

func setBuffers(c bufferSetter, req OpenRequest) {
	if req.SendBufferSize != nil {
		c.SetWriteBuffer(int(*req.SendBufferSize))
	}
	if req.ReceiveBufferSize != nil {
		c.SetReadBuffer(int(*req.ReceiveBufferSize))
	}
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
	defer sk.loopDone()
	// The buffer starts small and grows while reads fill it: a thousand idle or chatty sockets
	// then hold a few KiB each instead of 64 KiB, and a bulk transfer reaches full frames after
	// two reads.
	size := int64(initialReadBuffer)
	buf := sk.frameBuffer(size)
	conn := sk.conn
	for {
		credit, ok := sk.awaitReadCredit()
		if !ok {
			return
		}
		n := min(credit, size)
		k, err := conn.Read(buf[headerLen : headerLen+n])
		if k > 0 {
			if !sk.sendWithinBudget(buf, k) {
				return
			}
			if int64(k) == size && size < MaxChunk {
				size = min(size*4, MaxChunk)
				buf = sk.frameBuffer(size)
			}
		}
		if err != nil && sk.upgradingNow() {
			return
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

// initialReadBuffer is the read buffer a TCP socket starts with (see readLoop).
const initialReadBuffer = 4 << 10

// frameBuffer returns a buffer for an OpRecv frame of up to size data bytes, its header written.
func (sk *socket) frameBuffer(size int64) []byte {
	buf := make([]byte, headerLen+size)
	buf[0] = byte(OpRecv)
	binary.BigEndian.PutUint32(buf[1:headerLen], sk.id)
	return buf
}

// writeLoop hands queued page data to the OS, all queued chunks in one vectored write, and returns
// the credit as the OS takes it.
func (sk *socket) writeLoop() {
	defer sk.loopDone()
	m := sk.s.m
	for {
		sk.mu.Lock()
		for len(sk.queue) == 0 && !sk.wshut && !sk.done && !sk.sec.upgrading {
			sk.cond.Wait()
		}
		// An upgrade waits until what the page sent before startTls() has gone out.
		if sk.done || (sk.sec.upgrading && len(sk.queue) == 0) {
			sk.mu.Unlock()
			return
		}
		if len(sk.queue) == 0 && sk.wshut {
			conn, tcp := sk.conn, sk.tcp
			sk.mu.Unlock()
			var err error
			if conn != nil {
				err = halfClose(conn, tcp)
			}
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

		var perr *PageError
		if sk.udp != nil {
			perr = sk.udp.send(sk, bufs)
		} else if _, err := bufs.WriteTo(conn); err != nil {
			perr = &PageError{Name: NetworkError, Message: "the connection was lost while sending"}
		}
		if perr != nil {
			sk.finish(perr)
			return
		}
		sk.mu.Lock()
		if sk.done {
			// finish already returned these bytes to the pool with the rest of the socket's credit.
			sk.mu.Unlock()
			return
		}
		sk.queued -= n
		if sk.udp == nil {
			sk.inspect.bytesOut.Add(n) // datagrams count in udpState.send, without their peer headers
		}
		release := sk.settleBorrowed()
		sk.mu.Unlock()
		m.returnCredit(sk, release, false)
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
	// Only what goes beyond the socket's base credit is borrowed from the origin's pool.
	held := sk.credit + sk.queued
	need := max(0, held+want-baseWriteCredit) - sk.borrowed
	got := int64(0)
	if need > 0 {
		got = sk.s.m.takeCredit(sk, need)
	}
	grant := want - (need - got)
	sk.borrowed += got
	sk.credit += grant
	sk.mu.Unlock()
	if grant > 0 {
		sk.s.send(OpWriteCredit, sk.id, Uint32Payload(uint32(grant)))
	}
}

// settleBorrowed recomputes what the socket borrows after data left its queue and returns what it
// no longer needs. Called with sk.mu held.
func (sk *socket) settleBorrowed() int64 {
	now := max(0, sk.credit+sk.queued-baseWriteCredit)
	release := sk.borrowed - now
	sk.borrowed = now
	return release
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
	conn := sk.tcp
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
	window := int64(ReadWindow)
	if sk.ln != nil {
		window = acceptWindow
	}
	sk.readCredit = min(sk.readCredit+n, window)
	// What the page has read goes back to the site's read budget.
	released := min(n, sk.readHeld)
	sk.readHeld -= released
	sk.cond.Broadcast()
	sk.mu.Unlock()
	sk.s.m.returnRead(released)
}

// sendWithinBudget sends the k bytes read into buf (after its header) to the page, in as many frames
// as the site's read budget needs: the budget is taken only for data already read, so an idle socket
// never holds any of it. It returns false when the socket ended meanwhile.
func (sk *socket) sendWithinBudget(buf []byte, k int) bool {
	for off := 0; off < k; {
		got := int(sk.takeReadBudget(int64(k - off)))
		if got == 0 {
			return false
		}
		sk.mu.Lock()
		sk.readCredit -= int64(got)
		sk.readHeld += int64(got)
		sk.mu.Unlock()
		sk.inspect.bytesIn.Add(int64(got))
		// The header goes just before the bytes not yet sent, over bytes already sent.
		frame := buf[off : headerLen+off+got]
		frame[0] = byte(OpRecv)
		binary.BigEndian.PutUint32(frame[1:headerLen], sk.id)
		sk.s.sendFrame(frame)
		off += got
	}
	return true
}

// takeReadBudget waits until the site's read budget has room and takes up to want bytes of it; 0
// means the socket ended or stopped reading meanwhile.
func (sk *socket) takeReadBudget(want int64) int64 {
	m := sk.s.m
	for {
		if got := m.takeRead(sk, want); got > 0 {
			return got
		}
		sk.mu.Lock()
		for !sk.readWoken && !sk.done && !sk.readStopped && !sk.sec.upgrading {
			sk.cond.Wait()
		}
		sk.readWoken = false
		ended := sk.done || sk.readStopped || sk.sec.upgrading
		sk.mu.Unlock()
		if ended {
			return 0
		}
	}
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
	held, readHeld := sk.borrowed, sk.readHeld
	sk.credit, sk.queued, sk.queue, sk.borrowed, sk.readHeld = 0, 0, nil, 0, 0
	conn, ln, udp := sk.conn, sk.ln, sk.udp
	sk.cond.Broadcast()
	sk.mu.Unlock()

	sk.cancel()
	if conn != nil {
		closeStream(conn)
	}
	if ln != nil {
		ln.Close()
	}
	if udp != nil {
		udp.close(sk)
	}
	m := sk.s.m
	m.returnCredit(sk, held, true)
	m.returnRead(readHeld)
	m.mu.Lock()
	delete(m.readWaiters, sk)
	m.mu.Unlock()
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
