package bindings

import (
	"encoding/binary"
	"encoding/json"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"socketeer/policy"
)

// boundOnLoopback asks for a bound UDP socket on 127.0.0.1, the system choosing the port.
var boundOnLoopback = map[string]any{"kind": "udp", "remoteAddress": nil, "remotePort": nil, "localAddress": "127.0.0.1"}

// datagramFrame is a page's OpData payload for one datagram (see putPeer).
func datagramFrame(peer netip.AddrPort, data []byte) []byte {
	text := ""
	var port uint16
	if peer.IsValid() {
		text, port = peer.Addr().String(), peer.Port()
	}
	b := append([]byte{byte(len(text))}, text...)
	b = binary.BigEndian.AppendUint16(b, port)
	return append(b, data...)
}

// TestUDPConnectedToBound sends datagrams from a connected socket to a bound one through the bridge;
// the bound socket sees the sender's address and echoes to it without a new prompt.
func TestUDPConnectedToBound(t *testing.T) {
	b := startBridge(t, Config{}, true)
	c := b.connect(t)
	bound, _ := c.openOK(t, 1, 0, boundOnLoopback)
	if bound.RemoteAddress != "" || bound.LocalAddress != "127.0.0.1" || bound.LocalPort == 0 {
		t.Fatalf("bound opened = %+v", bound)
	}
	conn, _ := c.openOK(t, 2, bound.LocalPort, map[string]any{"kind": "udp"})
	if conn.RemotePort != bound.LocalPort {
		t.Fatalf("connected opened = %+v", conn)
	}
	prompts := b.prompter.calls()
	for i := range 20 {
		msg := []byte{byte(i), 1, 2, 3}
		if err := c.send(OpData, 2, datagramFrame(netip.AddrPort{}, msg)); err != nil {
			t.Fatal(err)
		}
		f := c.expect(t, 1, OpRecv)
		peer, data, err := parsePeer(f.Payload)
		if err != nil || string(data) != string(msg) || peer.Addr().String() != "127.0.0.1" || int(peer.Port()) != conn.LocalPort {
			t.Fatalf("bound socket got %v %q %v", peer, data, err)
		}
		if err := c.send(OpData, 1, datagramFrame(peer, data)); err != nil {
			t.Fatal(err)
		}
		f = c.expect(t, 2, OpRecv)
		if peer, data, err := parsePeer(f.Payload); err != nil || peer.IsValid() || string(data) != string(msg) {
			t.Fatalf("connected socket got %v %q %v", peer, data, err)
		}
	}
	if n := b.prompter.calls(); n != prompts {
		t.Errorf("replying to a peer that wrote first asked the user %d times", n-prompts)
	}
	// A connected socket's datagram with a peer is refused; so is a bound socket's without one.
	c.send(OpData, 2, datagramFrame(netip.MustParseAddrPort("127.0.0.1:9"), []byte("x")))
	if pe := c.expectError(t, 2); pe.Name != TypeError {
		t.Errorf("connected datagram with a peer: %+v", pe)
	}
	c.send(OpData, 1, datagramFrame(netip.AddrPort{}, []byte("x")))
	if pe := c.expectError(t, 1); pe.Name != TypeError {
		t.Errorf("bound datagram without a peer: %+v", pe)
	}
}

// TestServerSocketAccepts opens a server socket and a client to it through the bridge.
func TestServerSocketAccepts(t *testing.T) {
	b := startBridge(t, Config{}, true)
	c := b.connect(t)
	if err := c.open(1, 0, map[string]any{"kind": "tcp-server", "remoteAddress": nil, "remotePort": nil, "localAddress": "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	f := c.expect(t, 1, OpOpened)
	var srv OpenedInfo
	json.Unmarshal(f.Payload, &srv)
	if b.prompter.last().Mode != "listen" || srv.LocalPort == 0 {
		t.Fatalf("server opened %+v after prompt %+v", srv, b.prompter.last())
	}
	client, _ := c.openOK(t, 2, srv.LocalPort, nil)
	f = c.expect(t, 1, OpAccepted)
	var acc AcceptedInfo
	if err := json.Unmarshal(f.Payload, &acc); err != nil || acc.ID < FirstAcceptedID || acc.RemotePort != client.LocalPort {
		t.Fatalf("accepted %+v (%v), client %+v", acc, err, client)
	}
	c.expect(t, acc.ID, OpWriteCredit)
	c.send(OpData, 2, []byte("ping"))
	if f := c.expect(t, acc.ID, OpRecv); string(f.Payload) != "ping" {
		t.Fatalf("server side got %q", f.Payload)
	}
	c.send(OpData, acc.ID, []byte("pong"))
	if f := c.expect(t, 2, OpRecv); string(f.Payload) != "pong" {
		t.Fatalf("client side got %q", f.Payload)
	}
	// Cancelling the server's readable ends it: its port closes, the accepted socket lives on.
	c.send(OpShutdownRead, 1, nil)
	c.expect(t, 1, OpClosed)
	if conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.LocalPort))); err == nil {
		conn.Close()
		t.Error("the server's port still accepts after its readable was cancelled")
	}
	c.send(OpData, acc.ID, []byte("still here"))
	if f := c.expect(t, 2, OpRecv); string(f.Payload) != "still here" {
		t.Fatalf("client side got %q", f.Payload)
	}
	// A page may not open a socket under an id from Go's half: the bridge drops it.
	c.open(FirstAcceptedID+7, srv.LocalPort, nil)
	if err := c.waitDropped(); err != nil {
		t.Fatal(err)
	}
}

