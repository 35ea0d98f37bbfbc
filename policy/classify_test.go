package policy

import (
	"net/netip"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		addr string
		want AddrClass
	}{
		// IPv4.
		{"public v4", "8.8.8.8", Public},
		{"public v4 near private", "172.32.0.1", Public},
		{"public v4 near cgnat", "100.128.0.1", Public},
		{"unspecified v4", "0.0.0.0", Unspecified},
		{"this-network v4", "0.1.2.3", Reserved},
		{"loopback", "127.0.0.1", Loopback},
		{"loopback whole /8", "127.255.0.9", Loopback},
		{"rfc1918 10/8", "10.1.2.3", Private},
		{"rfc1918 172.16/12", "172.31.255.255", Private},
		{"rfc1918 192.168/16", "192.168.1.1", Private},
		{"cgnat", "100.64.0.1", CGNAT},
		{"cgnat top", "100.127.255.255", CGNAT},
		{"link-local", "169.254.1.1", LinkLocal},
		{"cloud metadata service", "169.254.169.254", LinkLocal},
		{"ietf protocol assignments", "192.0.0.8", Reserved},
		{"documentation TEST-NET-1", "192.0.2.1", Reserved},
		{"documentation TEST-NET-2", "198.51.100.1", Reserved},
		{"documentation TEST-NET-3", "203.0.113.1", Reserved},
		{"benchmarking", "198.19.0.1", Reserved},
		{"6to4 relay anycast", "192.88.99.1", Reserved},
		{"multicast", "224.0.0.251", Multicast},
		{"multicast top", "239.255.255.250", Multicast},
		{"future use", "240.0.0.1", Reserved},
		{"broadcast", "255.255.255.255", Broadcast},

		// IPv6.
		{"public v6", "2606:4700:4700::1111", Public},
		{"unspecified v6", "::", Unspecified},
		{"loopback v6", "::1", Loopback},
		{"unique local", "fd12:3456::1", Private},
		{"unique local fc", "fc00::1", Private},
		{"site-local", "fec0::1", Private},
		{"link-local v6", "fe80::1", LinkLocal},
		{"link-local v6 with zone", "fe80::1%eth0", LinkLocal},
		{"multicast v6", "ff02::1", Multicast},
		{"documentation v6", "2001:db8::1", Reserved},
		{"documentation v6 3fff", "3fff::1", Reserved},
		{"discard-only", "100::1", Reserved},
		{"benchmarking v6", "2001:2::1", Reserved},
		{"orchid v2", "2001:20::1", Reserved},
		{"outside 2000::/3", "4000::1", Reserved},
		{"local-use nat64", "64:ff9b:1::a00:1", Private},

		// Wrapped IPv4: the wrapper must never launder a non-public address.
		{"v4-mapped loopback", "::ffff:127.0.0.1", Loopback},
		{"v4-mapped private", "::ffff:192.168.0.1", Private},
		{"v4-mapped metadata", "::ffff:169.254.169.254", LinkLocal},
		{"v4-mapped public", "::ffff:8.8.8.8", Public},
		{"v4-mapped unspecified", "::ffff:0.0.0.0", Unspecified},
		{"v4-compatible loopback", "::127.0.0.1", Loopback},
		{"v4-compatible private", "::10.0.0.1", Private},
		{"v4-compatible public is still reserved", "::8.8.8.8", Reserved},
		{"v4-compatible tiny value", "::2", Reserved},
		{"nat64 loopback", "64:ff9b::7f00:1", Loopback},
		{"nat64 private", "64:ff9b::192.168.1.1", Private},
		{"nat64 public", "64:ff9b::8.8.8.8", Public},
		{"6to4 loopback", "2002:7f00:1::", Loopback},
		{"6to4 private", "2002:c0a8:101::1", Private},
		{"6to4 metadata", "2002:a9fe:a9fe::", LinkLocal},
		{"6to4 public", "2002:808:808::1", Public},
		{"teredo client loopback", "2001:0:4136:e378:8000:63bf:80ff:fffe", Loopback},
		{"teredo server private", "2001:0:a00:1::1", Private},
		{"teredo public", "2001:0:4136:e378:8000:63bf:f7f7:f7f7", Public},
		{"teredo client documentation (RFC 4380 example)", "2001:0:4136:e378:8000:63bf:3fff:fdd2", Reserved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(netip.MustParseAddr(tt.addr))
			if got != tt.want {
				t.Fatalf("Classify(%s) = %v, want %v", tt.addr, got, tt.want)
			}
			if got.IsPublic() != (tt.want == Public) {
				t.Fatalf("IsPublic mismatch for %v", got)
			}
		})
	}
}

func TestClassifyZeroValue(t *testing.T) {
	if c := Classify(netip.Addr{}); c != Invalid || c.IsPublic() {
		t.Fatalf("Classify(zero) = %v, want invalid", c)
	}
	var zero AddrClass
	if zero.IsPublic() {
		t.Fatal("the zero AddrClass must not be public")
	}
}

func TestAddrClassString(t *testing.T) {
	seen := map[string]bool{}
	for c := Invalid; c <= Reserved; c++ {
		s := c.String()
		if s == "" || s == "unknown" || seen[s] {
			t.Errorf("AddrClass(%d).String() = %q", c, s)
		}
		seen[s] = true
	}
	if AddrClass(99).String() != "unknown" || AddrClass(-1).String() != "unknown" {
		t.Error("out-of-range classes must print as unknown")
	}
}
