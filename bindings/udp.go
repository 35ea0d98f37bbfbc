package bindings

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"socketeer/policy"
)

// UDP sockets reuse the TCP socket's machinery (the slot, the credit windows, the write queue) with
// datagrams as the unit: every OpData and OpRecv payload is exactly one datagram with its peer
// header (see putPeer), and the write queue hands them to the OS one by one.
//
// Memory stays bounded in both directions. Go to page: a datagram that does not fit the page's read
// credit is dropped and counted, as a full kernel buffer would drop it. Page to Go: the page may
// only send within its write credit, as for TCP.

const (
	// datagramOverhead is what each datagram costs in read credit beyond its bytes, so that a flood
	// of empty datagrams cannot queue without bound in the page. The page script counts the same.
	datagramOverhead = 64

	// maxPeers bounds how many peers a bound socket remembers as "heard from".
	maxPeers = 4096

	// peerBurst and peerRate shape the per-destination send budget of bound sockets (threat:
	// flooding a third party through a socket whose consent covered every public peer). 4000
	// datagrams a second carries a 40 Mbit/s media stream and is far above what P2P protocols send
	// one peer; a flood towards one victim is capped there, and every datagram over the budget is
	// dropped and counted.
	peerBurst = 4000
	peerRate  = 4000

	// newPeerBurst and newPeerRate shape the per-origin budget for destinations a bound socket has
	// not sent to before and that did not write first (threat: scanning, or spraying many
	// victims). A DHT or discovery protocol meets a few hundred peers while it bootstraps and a
	// few a second after that; a scan of a /16 would take half an hour. The budget is its own, so
	// a busy P2P socket never uses up the site's budget for connection attempts.
	newPeerBurst = 256
	newPeerRate  = 32
)

// udpState is what a UDP socket has beyond a TCP one.
type udpState struct {
	pc    *net.UDPConn
	bound bool

	mu sync.Mutex
	// heard holds peers that sent this bound socket a datagram: replying to them is what the
	// socket is for, like a stateful firewall's "established" rule.
	heard map[netip.AddrPort]bool
	// verdicts caches the decision per destination, so the policy runs once per peer (twice for a
	// refused peer that writes first; see mayReach).
	verdicts map[netip.AddrPort]peerVerdict
	// groups holds the multicast groups joined, keyed by group and source.
	groups map[groupKey]bool
	// dropped counts datagrams not delivered: no read credit, over the send budget, or refused.
	droppedIn, droppedOut uint64
}

type groupKey struct{ group, source netip.Addr }

func (u *udpState) close(sk *socket) {
	u.pc.Close()
	u.mu.Lock()
	in, out := u.droppedIn, u.droppedOut
	u.mu.Unlock()
	if in+out > 0 {
		sk.s.m.log.Info("udp socket closed with dropped datagrams", "id", sk.id, "droppedIn", in, "droppedOut", out)
	}
}

// bindUDP opens a bound UDP socket on the decided local address.
func (sk *socket) bindUDP(req OpenRequest, tgt target) {
	network := "udp"
	if req.IPv6Only != nil && *req.IPv6Only {
		network = "udp6"
	}
	lc := net.ListenConfig{Control: noBroadcast}
	if req.MulticastAllowAddressSharing != nil && *req.MulticastAllowAddressSharing {
		lc.Control = func(network, address string, c syscall.RawConn) error {
			if err := noBroadcast(network, address, c); err != nil {
				return err
			}
			return shareAddress(network, address, c)
		}
	}
	pc, err := lc.ListenPacket(sk.ctx, network, netip.AddrPortFrom(tgt.addrs[0], uint16(tgt.port)).String())
	if err != nil {
		sk.s.m.log.Info("bind failed", "local", tgt.display(), "error", err)
		sk.finish(bindError(err))
		return
	}
	uc := pc.(*net.UDPConn)
	setBuffers(uc, req)
	if err := setMulticastOptions(uc, req); err != nil {
		uc.Close()
		sk.s.m.log.Info("multicast options failed", "error", err)
		sk.finish(&PageError{Name: NetworkError, Message: "the multicast options could not be applied"})
		return
	}
	sk.startUDP(uc, true)
}

