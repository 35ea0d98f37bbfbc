// Package bindings is the page-facing socket API of Socketeer: the JavaScript injected into site
// pages, the loopback transport between those scripts and Go, and the Go socket manager that asks
// the policy, asks the user through a Prompter handed in by the app, and moves bytes between the page
// and operating-system sockets with bounded memory.
//
// Everything that arrives from a page is hostile input. The origin behind a request is never read
// from a message: it is fixed when the app starts (one process serves one profile, whose origin the
// shell established from the URL the user opened) and every bridge connection is checked against it
// by the Origin header WebKit sets on the WebSocket handshake (see server.go).
package bindings

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"socketeer/policy"
)

// Prompt is what the consent dialog shows. Every field comes from Go's own view of the request: the
// origin from the shell, the host as policy parsed it, and the addresses Go resolved. Host is empty
// (and Port may be 0) when the page left the destination for the user to choose.
type Prompt struct {
	Origin       string
	Protocol     policy.Protocol
	Mode         policy.Mode
	Host         string
	Port         int
	Addresses    []netip.Addr
	LocalNetwork bool
	TLS          bool
	// StartTLS says the connection starts unencrypted and the page may upgrade it to TLS later.
	StartTLS bool
	// Managed says an organisation's policy rule covers this destination (the user still decides).
	Managed bool
}

// Answer is the user's reply to a prompt.
type Answer struct {
	Allow bool
	// Remember asks for a lasting grant: "allow future connections to this address from <origin>".
	Remember bool
	// Host and Port are the destination as the user left it in the dialog, as typed (empty when the
	// prompt had no fields). The manager parses them and asks the policy again.
	Host, Port string
}

// Prompter asks the user to allow a connection. It blocks until the user answers or ctx ends; an
// error or a cancelled context counts as a denial.
type Prompter interface {
	Ask(ctx context.Context, p Prompt) (Answer, error)
}

// GrantStore holds the profile's remembered grants. The app owns the file and policy the format
// (the key is the request's origin, protocol, mode, host, port and TLS mode); the manager only asks
// and, when the user chose to remember, records.
type GrantStore interface {
	Granted(req policy.Request) bool
	Remember(req policy.Request) error
}

// Limits per origin, from the foundation issue.
const (
	DefaultMaxSockets  = 1024
	DefaultMaxBuffered = 64 << 20

	// initialWriteWindow is the write credit a new socket starts with; it doubles up to
	// maxWriteWindow while the page keeps using all of it, so a bulk sender reaches the full window
	// in six round trips. The window bounds a socket's throughput to window / credit cycle, and the
	// cycle through the web view is milliseconds: 4 MiB measured 1.5× the bulk echo of 1 MiB.
	initialWriteWindow = 64 << 10
	maxWriteWindow     = 4 << 20

	// baseWriteCredit is credit every socket may hold without borrowing from the origin's pool. It
	// is set aside for every possible socket (MaxSockets of them), and only credit beyond it is
	// borrowed from what is left of MaxBuffered. Idle sockets that kept a grown window can therefore
	// exhaust the pool, but never starve a new socket: it can always write with its base credit.
	baseWriteCredit = 32 << 10

	// attemptBurst and attemptRate shape the per-origin token bucket for connection attempts that
	// are not to a granted, working destination (threat: using the user's machine to flood third
	// parties). A page reconnecting to a server that is down gets twenty quick tries, then one
	// every two seconds.
	attemptBurst = 20
	attemptRate  = 0.5
)

// AuditRecord is one decision about one request, for the audit log.
type AuditRecord struct {
	Origin    string   `json:"origin"`
	Protocol  string   `json:"protocol"`
	Mode      string   `json:"mode"`
	Host      string   `json:"host"`
	Port      int      `json:"port"`
	TLS       bool     `json:"tls,omitempty"`
	Addresses []string `json:"addresses,omitempty"`
	// Verdict is the policy's: allow, deny or ask. Answer is the user's, for asks: allow or deny.
	Verdict  string `json:"verdict"`
	Reason   string `json:"reason"`
	Answer   string `json:"answer,omitempty"`
	Remember bool   `json:"remember,omitempty"`
}

// Auditor receives every decision. The app writes them down; it must not block for long.
type Auditor interface {
	Record(AuditRecord)
}

// Config is what the app hands the manager at start.
type Config struct {
	// Origin is the one origin whose pages this process serves, established by the shell.
	Origin   string
	Prompter Prompter
	// Grants may be nil: nothing is remembered beyond a page's life.
	Grants GrantStore
	// Audit may be nil: decisions are then only logged.
	Audit  Auditor
	Policy policy.Config
	Log    *slog.Logger
	// MaxSockets and MaxBuffered default to the per-origin limits above when zero.
	MaxSockets  int
	MaxBuffered int64
	// Resolver resolves host names; nil means the system resolver.
	Resolver Resolver
	// Pins may be nil: TLS sockets then accept only certificates the system roots verify.
	Pins PinStore
}

// Manager owns every socket of one origin and enforces the origin's limits across all of its
// page sessions (the top frame and same-origin frames each have one).
type Manager struct {
	cfg Config
	log *slog.Logger

	generation atomic.Uint64 // bumped by the app each time the top-level page is replaced

	limiter *policy.Limiter
	// peerLimiter is the per-destination send budget of bound UDP sockets (see peerRate), and
	// newPeerLimiter their per-origin budget for new destinations (see newPeerRate).
	peerLimiter    *policy.Limiter
	newPeerLimiter *policy.Limiter
	lockout        *policy.Lockout
	now            func() time.Time

	mu       sync.Mutex
	open     int   // sockets open or opening
	poolFree int64 // write credit not yet handed to any socket
	// readFree is what the site's pages may still be sent and not yet have read (see takeRead);
	// readWaiters are sockets that found it empty.
	readFree    int64
	readWaiters map[*socket]struct{}
	waiters     map[*socket]struct{}
	sessions    map[*session]struct{}
}