// udpPeer is a loopback UDP socket standing for another host.
func udpPeer(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func addrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// socketOf finds a socket of the bridge's manager by id.
func (b *testBridge) socketOf(id uint32) *socket {
	b.m.mu.Lock()
	defer b.m.mu.Unlock()
	for s := range b.m.sessions {
		if sk := s.get(id); sk != nil {
			return sk
		}
	}
	return nil
}

// TestBoundPeers checks what a bound socket may send where: a local peer that has not written first
// is refused without a prompt (a datagram's destination comes with no user input to ask with), and
// becomes reachable once the user allowed it for the page through a connected socket; an allowed
// host gets at most the per-destination budget, whatever the port.
func TestBoundPeers(t *testing.T) {
	b := startBridge(t, Config{}, true)
	// The clock stands still, so the send budget does not refill during the test.
	fixed := time.Now()
	b.m.now = func() time.Time { return fixed }
	c := b.connect(t)
	c.openOK(t, 1, 0, boundOnLoopback)

	refused, allowed := udpPeer(t), udpPeer(t)
	prompts := b.prompter.calls()
	c.send(OpData, 1, datagramFrame(addrOf(refused), []byte("no")))
	// The user allows the other peer for this page, as a connected socket to it asks.
	c.openOK(t, 2, int(addrOf(allowed).Port()), map[string]any{"kind": "udp"})
	if n := b.prompter.calls(); n != prompts+1 {
		t.Fatalf("%d prompts, want 1 (the connected socket's; a datagram never prompts)", n-prompts)
	}
	c.send(OpData, 1, datagramFrame(addrOf(allowed), []byte("marker")))
	buf := make([]byte, 64)
	allowed.SetReadDeadline(time.Now().Add(waitTimeout))
	if n, err := allowed.Read(buf); err != nil || string(buf[:n]) != "marker" {
		t.Fatalf("the allowed peer got %q, %v", buf[:n], err)
	}
	// Datagrams leave in order and loopback delivers at once: the refused peer's queue is final.
	refused.SetReadDeadline(time.Now())
	if n, err := refused.Read(buf); err == nil {
		t.Fatalf("the refused peer got %q", buf[:n])
	}
	// A peer that writes first may be answered.
	refused.WriteToUDPAddrPort([]byte("hello"), netip.MustParseAddrPort(addrOfSocket(t, b, 1)))
	c.expect(t, 1, OpRecv)
	c.send(OpData, 1, datagramFrame(addrOf(refused), []byte("reply")))
	refused.SetReadDeadline(time.Now().Add(waitTimeout))
	if n, err := refused.Read(buf); err != nil || string(buf[:n]) != "reply" {
		t.Fatalf("the peer that wrote first got %q, %v", buf[:n], err)
	}

	// Threat: flooding one victim. Exactly the budget leaves; the rest is dropped and counted.
	sk := b.socketOf(1)
	sk.udp.mu.Lock()
	dropped := sk.udp.droppedOut
	sk.udp.mu.Unlock()
	// The marker and the reply spent two tokens of 127.0.0.1's budget; ports do not matter.
	for i := range peerBurst + 100 - 2 {
		to := allowed
		if i%2 == 1 {
			to = refused
		}
		c.send(OpData, 1, datagramFrame(addrOf(to), []byte("x")))
	}
	waitUntil(t, "every datagram over the budget is dropped", func() bool {
		sk.udp.mu.Lock()
		defer sk.udp.mu.Unlock()
		return sk.udp.droppedOut-dropped == 100
	})
	if !sk.open || sk.done {
		t.Fatal("the socket did not survive its budget")
	}
}

// TestNewPeerBudget checks the site's budget for new destinations of bound sockets: it stops a
// page from spraying datagrams at ever new hosts, it leaves the budget for connection attempts
// alone, and answering peers that wrote first never draws on it.
func TestNewPeerBudget(t *testing.T) {
	b := startBridge(t, Config{}, true)
	// The clock stands still, so no budget refills during the test.
	fixed := time.Now()
	b.m.now = func() time.Time { return fixed }
	c := b.connect(t)
	c.openOK(t, 1, 0, boundOnLoopback)
	sk := b.socketOf(1)
	decided := func() int {
		sk.udp.mu.Lock()
		defer sk.udp.mu.Unlock()
		return len(sk.udp.verdicts)
	}

	// Threat: scanning. Each new destination is decided only while the budget lasts.
	for port := range newPeerBurst + 50 {
		c.send(OpData, 1, datagramFrame(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), uint16(1000+port)), []byte("x")))
	}
	waitUntil(t, "every new destination is dropped or decided", func() bool {
		sk.udp.mu.Lock()
		defer sk.udp.mu.Unlock()
		return sk.udp.droppedOut == newPeerBurst+50
	})
	if n := decided(); n != newPeerBurst {
		t.Fatalf("%d destinations decided, want the budget of %d", n, newPeerBurst)
	}
	// The site's budget for connection attempts is untouched (but for the token the bound socket's
	// own consent spent): a page with a busy P2P socket can still connect.
	for range attemptBurst - 1 {
		if !b.m.limiter.Allow(b.m.cfg.Origin, fixed) {
			t.Fatal("new peers of a bound socket used the budget for connection attempts")
		}
	}
	// A peer that writes first is answered with the budget spent.
	peer := udpPeer(t)
	peer.WriteToUDPAddrPort([]byte("hello"), netip.MustParseAddrPort(addrOfSocket(t, b, 1)))
	c.expect(t, 1, OpRecv)
	c.send(OpData, 1, datagramFrame(addrOf(peer), []byte("reply")))
	buf := make([]byte, 64)
	peer.SetReadDeadline(time.Now().Add(waitTimeout))
	if n, err := peer.Read(buf); err != nil || string(buf[:n]) != "reply" {
		t.Fatalf("the peer that wrote first got %q, %v", buf[:n], err)
	}
}

