//go:build unix

package bindings

import (
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
