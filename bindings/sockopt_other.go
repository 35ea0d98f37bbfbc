//go:build !unix

package bindings

import (
	"errors"
	"net"
	"syscall"
)

// shareAddress is not available here: address sharing semantics differ on Windows, where
// SO_REUSEADDR lets another program steal the port.
func shareAddress(_, _ string, _ syscall.RawConn) error {
	return errors.New("multicastAllowAddressSharing is not supported on this platform")
}

// setBacklog leaves the system's backlog in place here.
func setBacklog(*net.TCPListener, int) error {
	return errors.New("backlog is not supported on this platform")
}

// noBroadcast leaves the socket as it is here; site windows and their sockets run on Linux only.
func noBroadcast(_, _ string, _ syscall.RawConn) error { return nil }
