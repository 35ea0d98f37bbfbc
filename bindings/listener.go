package bindings

import (
	"encoding/json"
	"errors"
	"net"
	"net/netip"
)

// A TCP server socket's readable yields accepted connections. Its read credit counts connections
// instead of bytes: Go accepts only while the page has room for more in its readable, so a page that
// stops reading leaves new connections waiting in the kernel's backlog, not in Go's memory.

// acceptWindow is how many accepted connections may wait in the page's readable.
const acceptWindow = 16

// listen opens the server socket on the decided local address and starts accepting.
func (sk *socket) listen(req OpenRequest, tgt target) {
	network := "tcp"
	if req.IPv6Only != nil && *req.IPv6Only {
		network = "tcp6"
	}
	// Accepted connections start like opened ones: keep-alive off unless the page asks.
	lc := net.ListenConfig{KeepAlive: -1}
	l, err := lc.Listen(sk.ctx, network, netip.AddrPortFrom(tgt.addrs[0], uint16(tgt.port)).String())
	if err != nil {
		sk.s.m.log.Info("listen failed", "local", tgt.display(), "error", err)
		sk.finish(bindError(err))
		return
	}
	ln := l.(*net.TCPListener)
	if req.Backlog != nil {
		if err := setBacklog(ln, int(*req.Backlog)); err != nil {
			sk.s.m.log.Info("backlog not applied", "error", err)
		}
	}
	if !sk.becomeOpen(ln, acceptWindow, func() {
		sk.ln = ln
		// A server has no writable: cancelling its readable is all it takes to end it.
		sk.writeDone = true
		sk.inspectAs("tcp", "listening on "+ln.Addr().String(), "")
	}) {
		return
	}
	info, _ := json.Marshal(openedInfo(ln.Addr(), nil))
	sk.s.send(OpOpened, sk.id, info)
	go sk.acceptLoop()
}

// acceptLoop accepts connections while the page has room for them, and hands each to the page as a
// socket of its own, open from the start.
func (sk *socket) acceptLoop() {
	s := sk.s
	ln := sk.ln
	for {
		if _, ok := sk.awaitReadCredit(); !ok {
			return
		}
		conn, err := ln.AcceptTCP()
		if err != nil {
			sk.mu.Lock()
			done := sk.done || sk.readStopped
			sk.mu.Unlock()
			if !done && !errors.Is(err, net.ErrClosed) {
				sk.finish(&PageError{Name: NetworkError, Message: "the server socket failed"})
			}
			return
		}
		// Threat: resource exhaustion. Accepted connections count against the same per-site limit
		// as opened ones; beyond it they are closed at once.
		if !s.m.reserveSlot() {
			s.m.log.Info("accepted connection closed: the site has too many sockets", "remote", conn.RemoteAddr())
			conn.Close()
			continue
		}
		child := newSocket(s, s.acceptedID())
		child.hasSlot = true
		if !s.adopt(child) {
			s.m.releaseSlot()
			conn.Close()
			return
		}
		// The socket API's default; Go's is on.
		conn.SetNoDelay(false)
		info, ok := child.attach(conn, conn, nil)
		if !ok {
			continue
		}
		var opened OpenedInfo
		json.Unmarshal(info, &opened)
		b, _ := json.Marshal(AcceptedInfo{ID: child.id, OpenedInfo: opened})
		sk.mu.Lock()
		sk.readCredit--
		sk.mu.Unlock()
		// The page learns of the socket before any frame for it, so its credit and data find it.
		s.send(OpAccepted, sk.id, b)
		child.run()
	}
}
