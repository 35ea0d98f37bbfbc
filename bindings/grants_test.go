package bindings

import (
	"fmt"
	"sync"
	"testing"

	"socketeer/policy"
)

// memGrants is an in-memory GrantStore: the file format and locking belong to the app and policy,
// this test is about when the manager consults and records grants.
type memGrants struct {
	mu   sync.Mutex
	keys map[string]bool
	adds int
}

func grantKey(origin string, p policy.Protocol, m policy.Mode, host string, port int, tls bool) string {
	return fmt.Sprint(origin, p, m, host, port, tls)
}

func (g *memGrants) Granted(origin string, p policy.Protocol, m policy.Mode, host string, port int, tls bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.keys[grantKey(origin, p, m, host, port, tls)]
}

func (g *memGrants) Remember(origin string, p policy.Protocol, m policy.Mode, host string, port int, tls bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.keys[grantKey(origin, p, m, host, port, tls)] = true
	g.adds++
	return nil
}

// TestBridgeRememberedGrant checks that "remember" records one grant, that a later page session (a
// reload, or the next run) connects to that destination without asking, and that a grant does not
// cover another port.
func TestBridgeRememberedGrant(t *testing.T) {
	grants := &memGrants{keys: map[string]bool{}}
	b := startBridge(t, Config{Grants: grants}, true)
	b.prompter.remember = true
	echoSrv := startTCPServer(t, echo)
	other := startTCPServer(t, echo)

	first := b.connect(t)
	first.openOK(t, 1, echoSrv.port, nil)
	if b.prompter.calls() != 1 || grants.adds != 1 {
		t.Fatalf("after the first open: %d prompts, %d grants", b.prompter.calls(), grants.adds)
	}
	if !grants.Granted(testOrigin, policy.TCP, policy.Connect, "127.0.0.1", echoSrv.port, false) {
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
