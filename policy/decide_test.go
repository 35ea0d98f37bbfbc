package policy

import (
	"net/netip"
	"strings"
	"testing"
)

func mustHost(t *testing.T, s string) Host {
	t.Helper()
	h, err := ParseHost(s)
	if err != nil {
		t.Fatalf("ParseHost(%q): %v", s, err)
	}
	return h
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// literal builds the address list a caller passes for an IP literal: the literal itself.
func literal(t *testing.T, s string) (Host, []netip.Addr) {
	h := mustHost(t, s)
	return h, []netip.Addr{h.IP}
}

func TestDecide(t *testing.T) {
	const origin = "https://app.example:8443"
	pub := mustHost(t, "echo.example.com")
	pubAddrs := addrs("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")

	type tc struct {
		name   string
		req    Request
		cfg    Config
		want   Verdict
		reason Reason
		local  bool
	}
	base := func(mod func(*Request)) Request {
		r := Request{Origin: origin, Protocol: TCP, Mode: Connect, Host: pub, Port: 7, Addresses: pubAddrs}
		if mod != nil {
			mod(&r)
		}
		return r
	}
	lit := func(s string, mod func(*Request)) Request {
		h, a := literal(t, s)
		return base(func(r *Request) {
			r.Host, r.Addresses = h, a
			if mod != nil {
				mod(r)
			}
		})
	}
	name := func(host string, resolved []netip.Addr, mod func(*Request)) Request {
		h := mustHost(t, host)
		return base(func(r *Request) {
			r.Host, r.Addresses = h, resolved
			if mod != nil {
				mod(r)
			}
		})
	}
	granted := func(r *Request) { r.Granted = true }
	typed := func(r *Request) { r.UserTyped = true }

	tests := []tc{
		// The ordinary paths.
		{name: "public name asks", req: base(nil), want: Ask, reason: ReasonNeedsConsent},
		{name: "public name granted", req: base(granted), want: Allow, reason: ReasonGranted},
		{name: "public literal asks", req: lit("93.184.216.34", nil), want: Ask, reason: ReasonNeedsConsent},
		{name: "udp connect public asks", req: base(func(r *Request) { r.Protocol = UDP }), want: Ask, reason: ReasonNeedsConsent},
		{name: "tls flag does not change the decision", req: base(func(r *Request) { r.TLS = true }), want: Ask, reason: ReasonNeedsConsent},

		// Rule 1: kill switch beats even a grant.
		{name: "disabled beats grant", req: base(granted), cfg: Config{Disabled: true}, want: Deny, reason: ReasonDisabled},

		// Rule 2: origin.
		{name: "http origin", req: base(func(r *Request) { r.Origin = "http://app.example" }), want: Deny, reason: ReasonInsecureOrigin},
		{name: "null origin", req: base(func(r *Request) { r.Origin = "null" }), want: Deny, reason: ReasonInsecureOrigin},
		{name: "empty origin", req: base(func(r *Request) { r.Origin = "" }), want: Deny, reason: ReasonInsecureOrigin},
		{name: "origin with path", req: base(func(r *Request) { r.Origin = "https://app.example/x" }), want: Deny, reason: ReasonInsecureOrigin},
		{name: "origin with userinfo", req: base(func(r *Request) { r.Origin = "https://a@app.example" }), want: Deny, reason: ReasonInsecureOrigin},
		{name: "insecure origin beats grant", req: base(func(r *Request) { r.Origin = "http://app.example"; r.Granted = true }), want: Deny, reason: ReasonInsecureOrigin},

		// Request shape.
		{name: "unknown protocol", req: base(func(r *Request) { r.Protocol = "sctp" }), want: Deny, reason: ReasonBadRequest},
		{name: "unknown mode", req: base(func(r *Request) { r.Mode = "" }), want: Deny, reason: ReasonBadRequest},
		{name: "tcp bind", req: base(func(r *Request) { r.Mode = Bind }), want: Deny, reason: ReasonBadRequest},
		{name: "udp listen", req: base(func(r *Request) { r.Protocol, r.Mode = UDP, Listen }), want: Deny, reason: ReasonBadRequest},
		{name: "zero host", req: base(func(r *Request) { r.Host = Host{} }), want: Deny, reason: ReasonBadHost},
		{name: "hand-built host hiding localness", req: base(func(r *Request) { r.Host = Host{Name: "localhost"} }), want: Deny, reason: ReasonBadHost},
		{name: "hand-built host with uncanonical name", req: base(func(r *Request) { r.Host = Host{Name: "Echo.Example.com"} }), want: Deny, reason: ReasonBadHost},
		{name: "hand-built host with mismatched ip", req: base(func(r *Request) {
			r.Host = Host{Name: "8.8.8.8", IP: netip.MustParseAddr("127.0.0.1")}
		}), want: Deny, reason: ReasonBadHost},

		// Rule 3: ports.
		{name: "port 0", req: base(func(r *Request) { r.Port = 0 }), want: Deny, reason: ReasonBadPort},
		{name: "port 65536", req: base(func(r *Request) { r.Port = 65536 }), want: Deny, reason: ReasonBadPort},
		{name: "port -1", req: base(func(r *Request) { r.Port = -1 }), want: Deny, reason: ReasonBadPort},
		{name: "port 65535", req: base(func(r *Request) { r.Port = 65535 }), want: Ask, reason: ReasonNeedsConsent},
		{name: "port 1", req: base(func(r *Request) { r.Port = 1 }), want: Ask, reason: ReasonNeedsConsent},

		// Rule 4: port 443.
		{name: "tcp 443", req: base(func(r *Request) { r.Port = 443 }), want: Deny, reason: ReasonPort443},
		{name: "tcp 443 granted still denied", req: base(func(r *Request) { r.Port = 443; r.Granted = true }), want: Deny, reason: ReasonPort443},
		{name: "tcp 443 with tls still denied", req: base(func(r *Request) { r.Port = 443; r.TLS = true }), want: Deny, reason: ReasonPort443},
		{name: "tcp 443 allowed by config", req: base(func(r *Request) { r.Port = 443 }), cfg: Config{AllowPort443: true}, want: Ask, reason: ReasonNeedsConsent},
		{name: "udp 443 is not covered", req: base(func(r *Request) { r.Protocol, r.Port = UDP, 443 }), want: Ask, reason: ReasonNeedsConsent},
		{name: "tcp 8443 fine", req: base(func(r *Request) { r.Port = 8443 }), want: Ask, reason: ReasonNeedsConsent},

		// Rule 5: resolution.
		{name: "unresolved name", req: base(func(r *Request) { r.Addresses = nil }), want: Deny, reason: ReasonUnresolved},
		{name: "unresolved granted name", req: base(func(r *Request) { r.Addresses = nil; r.Granted = true }), want: Deny, reason: ReasonUnresolved},
		{name: "literal with different address", req: lit("8.8.8.8", func(r *Request) { r.Addresses = addrs("127.0.0.1") }), want: Deny, reason: ReasonAddressMismatch},
		{name: "literal with extra address", req: lit("8.8.8.8", func(r *Request) { r.Addresses = addrs("8.8.8.8", "10.0.0.1") }), want: Deny, reason: ReasonAddressMismatch},
		{name: "mapped literal passed unmapped", req: lit("::ffff:8.8.8.8", func(r *Request) { r.Addresses = addrs("8.8.8.8") }), want: Ask, reason: ReasonNeedsConsent},

		// Rule 6: addresses that are never destinations.
		{name: "0.0.0.0 literal", req: lit("0.0.0.0", nil), want: Deny, reason: ReasonForbiddenAddress},
		{name: "decimal 0 literal", req: lit("0", nil), want: Deny, reason: ReasonForbiddenAddress},
		{name: ":: literal", req: lit("::", nil), want: Deny, reason: ReasonForbiddenAddress},
		{name: "::ffff:0.0.0.0 literal", req: lit("::ffff:0.0.0.0", nil), want: Deny, reason: ReasonForbiddenAddress},
		{name: "broadcast udp", req: lit("255.255.255.255", func(r *Request) { r.Protocol = UDP }), want: Deny, reason: ReasonForbiddenAddress},
		{name: "multicast tcp", req: lit("224.0.0.1", nil), want: Deny, reason: ReasonForbiddenAddress},
		{name: "multicast udp is local", req: lit("239.255.255.250", func(r *Request) { r.Protocol = UDP }), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "reserved 240/4", req: lit("240.0.0.1", nil), want: Deny, reason: ReasonForbiddenAddress},
		{name: "documentation range", req: lit("192.0.2.1", nil), want: Deny, reason: ReasonForbiddenAddress},
		{name: "benchmark range", req: lit("198.18.0.1", nil), want: Deny, reason: ReasonForbiddenAddress},
		{name: "this-network 0/8", req: lit("0.1.2.3", nil), want: Deny, reason: ReasonForbiddenAddress},
		{name: "reserved beats grant", req: lit("240.0.0.1", granted), want: Deny, reason: ReasonForbiddenAddress},
		{name: "one forbidden among public", req: base(func(r *Request) { r.Addresses = addrs("93.184.216.34", "0.0.0.0") }), want: Deny, reason: ReasonForbiddenAddress},
		{name: "invalid address in list", req: base(func(r *Request) { r.Addresses = []netip.Addr{{}} }), want: Deny, reason: ReasonForbiddenAddress},

		// Rule 7: DNS rebinding.
		{name: "rebinding to loopback", req: name("evil.example", addrs("127.0.0.1"), nil), want: Deny, reason: ReasonNonPublicResolution},
		{name: "rebinding to mapped loopback", req: name("evil.example", addrs("::ffff:127.0.0.1"), nil), want: Deny, reason: ReasonNonPublicResolution},
		{name: "rebinding to router", req: name("evil.example", addrs("192.168.1.1"), nil), want: Deny, reason: ReasonNonPublicResolution},
		{name: "rebinding to metadata service", req: name("evil.example", addrs("169.254.169.254"), nil), want: Deny, reason: ReasonNonPublicResolution},
		{name: "rebinding via nat64", req: name("evil.example", addrs("64:ff9b::a00:1"), nil), want: Deny, reason: ReasonNonPublicResolution},
		{name: "rebinding via 6to4", req: name("evil.example", addrs("2002:7f00:1::"), nil), want: Deny, reason: ReasonNonPublicResolution},
		{name: "rebinding to ula", req: name("evil.example", addrs("fd00::1"), nil), want: Deny, reason: ReasonNonPublicResolution},
		{name: "rebinding to cgnat", req: name("evil.example", addrs("100.64.0.1"), nil), want: Deny, reason: ReasonNonPublicResolution},
		{name: "mixed public and private resolution", req: name("evil.example", addrs("93.184.216.34", "10.0.0.1"), nil), want: Deny, reason: ReasonNonPublicResolution},
		{name: "grant does not cover public-to-private rebinding", req: name("evil.example", addrs("127.0.0.1"), granted), want: Deny, reason: ReasonNonPublicResolution},
		{name: "AllowPrivate does not relax rebinding", req: name("evil.example", addrs("10.0.0.1"), granted), cfg: Config{AllowPrivate: true}, want: Deny, reason: ReasonNonPublicResolution},
		{name: "user-typed name to loopback asks", req: name("dev.example", addrs("127.0.0.1"), typed), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "user-typed granted still asks", req: name("dev.example", addrs("127.0.0.1"), func(r *Request) { r.UserTyped, r.Granted = true, true }), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "user-typed public asks normally", req: name("dev.example", pubAddrs, typed), want: Ask, reason: ReasonNeedsConsent},

		// Rule 8: local destinations.
		{name: "loopback literal", req: lit("127.0.0.1", nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "decimal loopback", req: lit("2130706433", nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "octal loopback", req: lit("0177.0.0.1", nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "hex loopback", req: lit("0x7f.0.0.1", nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "short loopback", req: lit("127.1", nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "bracketed v6 loopback", req: lit("[::1]", nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "mapped loopback literal", req: lit("::ffff:127.0.0.1", nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "compatible loopback literal", req: lit("::127.0.0.1", nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "nat64 loopback literal", req: lit("64:ff9b::7f00:1", nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "6to4 loopback literal", req: lit("2002:7f00:1::", nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "cgnat literal", req: lit("100.64.0.1", nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "cloud metadata literal is never silent", req: lit("169.254.169.254", nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "private literal", req: lit("192.168.1.10", nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "private literal granted", req: lit("192.168.1.10", granted), want: Allow, reason: ReasonGranted, local: true},
		{name: "link-local v6 literal", req: lit("fe80::1", nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "localhost name", req: name("localhost", addrs("127.0.0.1", "::1"), nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "LOCALHOST. name", req: name("LOCALHOST.", addrs("127.0.0.1"), nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "mdns name", req: name("printer.local", addrs("192.168.1.20"), nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "mdns name granted", req: name("printer.local", addrs("192.168.1.20"), granted), want: Allow, reason: ReasonGranted, local: true},
		{name: "single-label name", req: name("nas", addrs("10.0.0.5"), nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "local-only name resolving publicly still flagged", req: name("weird.lan", pubAddrs, nil), want: Ask, reason: ReasonNeedsConsentLocal, local: true},

		// AllowPrivate.
		{name: "AllowPrivate: private literal asks without warning", req: lit("10.1.2.3", nil), cfg: Config{AllowPrivate: true}, want: Ask, reason: ReasonNeedsConsent},
		{name: "AllowPrivate: private literal granted", req: lit("10.1.2.3", granted), cfg: Config{AllowPrivate: true}, want: Allow, reason: ReasonGranted},
		{name: "AllowPrivate: intranet name", req: name("wiki.corp.internal", addrs("10.1.2.3"), nil), cfg: Config{AllowPrivate: true}, want: Ask, reason: ReasonNeedsConsent},
		{name: "AllowPrivate: loopback still flagged", req: lit("127.0.0.1", nil), cfg: Config{AllowPrivate: true}, want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "AllowPrivate: metadata still flagged", req: lit("169.254.169.254", nil), cfg: Config{AllowPrivate: true}, want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "AllowPrivate: cgnat still flagged", req: lit("100.64.0.1", nil), cfg: Config{AllowPrivate: true}, want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "AllowPrivate: localhost still flagged", req: name("localhost", addrs("127.0.0.1"), nil), cfg: Config{AllowPrivate: true}, want: Ask, reason: ReasonNeedsConsentLocal, local: true},

		// Listen and bind.
		{name: "tcp listen on loopback", req: lit("127.0.0.1", func(r *Request) { r.Mode = Listen; r.Port = 40000 }), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "tcp listen on any", req: lit("::", func(r *Request) { r.Mode = Listen; r.Port = 40000 }), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "tcp listen on public address is still local", req: lit("93.184.216.34", func(r *Request) { r.Mode = Listen; r.Port = 0 }), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "tcp listen granted", req: lit("0.0.0.0", func(r *Request) { r.Mode = Listen; r.Port = 0; r.Granted = true }), want: Allow, reason: ReasonGranted, local: true},
		{name: "udp bind on any", req: lit("0.0.0.0", func(r *Request) { r.Protocol, r.Mode, r.Port = UDP, Bind, 5353 }), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "udp bind on multicast group", req: lit("239.1.2.3", func(r *Request) { r.Protocol, r.Mode, r.Port = UDP, Bind, 5000 }), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "listen on a name", req: base(func(r *Request) { r.Mode = Listen }), want: Deny, reason: ReasonBadLocalAddress},
		{name: "bind on broadcast", req: lit("255.255.255.255", func(r *Request) { r.Protocol, r.Mode = UDP, Bind }), want: Deny, reason: ReasonForbiddenAddress},
		{name: "listen port 0 lets the system choose", req: lit("127.0.0.1", func(r *Request) { r.Mode = Listen; r.Port = 0 }), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "bind port 0 lets the system choose", req: lit("127.0.0.1", func(r *Request) { r.Protocol, r.Mode, r.Port = UDP, Bind, 0 }), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "connect port 0 is still refused", req: lit("127.0.0.1", func(r *Request) { r.Protocol, r.Port = UDP, 0 }), want: Deny, reason: ReasonBadPort},
		{name: "listen port 65536", req: lit("127.0.0.1", func(r *Request) { r.Mode = Listen; r.Port = 65536 }), want: Deny, reason: ReasonBadPort},
		{name: "listen port -1", req: lit("127.0.0.1", func(r *Request) { r.Mode = Listen; r.Port = -1 }), want: Deny, reason: ReasonBadPort},

		// Reserved local ports: impersonating the machine's own services.
		{name: "listen on 443 is refused as a reserved port", req: lit("127.0.0.1", func(r *Request) { r.Mode = Listen; r.Port = 443 }), want: Deny, reason: ReasonPrivilegedPort},
		{name: "listen below 32768", req: lit("0.0.0.0", func(r *Request) { r.Mode = Listen; r.Port = 32767 }), want: Deny, reason: ReasonPrivilegedPort},
		{name: "listen at 32768", req: lit("0.0.0.0", func(r *Request) { r.Mode = Listen; r.Port = 32768 }), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "bind udp 53 (dns impersonation)", req: lit("0.0.0.0", func(r *Request) { r.Protocol, r.Mode, r.Port = UDP, Bind, 53 }), want: Deny, reason: ReasonPrivilegedPort},
		{name: "bind udp 1023", req: lit("127.0.0.1", func(r *Request) { r.Protocol, r.Mode, r.Port = UDP, Bind, 1023 }), want: Deny, reason: ReasonPrivilegedPort},
		{name: "bind udp 1024", req: lit("127.0.0.1", func(r *Request) { r.Protocol, r.Mode, r.Port = UDP, Bind, 1024 }), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "reserved port grant does not help", req: lit("127.0.0.1", func(r *Request) { r.Protocol, r.Mode, r.Port, r.Granted = UDP, Bind, 161, true }), want: Deny, reason: ReasonPrivilegedPort},

		// Datagrams from a bound socket to its peers.
		{name: "peer public", req: lit("93.184.216.34", func(r *Request) { r.Protocol, r.Peer = UDP, true }), want: Allow, reason: ReasonBoundPeer},
		{name: "peer public on 443 (no tcp cors bypass over udp)", req: lit("93.184.216.34", func(r *Request) { r.Protocol, r.Peer, r.Port = UDP, true, 443 }), want: Allow, reason: ReasonBoundPeer},
		{name: "peer loopback asks", req: lit("127.0.0.1", func(r *Request) { r.Protocol, r.Peer = UDP, true }), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "peer private asks", req: lit("192.168.1.20", func(r *Request) { r.Protocol, r.Peer = UDP, true }), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "peer heard from is granted", req: lit("192.168.1.20", func(r *Request) { r.Protocol, r.Peer, r.Granted = UDP, true, true }), want: Allow, reason: ReasonGranted, local: true},
		{name: "peer multicast group asks", req: lit("239.255.255.250", func(r *Request) { r.Protocol, r.Peer = UDP, true }), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "peer broadcast refused", req: lit("255.255.255.255", func(r *Request) { r.Protocol, r.Peer, r.Granted = UDP, true, true }), want: Deny, reason: ReasonForbiddenAddress},
		{name: "peer metadata service asks", req: lit("169.254.169.254", func(r *Request) { r.Protocol, r.Peer = UDP, true }), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "peer flag on tcp is a confused caller", req: lit("93.184.216.34", func(r *Request) { r.Peer = true }), want: Deny, reason: ReasonBadRequest},
		{name: "peer flag on a name is a confused caller", req: base(func(r *Request) { r.Protocol, r.Peer = UDP, true }), want: Deny, reason: ReasonBadRequest},
		{name: "peer port 0", req: lit("93.184.216.34", func(r *Request) { r.Protocol, r.Peer, r.Port = UDP, true, 0 }), want: Deny, reason: ReasonBadPort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.req, tt.cfg)
			if got.Verdict != tt.want || got.Reason != tt.reason || got.LocalNetwork != tt.local {
				t.Fatalf("Decide = {%v %q local=%v}, want {%v %q local=%v}",
					got.Verdict, got.Reason, got.LocalNetwork, tt.want, tt.reason, tt.local)
			}
			if got.Message == "" || got.Message != got.Reason.Message() {
				t.Fatalf("Message %q does not match reason %q", got.Message, got.Reason)
			}
			for _, a := range tt.req.Addresses {
				if a.IsValid() && strings.Contains(got.Message, a.String()) {
					t.Fatalf("Message %q leaks a resolved address", got.Message)
				}
			}
		})
	}
}

// TestGrantNeverCoversRebinding spells out the property the rule order exists for: the user grants
// a public name while it resolves publicly; later the same name (same grant key) resolves to a
// private address, and the grant must not carry over.
func TestGrantNeverCoversRebinding(t *testing.T) {
	h := mustHost(t, "game.example")
	req := Request{Origin: "https://game.example", Protocol: TCP, Mode: Connect, Host: h, Port: 7777,
		Addresses: addrs("198.51.99.10"), Granted: true}
	if d := Decide(req, Config{}); d.Verdict != Allow {
		t.Fatalf("public resolution with grant: %+v, want allow", d)
	}
	for _, private := range []string{"127.0.0.1", "10.0.0.1", "192.168.0.1", "169.254.169.254", "::1", "fd00::1", "::ffff:10.0.0.1"} {
		req.Addresses = addrs(private)
		d := Decide(req, Config{})
		if d.Verdict != Deny || d.Reason != ReasonNonPublicResolution {
			t.Errorf("granted name now resolving to %s: %+v, want deny non-public-resolution", private, d)
		}
	}
}

func TestEveryReasonHasMessage(t *testing.T) {
	for _, r := range []Reason{ReasonDisabled, ReasonInsecureOrigin, ReasonBadRequest, ReasonBadHost,
		ReasonBadLocalAddress, ReasonBadPort, ReasonPort443, ReasonUnresolved, ReasonAddressMismatch,
		ReasonForbiddenAddress, ReasonNonPublicResolution, ReasonNeedsConsentLocal, ReasonNeedsConsent,
		ReasonGranted} {
		m := r.Message()
		if m == "" || !strings.HasSuffix(m, ".") {
			t.Errorf("reason %q has message %q; want a full sentence", r, m)
		}
	}
	if Reason("nope").Message() != "" {
		t.Error("unknown reason should have no message")
	}
}

func TestVerdictZeroValueIsDeny(t *testing.T) {
	var d Decision
	if d.Verdict != Deny || d.Verdict.String() != "deny" {
		t.Fatalf("zero Decision verdict = %v", d.Verdict)
	}
	if Ask.String() != "ask" || Allow.String() != "allow" || Verdict(9).String() != "unknown" {
		t.Fatal("Verdict.String mismatch")
	}
}
