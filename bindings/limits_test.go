package bindings

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"socketeer/policy"
)

// frozenClock pins the manager's clock, so token refills and lockout expiry happen only when a test
// says so.
func frozenClock(b *testBridge, at time.Time) *time.Time {
	now := at
	b.m.now = func() time.Time { return now }
	return &now
}

// TestBridgeLockoutAfterDenials: after three denials in a row the site is not prompted again for ten
// minutes, and the page is told why (threat: asking until the user gives in).
func TestBridgeLockoutAfterDenials(t *testing.T) {
	b := startBridge(t, Config{}, false)
	now := frozenClock(b, time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	echoSrv := startTCPServer(t, echo)
	c := b.connect(t)
	for id := uint32(1); id <= policy.LockoutDenials; id++ {
		if err := c.open(id, echoSrv.port, nil); err != nil {
			t.Fatal(err)
		}
		if pe := c.expectError(t, id); pe.Name != NotAllowedError {
			t.Fatalf("open %d: %+v", id, pe)
		}
	}
	if err := c.open(10, echoSrv.port, nil); err != nil {
		t.Fatal(err)
	}
	pe := c.expectError(t, 10)
	if pe.Name != NotAllowedError || !strings.Contains(pe.Message, "3 times in a row") {
		t.Fatalf("locked-out open: %+v", pe)
	}
	if n := b.prompter.calls(); n != policy.LockoutDenials {
		t.Fatalf("the user was asked %d times, want %d", n, policy.LockoutDenials)
	}
	*now = now.Add(policy.LockoutDuration)
	b.prompter.allow = true
	c.openOK(t, 11, echoSrv.port, nil)
	if n := b.prompter.calls(); n != policy.LockoutDenials+1 {
		t.Fatalf("after the lockout the user was asked %d times in all", n)
	}
}

// TestBridgeRateLimitsFailingAttempts: a page hammering a destination that refuses connections is
// throttled, even though the user allowed the destination (threat: SYN floods against third parties
// from the user's machine), while a working destination stays unlimited.
func TestBridgeRateLimitsFailingAttempts(t *testing.T) {
	b := startBridge(t, Config{}, true)
	frozenClock(b, time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	// A port that refuses: listen, note the port, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	echoSrv := startTCPServer(t, echo)
	c := b.connect(t)
	c.openOK(t, 100, echoSrv.port, nil) // the user allows the working destination first

	limited := false
	for id := uint32(1); id <= attemptBurst+2; id++ {
		if err := c.open(id, closedPort, nil); err != nil {
			t.Fatal(err)
		}
		pe := c.expectError(t, id)
		if strings.Contains(pe.Message, "too many connection attempts") {
			limited = true
			break
		}
		if pe.Name != NetworkError {
			t.Fatalf("attempt %d: %+v", id, pe)
		}
	}
	if !limited {
		t.Fatalf("%d failing attempts in a row were not throttled", attemptBurst+2)
	}
	// A granted, working destination is not limited, however many sockets the page opens to it.
	for id := uint32(101); id < 101+2*attemptBurst; id++ {
		c.openOK(t, id, echoSrv.port, nil)
	}
}

// countingResolver records lookups; it answers none, so any lookup shows up as a failure too.
type countingResolver struct{ n atomic.Int32 }

func (r *countingResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	r.n.Add(1)
	return nil, errors.New("no lookups in this test")
}

// TestBridgeNoLookupBeforePolicy: requests the policy refuses without an address (API disabled, port
// 443) are refused before any DNS query, so a page cannot probe internal names through them.
func TestBridgeNoLookupBeforePolicy(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg  policy.Config
		port int
	}{
		"api disabled": {policy.Config{Disabled: true}, 22},
		"port 443":     {policy.Config{}, 443},
	} {
		t.Run(name, func(t *testing.T) {
			res := &countingResolver{}
			b := startBridge(t, Config{Policy: tc.cfg, Resolver: res}, true)
			c := b.connect(t)
			if err := c.open(1, tc.port, map[string]any{"remoteAddress": "payroll.corp.internal"}); err != nil {
				t.Fatal(err)
			}
			if pe := c.expectError(t, 1); pe.Name != NotAllowedError {
				t.Fatalf("got %+v", pe)
			}
			if n := res.n.Load(); n != 0 {
				t.Fatalf("%d DNS lookups for a refused request", n)
			}
		})
	}
}

// TestBridgeIdleCreditCannotStarveNewSockets: one socket writes to a peer that never reads until
// the origin's whole pool is lent out and stuck; a new socket must still get write credit at once (its
// base credit), instead of waiting forever for credit that idle sockets hold.
func TestBridgeIdleCreditCannotStarveNewSockets(t *testing.T) {
	cfg := Config{MaxSockets: 4, MaxBuffered: 4*baseWriteCredit + 32<<10}
	b := startBridge(t, cfg, true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var heldMu sync.Mutex
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.(*net.TCPConn).SetReadBuffer(4096) // a peer that never reads, with little buffer
			heldMu.Lock()
			held = append(held, conn)
			heldMu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		heldMu.Lock()
		for _, c := range held {
			c.Close()
		}
		heldMu.Unlock()
	})
	port := ln.Addr().(*net.TCPAddr).Port
	c := b.connect(t)
	_, credit := c.openOK(t, 1, port, map[string]any{"sendBufferSize": 4096})
	go func() {
		payload := make([]byte, MaxChunk)
		for {
			for credit > 0 {
				n := min(credit, MaxChunk)
				if c.send(OpData, 1, payload[:n]) != nil {
					return
				}
				credit -= n
			}
			f, err := c.next(1)
			if err != nil {
				return
			}
			if f.Op == OpWriteCredit {
				credit += int64(binary.BigEndian.Uint32(f.Payload))
			}
		}
	}()
	waitUntil(t, "the pool to be lent out", func() bool { return b.m.poolFreeForTest() == 0 })
	if _, got := c.openOK(t, 2, port, nil); got < baseWriteCredit {
		t.Fatalf("a new socket got %d bytes of write credit while the pool was dry, want at least %d", got, baseWriteCredit)
	}
}

