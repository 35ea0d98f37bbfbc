package policy

import "net/netip"

// AddrClass says where an address leads. Everything other than Public is on the user's own machine or
// network, or is not a destination at all.
type AddrClass int

// The zero value is Invalid rather than Public so that a forgotten classification can never be
// mistaken for a safe one.
const (
	Invalid     AddrClass = iota // not a valid address (the zero netip.Addr)
	Public                       // globally reachable unicast
	Loopback                     // 127/8, ::1: the user's own machine
	Private                      // RFC 1918, fc00::/7 unique local, fec0::/10 site-local, local-use NAT64
	LinkLocal                    // 169.254/16, fe80::/10 (includes the 169.254.169.254 cloud metadata service)
	CGNAT                        // 100.64/10 shared address space: the ISP's side of the user's network
	Unspecified                  // 0.0.0.0, ::
	Multicast                    // 224/4, ff00::/8
	Broadcast                    // 255.255.255.255
	Reserved                     // 0/8, 240/4, documentation, benchmarking and other special-purpose ranges
)

var addrClassNames = [...]string{
	Invalid:     "invalid",
	Public:      "public",
	Loopback:    "loopback",
	Private:     "private",
	LinkLocal:   "link-local",
	CGNAT:       "cgnat",
	Unspecified: "unspecified",
	Multicast:   "multicast",
	Broadcast:   "broadcast",
	Reserved:    "reserved",
}

// String returns a stable lowercase name, suitable for logs.
func (c AddrClass) String() string {
	if c >= 0 && int(c) < len(addrClassNames) {
		return addrClassNames[c]
	}
	return "unknown"
}

// IsPublic reports whether the class is globally reachable unicast.
func (c AddrClass) IsPublic() bool { return c == Public }

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

type classRange struct {
	p     netip.Prefix
	class AddrClass
}

// ipv4Ranges lists the IPv4 special-purpose blocks (IANA registry, RFC 6890 and successors). They
// are checked in order, so a more specific entry must come before any block containing it.
var ipv4Ranges = []classRange{
	{mustPrefix("0.0.0.0/32"), Unspecified},
	{mustPrefix("0.0.0.0/8"), Reserved}, // "this network" (RFC 1122): never a valid destination
	{mustPrefix("10.0.0.0/8"), Private},
	{mustPrefix("100.64.0.0/10"), CGNAT},
	{mustPrefix("127.0.0.0/8"), Loopback},
	{mustPrefix("169.254.0.0/16"), LinkLocal},
	{mustPrefix("172.16.0.0/12"), Private},
	{mustPrefix("192.0.0.0/24"), Reserved},   // IETF protocol assignments
	{mustPrefix("192.0.2.0/24"), Reserved},   // TEST-NET-1 documentation
	{mustPrefix("192.88.99.0/24"), Reserved}, // deprecated 6to4 relay anycast
	{mustPrefix("192.168.0.0/16"), Private},
	{mustPrefix("198.18.0.0/15"), Reserved},   // benchmarking
	{mustPrefix("198.51.100.0/24"), Reserved}, // TEST-NET-2 documentation
	{mustPrefix("203.0.113.0/24"), Reserved},  // TEST-NET-3 documentation
	{mustPrefix("224.0.0.0/4"), Multicast},
	{mustPrefix("255.255.255.255/32"), Broadcast},
	{mustPrefix("240.0.0.0/4"), Reserved}, // future use
}