// bindError maps a bind or listen failure to a stable message for the page.
func bindError(err error) *PageError {
	msg := "the local address could not be used"
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		msg = "the local port is already in use"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		msg = "the local address does not belong to this computer"
	case errors.Is(err, syscall.EACCES):
		msg = "the system does not allow using this local port"
	}
	return &PageError{Name: NetworkError, Message: msg}
}

// startUDP makes pc this socket's, reports `opened` and starts moving datagrams.
func (sk *socket) startUDP(pc *net.UDPConn, bound bool) {
	u := &udpState{pc: pc, bound: bound, heard: map[netip.AddrPort]bool{},
		verdicts: map[netip.AddrPort]peerVerdict{}, groups: map[groupKey]bool{}}
	if !sk.becomeOpen(pc, ReadWindow, func() {
		sk.udp = u
		if bound {
			sk.inspectAs("udp", "bound to "+pc.LocalAddr().String(), "")
		} else {
			sk.inspectAs("udp", pc.RemoteAddr().String(), pc.RemoteAddr().String())
		}
	}) {
		return
	}
	var remote net.Addr
	if !bound {
		remote = pc.RemoteAddr()
	}
	info, _ := json.Marshal(openedInfo(pc.LocalAddr(), remote))
	sk.s.send(OpOpened, sk.id, info)
	sk.regrant()
	go u.readLoop(sk)
	go sk.writeLoop()
}

// readLoop moves datagrams to the page. The frame is built in place: the datagram is read just after
// room for the largest peer header, which is then written in front of it.
func (u *udpState) readLoop(sk *socket) {
	buf := make([]byte, headerLen+maxPeerHeader+maxDatagramIn)
	dataAt := headerLen + maxPeerHeader
	for {
		n, peer, err := u.pc.ReadFromUDPAddrPort(buf[dataAt:])
		if err != nil {
			sk.mu.Lock()
			done := sk.done
			sk.mu.Unlock()
			if done {
				return
			}
			// A connected socket learns of an ICMP port unreachable this way; UDP carries on, as
			// the peer may come up later.
			if errors.Is(err, syscall.ECONNREFUSED) {
				continue
			}
			sk.finish(&PageError{Name: NetworkError, Message: "the socket failed while receiving"})
			return
		}
		peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
		start := dataAt - 3 // connected mode: an empty peer header
		if u.bound {
			var ok bool
			// A link-local sender's address carries its interface (fe80::1%eth0): the page could
			// never address a reply to it, and it does not fit a peer header. It is dropped.
			if start, ok = putPeer(buf, dataAt, peer); !ok || peer.Addr().Zone() != "" {
				u.count(true)
				continue
			}
		} else {
			buf[start], buf[start+1], buf[start+2] = 0, 0, 0
		}
		cost := int64(n + datagramOverhead)
		// A datagram that fits neither the socket's window nor the site's read budget is dropped:
		// UDP has no sender to slow down.
		budget := sk.s.m.takeRead(nil, cost)
		sk.mu.Lock()
		deliver := budget == cost && !sk.done && !sk.readStopped && sk.readCredit >= cost
		if deliver {
			sk.readCredit -= cost
			sk.readHeld += cost
		}
		sk.mu.Unlock()
		if !deliver {
			sk.s.m.returnRead(budget)
		}
		u.mu.Lock()
		if !deliver {
			u.droppedIn++
		} else if u.bound && len(u.heard) < maxPeers {
			u.heard[peer] = true
		}
		u.mu.Unlock()
		if !deliver {
			continue
		}
		sk.inspect.bytesIn.Add(int64(n))
		buf[start-headerLen] = byte(OpRecv)
		binary.BigEndian.PutUint32(buf[start-headerLen+1:start], sk.id)
		sk.s.sendFrame(buf[start-headerLen : dataAt+n])
	}
}