// TestBridgeActivationGatesPrompts: a prompt needs fresh user input, each input serves one prompt,
// and a destination the user already allowed needs none (threat: connections without the user knowing).
func TestBridgeActivationGatesPrompts(t *testing.T) {
	b := startBridge(t, Config{}, true)
	first := startTCPServer(t, echo)
	second := startTCPServer(t, echo)
	c := b.connect(t)

	if err := c.open(1, first.port, map[string]any{"activation": 0}); err != nil {
		t.Fatal(err)
	}
	if pe := c.expectError(t, 1); pe.Name != NotAllowedError || !strings.Contains(pe.Message, "click or key press") {
		t.Fatalf("an open without input: %+v", pe)
	}
	c.openOK(t, 2, first.port, map[string]any{"activation": 7})
	// The same input event cannot serve a second prompt.
	if err := c.open(3, second.port, map[string]any{"activation": 7}); err != nil {
		t.Fatal(err)
	}
	if pe := c.expectError(t, 3); pe.Name != NotAllowedError {
		t.Fatalf("a reused input: %+v", pe)
	}
	// The allowed destination reconnects without input.
	c.openOK(t, 4, first.port, map[string]any{"activation": 0})
	if n := b.prompter.calls(); n != 1 {
		t.Fatalf("the user was asked %d times, want 1", n)
	}
	if n := second.accepts.Load(); n != 0 {
		t.Fatalf("the destination asked for without input saw %d connections", n)
	}
}

// TestSiteReadBudget: the page's sockets together receive at most MaxBuffered unread bytes, however
// many sockets a page opens and however fast the servers send; what the page reads goes back to the
// budget, for any socket to use.
func TestSiteReadBudget(t *testing.T) {
	const budget = 256 << 10
	b := startBridge(t, Config{MaxBuffered: budget, MaxSockets: 4}, true)
	srv := startTCPServer(t, firehose)
	c := b.connect(t)
	for id := uint32(1); id <= 2; id++ {
		c.openOK(t, id, srv.port, nil)
	}
	// received drains the frames that arrived and counts the data the page was sent.
	var total int64
	received := func() int64 {
		for id := uint32(1); id <= 2; id++ {
			for c.pending(id) > 0 {
				f := c.mustNext(t, id)
				if f.Op != OpRecv {
					t.Fatalf("socket %d: %s", id, describeFrame(f))
				}
				total += int64(len(f.Payload))
			}
		}
		if total > budget+64<<10 {
			t.Fatalf("the page was sent %d unread bytes, more than the site's budget allows", total)
		}
		return total
	}
	waitUntil(t, "the page was sent the whole budget", func() bool { return received() == budget })
	// Reading 64 KiB returns that much to the site. Of two sockets sharing the budget, one holds
	// at least half of it; the page reads there.
	reader := uint32(1)
	if sk := b.socketOf(1); func() bool { sk.mu.Lock(); defer sk.mu.Unlock(); return sk.readHeld < 64<<10 }() {
		reader = 2
	}
	c.send(OpReadCredit, reader, Uint32Payload(64<<10))
	waitUntil(t, "the page was sent what it read again", func() bool { return received() == budget+64<<10 })
}
