package bindings

import (
	"cmp"
	"slices"
	"sync/atomic"
	"time"
)

// The socket inspector: the launcher asks a site process which sockets its pages hold and may close
// one. It shows what Go knows about each socket (never what the page says about it), so the user sees
// the real destination and the real byte counts.

// SocketInfo describes one open socket for the inspector.
type SocketInfo struct {
	// ID names the socket within this process, for CloseSocket; it is never reused.
	ID          uint64    `json:"id"`
	Origin      string    `json:"origin"`
	Protocol    string    `json:"protocol"`
	Destination string    `json:"destination"`
	Remote      string    `json:"remote"`
	TLS         bool      `json:"tls"`
	BytesIn     int64     `json:"bytesIn"`
	BytesOut    int64     `json:"bytesOut"`
	Opened      time.Time `json:"opened"`
}

// inspectSerial numbers sockets for the inspector across every session of the process.
var inspectSerial atomic.Uint64

// inspectInfo is what a socket records for the inspector once it is connected. The counters are
// updated by the socket's read and write loops and read by the inspector without taking the
// socket's lock.
type inspectInfo struct {
	serial      uint64
	protocol    string
	destination string
	remote      string
	tls         bool
	opened      time.Time
	bytesIn     atomic.Int64
	bytesOut    atomic.Int64
}

// inspectAs starts the socket's record once it is open: protocol, the destination as the page asked
// for it (the remote address when empty) and the address connected to. Called with sk.mu held.
func (sk *socket) inspectAs(protocol, destination, remote string) {
	sk.inspect = &inspectInfo{serial: inspectSerial.Add(1), protocol: protocol,
		destination: cmp.Or(destination, remote), remote: remote, opened: time.Now().UTC()}
}

// openSockets lists the manager's connected sockets.
func (m *Manager) openSockets() []*socket {
	m.mu.Lock()
	sessions := make([]*session, 0, len(m.sessions))
	for s := range m.sessions {
		sessions = append(sessions, s)
	}
	m.mu.Unlock()
	var out []*socket
	for _, s := range sessions {
		s.mu.Lock()
		for _, sk := range s.sockets {
			out = append(out, sk)
		}
		s.mu.Unlock()
	}
	return out
}

// inspected returns a socket's record, or nil while it is still opening.
func (sk *socket) inspected() *inspectInfo {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	if sk.done {
		return nil
	}
	return sk.inspect
}

// Sockets lists the open sockets of every page of this origin, oldest first.
func (m *Manager) Sockets() []SocketInfo {
	var out []SocketInfo
	for _, sk := range m.openSockets() {
		in := sk.inspected()
		if in == nil {
			continue
		}
		out = append(out, SocketInfo{
			ID: in.serial, Origin: m.cfg.Origin, Protocol: in.protocol, Destination: in.destination,
			Remote: in.remote, TLS: in.tls, BytesIn: in.bytesIn.Load(), BytesOut: in.bytesOut.Load(),
			Opened: in.opened,
		})
	}
	slices.SortFunc(out, func(a, b SocketInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// errClosedByUser is what a page sees on a socket the user closed from the inspector.
var errClosedByUser = &PageError{Name: NetworkError, Message: "the user closed this connection in Socketeer"}

// CloseSocket closes the socket the inspector listed with this ID, as if the connection had failed,
// and reports whether it was open.
func (m *Manager) CloseSocket(id uint64) bool {
	for _, sk := range m.openSockets() {
		if in := sk.inspected(); in != nil && in.serial == id {
			m.log.Info("socket closed by the user", "destination", in.destination)
			sk.finish(errClosedByUser)
			return true
		}
	}
	return false
}