// countingAuditor counts the audit records of a test bridge.
type countingAuditor struct{ n atomic.Int64 }

func (a *countingAuditor) Record(AuditRecord) { a.n.Add(1) }

// TestRefusedPeerDecidedOnce: a peer the organisation blocks stays refused after it writes first,
// and datagrams the page keeps sending it are dropped without a policy decision and an audit
// record each (threat: flooding the audit log until its rotation drops what mattered).
func TestRefusedPeerDecidedOnce(t *testing.T) {
	f, err := policy.ParseEnterpriseFile("block.json", []byte(`{"blockDestinations": [{"cidrs": ["127.0.0.2/32"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ent := policy.MergeEnterprise([]policy.EnterpriseFile{f})
	audit := &countingAuditor{}
	b := startBridge(t, Config{Policy: ent.Config(), Audit: audit}, true)
	c := b.connect(t)
	c.openOK(t, 1, 0, boundOnLoopback)
	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	sk := b.socketOf(1)
	dropped := func() uint64 {
		sk.udp.mu.Lock()
		defer sk.udp.mu.Unlock()
		return sk.udp.droppedOut
	}
	c.send(OpData, 1, datagramFrame(addrOf(peer), []byte("first")))
	waitUntil(t, "the blocked peer is refused", func() bool { return dropped() == 1 })
	peer.WriteToUDPAddrPort([]byte("hello"), netip.MustParseAddrPort(addrOfSocket(t, b, 1)))
	c.expect(t, 1, OpRecv)
	before := audit.n.Load()
	const n = 500
	for range n {
		c.send(OpData, 1, datagramFrame(addrOf(peer), []byte("x")))
	}
	waitUntil(t, "every datagram to the blocked peer is dropped", func() bool { return dropped() == 1+n })
	// One new decision now that the peer wrote first, and no more.
	if got := audit.n.Load() - before; got != 1 {
		t.Fatalf("%d audit records for %d datagrams to a refused peer, want 1", got, n)
	}
}

// TestUDPClose closes an idle UDP socket of each mode: the page sees it closed cleanly.
func TestUDPClose(t *testing.T) {
	b := startBridge(t, Config{}, true)
	c := b.connect(t)
	peer := udpPeer(t)
	c.openOK(t, 1, int(addrOf(peer).Port()), map[string]any{"kind": "udp"})
	c.openOK(t, 2, 0, boundOnLoopback)
	for _, id := range []uint32{1, 2} {
		c.send(OpClose, id, nil)
		c.expect(t, id, OpClosed)
	}
}

// addrOfSocket is the local address of a bound socket of the bridge, as text.
func addrOfSocket(t *testing.T, b *testBridge, id uint32) string {
	t.Helper()
	sk := b.socketOf(id)
	if sk == nil || sk.udp == nil {
		t.Fatalf("socket %d is not a UDP socket", id)
	}
	return sk.udp.pc.LocalAddr().String()
}
