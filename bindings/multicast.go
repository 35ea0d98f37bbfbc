package bindings

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// setMulticastOptions applies a bound socket's multicast options. Unset options keep the defaults
// the spec gives, which are also the kernel's: a time-to-live of 1 (the local network only) and
// loopback on.
func setMulticastOptions(c *net.UDPConn, req OpenRequest) error {
	local := addrPort(c.LocalAddr()).Addr()
	if local.Is4() || local.Is4In6() {
		p := ipv4.NewPacketConn(c)
		if req.MulticastTimeToLive != nil {
			if err := p.SetMulticastTTL(int(*req.MulticastTimeToLive)); err != nil {
				return err
			}
		}
		if req.MulticastLoopback != nil {
			return p.SetMulticastLoopback(*req.MulticastLoopback)
		}
		return nil
	}
	p := ipv6.NewPacketConn(c)
	if req.MulticastTimeToLive != nil {
		if err := p.SetMulticastHopLimit(int(*req.MulticastTimeToLive)); err != nil {
			return err
		}
	}
	if req.MulticastLoopback != nil {
		return p.SetMulticastLoopback(*req.MulticastLoopback)
	}
	return nil
}

// groupMember is what ipv4.PacketConn and ipv6.PacketConn share for group membership.
type groupMember interface {
	JoinGroup(ifi *net.Interface, group net.Addr) error
	LeaveGroup(ifi *net.Interface, group net.Addr) error
	JoinSourceSpecificGroup(ifi *net.Interface, group, source net.Addr) error
	LeaveSourceSpecificGroup(ifi *net.Interface, group, source net.Addr) error
}

// changeMembership joins or leaves a group (any-source when source is the zero Addr) on the
// interface the routing table picks for it.
func changeMembership(c *net.UDPConn, join bool, group, source netip.Addr) error {
	var p groupMember = ipv6.NewPacketConn(c)
	if group.Is4() {
		p = ipv4.NewPacketConn(c)
	}
	g := &net.UDPAddr{IP: group.AsSlice()}
	if !source.IsValid() {
		if join {
			return p.JoinGroup(nil, g)
		}
		return p.LeaveGroup(nil, g)
	}
	src := &net.UDPAddr{IP: source.AsSlice()}
	if join {
		return p.JoinSourceSpecificGroup(nil, g, src)
	}
	return p.LeaveSourceSpecificGroup(nil, g, src)
}
