package bindings

import (
	"sync"
	"testing"

	"socketeer/policy"
)

// memGrants is an in-memory GrantStore: the file format and locking belong to the app and policy,
// this test is about when the manager consults and records grants.
type memGrants struct {
	mu     sync.Mutex
	grants policy.Grants
	adds   int
}

func (g *memGrants) Granted(req policy.Request) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.grants.Covers(req)
}

func (g *memGrants) Remember(req policy.Request) error {
	gr, err := policy.NewGrant(req, "2026-01-01T00:00:00Z")
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.grants.Add(gr)
	g.adds++
	return nil
}

// tcpTo is the request for a plaintext TCP connection from testOrigin to 127.0.0.1:port.
func tcpTo(port int) policy.Request {
	h, _ := policy.ParseHost("127.0.0.1")
	return policy.Request{Origin: testOrigin, Protocol: policy.TCP, Mode: policy.Connect, Host: h, Port: port}
}

// TestBridgeRememberedGrant checks that "remember" records one grant, that a later page session (a
// reload, or the next run) connects to that destination without asking, and that a grant does not
// cover another port.
func TestBridgeRememberedGrant(t *testing.T) {
	grants := &memGrants{grants: policy.Grants{Version: policy.GrantsVersion}}
	b := startBridge(t, Config{Grants: grants}, true)
	b.prompter.remember = true
	echoSrv := startTCPServer(t, echo)
	other := startTCPServer(t, echo)

	first := b.connect(t)
	first.openOK(t, 1, echoSrv.port, nil)
	if b.prompter.calls() != 1 || grants.adds != 1 {
		t.Fatalf("after the first open: %d prompts, %d grants", b.prompter.calls(), grants.adds)
	}
	if !grants.Granted(tcpTo(echoSrv.port)) {
		t.Fatalf("the grant was not recorded for the destination the user allowed")
	}

	later := b.connect(t)
	later.openOK(t, 1, echoSrv.port, nil)
	if n := b.prompter.calls(); n != 1 {
		t.Fatalf("a remembered destination prompted again (%d prompts)", n)
	}
	later.openOK(t, 2, other.port, nil)
	if n := b.prompter.calls(); n != 2 {
		t.Fatalf("a grant covered another port (%d prompts)", n)
	}
}