// send hands queued datagrams to the OS. A bound socket decides on each new destination first.
func (u *udpState) send(sk *socket, datagrams [][]byte) *PageError {
	for _, d := range datagrams {
		peer, data, err := parsePeer(d)
		if err != nil {
			return pageErrorOf(err)
		}
		if u.bound != peer.IsValid() {
			return &PageError{Name: TypeError, Message: "remoteAddress and remotePort are required in bound mode and not allowed in connected mode"}
		}
		if u.bound {
			if !u.mayReach(sk, peer) {
				continue
			}
			_, err = u.pc.WriteToUDPAddrPort(data, peer)
		} else {
			_, err = u.pc.Write(data)
		}
		switch {
		case err == nil:
			sk.inspect.bytesOut.Add(int64(len(data)))
		case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EMSGSIZE),
			errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
			// UDP is unreliable by contract: a datagram that cannot go is lost, not fatal.
			u.count(false)
		default:
			sk.s.m.log.Info("udp send failed", "error", err)
			return &PageError{Name: NetworkError, Message: "the socket failed while sending"}
		}
	}
	return nil
}

func (u *udpState) count(in bool) {
	u.mu.Lock()
	if in {
		u.droppedIn++
	} else {
		u.droppedOut++
	}
	u.mu.Unlock()
}

// mayReach decides whether a bound socket may send to peer now. It never asks the user: no single
// page call causes a datagram's destination, so there is no user input to ask with. A local peer is
// reachable once it has written to the socket, once the socket joined it as a group, or once the
// user allowed it for this page (by a connected UDPSocket to it) or remembered it.
func (u *udpState) mayReach(sk *socket, peer netip.AddrPort) bool {
	m := sk.s.m
	u.mu.Lock()
	v, decided := u.verdicts[peer]
	heard := u.heard[peer]
	granted := heard || u.groups[groupKey{group: peer.Addr()}]
	full := len(u.verdicts) >= maxPeers
	u.mu.Unlock()
	// A refusal is reconsidered once, when the peer has written first or the group was joined
	// since. Threat: audit-log flooding. A peer the policy refuses even so (the organisation blocks
	// it) is not decided and audited again for every datagram the page sends it.
	if decided && !v.allowed && granted && !v.granted {
		decided = false
	}
	if !decided {
		// Threat: floods of new destinations, each a policy decision, a grants lookup and an audit
		// record. They are charged to the site's new-peer budget, and once the socket knows
		// maxPeers destinations, new ones are dropped. Answering a peer that wrote first costs
		// nothing: the page did not choose it, and the socket remembers at most maxPeers of them.
		// A joined group is charged like any destination: the page chooses its ports.
		if full || (!heard && !m.newPeerLimiter.Allow(m.cfg.Origin, m.now())) {
			u.count(false)
			return false
		}
		v = peerVerdict{allowed: u.decidePeer(sk, peer, granted), granted: granted}
		u.mu.Lock()
		u.verdicts[peer] = v
		u.mu.Unlock()
	}
	allowed := v.allowed
	// Threat: flooding one victim. Allowed destinations share a budget per host (per /64 for
	// IPv6, where one host has many addresses) across every socket of the site, whatever the port.
	if allowed && !m.peerLimiter.Allow(victimKey(peer.Addr()), m.now()) {
		allowed = false
	}
	if !allowed {
		u.count(false)
	}
	return allowed
}

// peerVerdict is the policy's decision on one destination of a bound socket, and whether the
// destination had written first (or was a joined group) when it was made.
type peerVerdict struct {
	allowed, granted bool
}

