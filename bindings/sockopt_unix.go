//go:build unix

package bindings

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// shareAddress lets several sockets bind the same address and port (multicastAllowAddressSharing),
// so that several apps can listen to one discovery group.
func shareAddress(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if serr == nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// setBacklog applies the page's backlog. Go listens with the kernel's maximum; Linux and the BSDs
// take a second listen call on a listening socket as a new backlog.
func setBacklog(ln *net.TCPListener, backlog int) error {
	rc, err := ln.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = unix.Listen(int(fd), backlog) }); err != nil {
		return err
	}
	return lerr
}

// noBroadcast turns SO_BROADCAST off, which Go turns on for every UDP socket: a page's datagram to
// a subnet's broadcast address (x.y.z.255), which the policy cannot tell from a host, would
// otherwise reach every host on that network under a consent that named one address.
func noBroadcast(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST, 0) }); err != nil {
		return err
	}
	return serr
}