// NewManager returns a manager for cfg.Origin.
func NewManager(cfg Config) *Manager {
	if cfg.MaxSockets == 0 {
		cfg.MaxSockets = DefaultMaxSockets
	}
	if cfg.MaxBuffered == 0 {
		cfg.MaxBuffered = DefaultMaxBuffered
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Resolver == nil {
		cfg.Resolver = systemResolver{}
	}
	return &Manager{
		cfg:            cfg,
		log:            cfg.Log,
		limiter:        policy.NewLimiter(attemptBurst, attemptRate),
		peerLimiter:    policy.NewLimiter(peerBurst, peerRate),
		newPeerLimiter: policy.NewLimiter(newPeerBurst, newPeerRate),
		lockout:        policy.NewLockout(),
		now:            time.Now,
		poolFree:       poolSize(cfg),
		readFree:       cfg.MaxBuffered,
		readWaiters:    map[*socket]struct{}{},
		waiters:        map[*socket]struct{}{},
		sessions:       map[*session]struct{}{},
	}
}

// poolSize is the credit sockets may borrow beyond their base: MaxBuffered less every socket's base.
func poolSize(cfg Config) int64 {
	return max(0, cfg.MaxBuffered-int64(cfg.MaxSockets)*baseWriteCredit)
}

// Origin is the origin this manager serves.
func (m *Manager) Origin() string { return m.cfg.Origin }

// reserveSlot counts a new socket against the origin's limit.
func (m *Manager) reserveSlot() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.open >= m.cfg.MaxSockets {
		return false
	}
	m.open++
	return true
}

func (m *Manager) releaseSlot() {
	m.mu.Lock()
	m.open--
	m.mu.Unlock()
}

// OpenSockets reports how many sockets are open or opening.
func (m *Manager) OpenSockets() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.open
}

func (m *Manager) addSession(s *session) {
	m.mu.Lock()
	m.sessions[s] = struct{}{}
	m.mu.Unlock()
}

func (m *Manager) removeSession(s *session) {
	m.mu.Lock()
	delete(m.sessions, s)
	m.mu.Unlock()
}

// CloseSessions ends every page session that started before the given page generation, with all of
// their sockets. The app calls it when the top-level page is replaced (navigation, reload) or its web
// process died, so no socket outlives the document that opened it, even where WebKit keeps a page
// alive a little longer than its WebSocket.
func (m *Manager) CloseSessions(beforeGeneration uint64, reason string) {
	m.mu.Lock()
	var victims []*session
	for s := range m.sessions {
		if s.generation < beforeGeneration {
			victims = append(victims, s)
		}
	}
	m.mu.Unlock()
	for _, s := range victims {
		m.log.Info("closing page session", "reason", reason, "sockets", s.socketCount())
		s.shutdown()
	}
}

// BeginNavigation marks the start of a new top-level page and returns its generation. Sessions that
// connect from now on belong to the new page; CloseSessions(gen) later ends the older ones.
func (m *Manager) BeginNavigation() uint64 {
	return m.generation.Add(1)
}

// takeCredit hands out up to want bytes of the origin's write-buffer pool. Every byte Go may have to
// buffer for a page is first granted from this pool, so the origin's buffered data can never exceed
// MaxBuffered while the page respects its credit, and a page that ignores it is cut off.
func (m *Manager) takeCredit(sk *socket, want int64) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	got := min(want, m.poolFree)
	m.poolFree -= got
	if got < want {
		m.waiters[sk] = struct{}{}
	} else {
		delete(m.waiters, sk)
	}
	return got
}

// returnCredit puts bytes back into the pool and lets sockets that were short of credit try again.
func (m *Manager) returnCredit(sk *socket, n int64, forget bool) {
	m.mu.Lock()
	m.poolFree += n
	if forget {
		delete(m.waiters, sk)
	}
	var wake []*socket
	if m.poolFree > 0 {
		for w := range m.waiters {
			if w != sk {
				wake = append(wake, w)
			}
		}
	}
	m.mu.Unlock()
	for _, w := range wake {
		w.regrant()
	}
}

// takeRead reserves up to want bytes of the site's read budget for one read of sk, and registers sk
// (unless nil) to be woken when none is left.
//
// Threat: memory exhaustion through the page. Each socket's read window bounds what one socket can
// queue in the page; this budget bounds all of them together to MaxBuffered, so a page with a
// thousand sockets fed by fast servers holds at most that much unread data.
func (m *Manager) takeRead(sk *socket, want int64) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	got := min(want, m.readFree)
	m.readFree -= got
	if got == 0 && sk != nil {
		m.readWaiters[sk] = struct{}{}
	}
	return got
}

// returnRead gives n bytes back to the site's read budget and wakes the sockets waiting for it.
// It must not be called with any socket's mu held.
func (m *Manager) returnRead(n int64) {
	if n <= 0 {
		return
	}
	m.mu.Lock()
	m.readFree += n
	wake := make([]*socket, 0, len(m.readWaiters))
	for w := range m.readWaiters {
		wake = append(wake, w)
	}
	clear(m.readWaiters)
	m.mu.Unlock()
	for _, w := range wake {
		w.mu.Lock()
		w.readWoken = true
		w.cond.Broadcast()
		w.mu.Unlock()
	}
}