// victimKey names the host a datagram goes to, for the per-destination send budget.
func victimKey(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// decidePeer asks the policy about one destination of a bound socket: public peers are covered by
// the socket's consent; local ones need a grant, or are refused.
func (u *udpState) decidePeer(sk *socket, peer netip.AddrPort, granted bool) bool {
	host, err := policy.ParseHost(peer.Addr().String())
	if err != nil {
		return false
	}
	tgt := target{proto: policy.UDP, mode: policy.Connect, host: host, port: int(peer.Port()),
		addrs: []netip.Addr{peer.Addr()}}
	req := sk.request(tgt)
	req.Peer = true
	req.Granted = granted || sk.granted(tgt)
	dec := policy.Decide(req, sk.s.m.cfg.Policy)
	sk.logDecision(tgt, dec)
	sk.audit(tgt, dec, "")
	return dec.Verdict == policy.Allow
}

// control changes multicast group membership and answers the page. It runs on the session's read
// loop: membership changes are quick system calls, and a page cannot pile them up in goroutines.
func (sk *socket) control(payload []byte) {
	var req ControlRequest
	reply := func(perr *PageError) {
		b, _ := json.Marshal(ControlReply{Seq: req.Seq, Error: perr})
		sk.s.send(OpReply, sk.id, b)
	}
	if err := json.Unmarshal(payload, &req); err != nil {
		reply(&PageError{Name: TypeError, Message: "malformed multicast request"})
		return
	}
	sk.mu.Lock()
	u, open := sk.udp, sk.open && !sk.done
	sk.mu.Unlock()
	if !open || u == nil || !u.bound {
		reply(&PageError{Name: InvalidStateError, Message: "multicast needs an open, bound UDP socket"})
		return
	}
	reply(u.membership(sk, req))
}

// membership joins or leaves one group.
func (u *udpState) membership(sk *socket, req ControlRequest) *PageError {
	group, err := netip.ParseAddr(req.Group)
	if err != nil || group.Zone() != "" || !group.Unmap().IsMulticast() {
		return &PageError{Name: TypeError, Message: "the group must be a multicast IP address (224.0.0.0/4 or ff00::/8)"}
	}
	group = group.Unmap()
	key := groupKey{group: group}
	if req.Source != "" {
		src, err := netip.ParseAddr(req.Source)
		if err != nil || src.Zone() != "" || src.Unmap().Is4() != group.Is4() {
			return &PageError{Name: TypeError, Message: "sourceAddress must be an IP address of the group's family"}
		}
		key.source = src.Unmap()
	}
	// Threat: groups the organisation blocks. The bound socket's consent named multicast, so the
	// user is not asked again, but the policy's rules still apply to the group address.
	host, _ := policy.ParseHost(group.String())
	tgt := target{proto: policy.UDP, mode: policy.Connect, host: host, port: u.localPort(), addrs: []netip.Addr{group}}
	preq := sk.request(tgt)
	preq.Peer, preq.Granted = true, true
	if dec := policy.Decide(preq, sk.s.m.cfg.Policy); dec.Verdict != policy.Allow {
		sk.audit(tgt, dec, "")
		return &PageError{Name: NotAllowedError, Message: dec.Message}
	}
	u.mu.Lock()
	joined := u.groups[key]
	u.mu.Unlock()
	switch req.Op {
	case "join":
		if joined {
			return &PageError{Name: InvalidStateError, Message: "the socket has already joined this group"}
		}
	case "leave":
		if !joined {
			return &PageError{Name: InvalidStateError, Message: "the socket has not joined this group"}
		}
	default:
		return &PageError{Name: TypeError, Message: "unknown multicast operation"}
	}
	if err := changeMembership(u.pc, req.Op == "join", key.group, key.source); err != nil {
		sk.s.m.log.Info("multicast membership failed", "op", req.Op, "group", group, "error", err)
		return &PageError{Name: NetworkError, Message: fmt.Sprintf("the system could not %s the group", req.Op)}
	}
	u.mu.Lock()
	if req.Op == "join" {
		u.groups[key] = true
	} else {
		delete(u.groups, key)
	}
	u.mu.Unlock()
	sk.s.m.log.Info("multicast membership changed", "op", req.Op, "group", group, "source", req.Source)
	return nil
}

func (u *udpState) localPort() int {
	if ap := addrPort(u.pc.LocalAddr()); ap.IsValid() {
		return int(ap.Port())
	}
	return 0
}
