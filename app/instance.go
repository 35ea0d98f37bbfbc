package app

import (
	"errors"
	"time"

	"socketeer/bindings"
)

// One process per profile. A profile's window runs in a process of its own (WebKit reads its storage
// folders once per process), and opening a profile that is already open must bring its window to the
// front instead of starting a second process on the same storage. The running process holds a lock
// file in the profile's folder for its whole life and answers on a unix socket beside it; the same
// socket lets the launcher ask it for its open sockets and close one. The launcher uses the same
// mechanism for itself, in Socketeer's config folder.

// controlRequest is one request on a control socket.
type controlRequest struct {
	// Op is "focus", "sockets" or "close".
	Op string `json:"op"`
	// Socket names the socket to close, as Sockets listed it.
	Socket uint64 `json:"socket,omitempty"`
}

// controlResponse answers a controlRequest.
type controlResponse struct {
	Error   string                `json:"error,omitempty"`
	Sockets []bindings.SocketInfo `json:"sockets,omitempty"`
	Closed  bool                  `json:"closed,omitempty"`
}

// errAlreadyOpen means another process holds the instance; it was asked to show its window.
var errAlreadyOpen = errors.New("already open")

// errNotRunning means no process holds the instance.
var errNotRunning = errors.New("not running")

// controlTimeout bounds one exchange on a control socket, and how long a second process waits for a
// first one that is still starting to answer.
const controlTimeout = 10 * time.Second

// Names of the files in an instance folder.
const (
	instanceLockName   = "instance.lock"
	instanceSocketName = "control.sock"
)