// ipv6Ranges lists the IPv6 special-purpose blocks that are not wrappers around IPv4 (those are
// unwrapped first by Classify). Anything outside 2000::/3 that is not listed is Reserved.
var ipv6Ranges = []classRange{
	{mustPrefix("::/128"), Unspecified},
	{mustPrefix("::1/128"), Loopback},
	{mustPrefix("ff00::/8"), Multicast},
	{mustPrefix("fe80::/10"), LinkLocal},
	{mustPrefix("fec0::/10"), Private},      // deprecated site-local, still routed inside some networks
	{mustPrefix("fc00::/7"), Private},       // unique local addresses
	{mustPrefix("64:ff9b:1::/48"), Private}, // local-use NAT64 (RFC 8215): a translator on the user's network
	{mustPrefix("100::/64"), Reserved},      // discard-only
	{mustPrefix("2001:2::/48"), Reserved},   // benchmarking
	{mustPrefix("2001:10::/28"), Reserved},  // ORCHID (deprecated)
	{mustPrefix("2001:20::/28"), Reserved},  // ORCHIDv2
	{mustPrefix("2001:db8::/32"), Reserved}, // documentation
	{mustPrefix("3fff::/20"), Reserved},     // documentation (RFC 9637)
	{mustPrefix("5f00::/16"), Reserved},     // SRv6 SIDs
}

var (
	globalUnicast6 = mustPrefix("2000::/3")
	ipv4Compatible = mustPrefix("::/96")
	nat64WellKnown = mustPrefix("64:ff9b::/96")
	sixToFour      = mustPrefix("2002::/16")
	teredo         = mustPrefix("2001::/32")
)

// Classify says where an address leads.
//
// Threat: address wrapping — an IPv6 address can carry an IPv4 address inside it, and the operating
// system or the network may deliver packets to that IPv4 address. Classify therefore unwraps
// IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16)
// and Teredo (2001::/32, whose client address is stored inverted) before classifying, and a wrapper
// around a non-public IPv4 address gets that IPv4 address's class.
func Classify(a netip.Addr) AddrClass {
	if !a.IsValid() {
		return Invalid
	}
	// Threat: zone smuggling — netip.Prefix.Contains never matches an address that carries an IPv6
	// zone, so "fe80::1%eth0" would fall through every range below and come out Public. The zone
	// only picks an interface; the address decides the class, so the zone is dropped first.
	a = a.WithZone("")
	if a.Is4() {
		return classify4(a)
	}
	if a.Is4In6() {
		// The kernel sends to the IPv4 address itself, so the mapped address is exactly as public
		// as the address it maps.
		return classify4(a.Unmap())
	}
	b := a.As16()
	if ipv4Compatible.Contains(a) && a != netip.IPv6Unspecified() && a != netip.IPv6Loopback() {
		// IPv4-compatible addresses were deprecated in 2006 (RFC 4291) and no legitimate
		// destination uses one. A wrapped non-public address keeps its class; a wrapped public one
		// is still Reserved, because old stacks tunnel these automatically and nothing needs them.
		if c := classify4(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})); c != Public {
			return c
		}
		return Reserved
	}
	if nat64WellKnown.Contains(a) {
		// The NAT64 gateway forwards to the embedded IPv4 address, so the embedded address decides.
		return classify4(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	if sixToFour.Contains(a) {
		// 6to4 tunnels to the IPv4 address in bits 16 to 48.
		if c := classify4(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})); c != Public {
			return c
		}
		return Public
	}
	if teredo.Contains(a) {
		// Teredo carries the server address in bits 32 to 64 and the client address, inverted,
		// in the last 32 bits; a host with a Teredo interface may deliver to either.
		if c := classify4(netip.AddrFrom4([4]byte{b[4], b[5], b[6], b[7]})); c != Public {
			return c
		}
		if c := classify4(netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})); c != Public {
			return c
		}
		return Public
	}
	for _, r := range ipv6Ranges {
		if r.p.Contains(a) {
			return r.class
		}
	}
	if !globalUnicast6.Contains(a) {
		// Everything outside 2000::/3 is unassigned or special-purpose; none of it is a public
		// destination today.
		return Reserved
	}
	return Public
}

func classify4(a netip.Addr) AddrClass {
	for _, r := range ipv4Ranges {
		if r.p.Contains(a) {
			return r.class
		}
	}
	return Public
}
