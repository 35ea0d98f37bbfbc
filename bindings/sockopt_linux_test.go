//go:build linux

package bindings

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestUDPSocketsCannotBroadcast: Go turns SO_BROADCAST on for UDP sockets; Socketeer turns it off for
// both modes, so a datagram to a subnet's broadcast address cannot reach a whole network.
func TestUDPSocketsCannotBroadcast(t *testing.T) {
	b := startBridge(t, Config{}, true)
	c := b.connect(t)
	peer := udpPeer(t)
	c.openOK(t, 1, int(addrOf(peer).Port()), map[string]any{"kind": "udp"})
	c.openOK(t, 2, 0, boundOnLoopback)
	for id := uint32(1); id <= 2; id++ {
		rc, err := b.socketOf(id).udp.pc.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var v int
		var gerr error
		rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST) })
		if gerr != nil || v != 0 {
			t.Errorf("socket %d: SO_BROADCAST = %d (%v), want 0", id, v, gerr)
		}
	}
}
