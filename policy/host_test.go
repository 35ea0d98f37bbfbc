package policy

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParseHost(t *testing.T) {
	ip := netip.MustParseAddr
	long63 := strings.Repeat("a", 63)
	name253 := strings.Join([]string{long63, long63, long63, strings.Repeat("b", 61)}, ".") // 253 chars
	name254 := name253 + "c"

	tests := []struct {
		name  string
		in    string
		want  Host
		error bool
	}{
		// Plain names.
		{name: "simple name", in: "example.com", want: Host{Name: "example.com"}},
		{name: "uppercase folded", in: "ExAmPlE.CoM", want: Host{Name: "example.com"}},
		{name: "trailing dot dropped", in: "example.com.", want: Host{Name: "example.com"}},
		{name: "underscore allowed", in: "my_printer.corp.example", want: Host{Name: "my_printer.corp.example"}},
		{name: "digits in labels", in: "1password.com", want: Host{Name: "1password.com"}},
		{name: "hex-looking first label is a name", in: "0x7f.example", want: Host{Name: "0x7f.example"}},
		{name: "253 chars accepted", in: name253, want: Host{Name: name253}},
		{name: "253 chars plus trailing dot accepted", in: name253 + ".", want: Host{Name: name253}},

		// Local-only names.
		{name: "localhost", in: "localhost", want: Host{Name: "localhost", LocalOnly: true}},
		{name: "localhost with trailing dot", in: "localhost.", want: Host{Name: "localhost", LocalOnly: true}},
		{name: "LOCALHOST uppercase", in: "LOCALHOST", want: Host{Name: "localhost", LocalOnly: true}},
		{name: "subdomain of localhost", in: "api.localhost", want: Host{Name: "api.localhost", LocalOnly: true}},
		{name: "mDNS .local", in: "printer.local", want: Host{Name: "printer.local", LocalOnly: true}},
		{name: "home.arpa itself", in: "home.arpa", want: Host{Name: "home.arpa", LocalOnly: true}},
		{name: "under home.arpa", in: "nas.home.arpa", want: Host{Name: "nas.home.arpa", LocalOnly: true}},
		{name: ".internal", in: "db.corp.internal", want: Host{Name: "db.corp.internal", LocalOnly: true}},
		{name: ".lan", in: "router.lan", want: Host{Name: "router.lan", LocalOnly: true}},
		{name: "single label", in: "intranet", want: Host{Name: "intranet", LocalOnly: true}},
		{name: "single label trailing dot", in: "intranet.", want: Host{Name: "intranet", LocalOnly: true}},
		{name: "localhost-lookalike is not local", in: "localhost.example.com", want: Host{Name: "localhost.example.com"}},
		{name: "any single label is local", in: "notlocal", want: Host{Name: "notlocal", LocalOnly: true}},
		{name: "xlocal is not .local", in: "foo.xlocal", want: Host{Name: "foo.xlocal"}},

		// IDN.
		{name: "unicode to punycode", in: "bücher.example", want: Host{Name: "xn--bcher-kva.example"}},
		{name: "unicode uppercase folded first", in: "BÜCHER.example", want: Host{Name: "xn--bcher-kva.example"}},
		{name: "punycode input kept", in: "xn--bcher-kva.example", want: Host{Name: "xn--bcher-kva.example"}},
		{name: "unicode TLD", in: "例え.テスト", want: Host{Name: "xn--r8jz45g.xn--zckzah"}},
		{name: "kelvin sign folds to ascii k", in: "\u212Aa.example", want: Host{Name: "ka.example"}},
		{name: "unicode local name", in: "drucker.lokal.local", want: Host{Name: "drucker.lokal.local", LocalOnly: true}},

		// IPv4 literals, including every legacy spelling inet_aton accepts.
		{name: "dotted quad", in: "127.0.0.1", want: Host{Name: "127.0.0.1", IP: ip("127.0.0.1")}},
		{name: "dotted quad trailing dot", in: "127.0.0.1.", want: Host{Name: "127.0.0.1", IP: ip("127.0.0.1")}},
		{name: "decimal integer", in: "2130706433", want: Host{Name: "127.0.0.1", IP: ip("127.0.0.1")}},
		{name: "octal first octet", in: "0177.0.0.1", want: Host{Name: "127.0.0.1", IP: ip("127.0.0.1")}},
		{name: "octal all octets", in: "0177.00.00.01", want: Host{Name: "127.0.0.1", IP: ip("127.0.0.1")}},
		{name: "hex first octet", in: "0x7f.0.0.1", want: Host{Name: "127.0.0.1", IP: ip("127.0.0.1")}},
		{name: "hex uppercase", in: "0X7F.0.0.1", want: Host{Name: "127.0.0.1", IP: ip("127.0.0.1")}},
		{name: "hex integer", in: "0x7f000001", want: Host{Name: "127.0.0.1", IP: ip("127.0.0.1")}},
		{name: "octal integer", in: "017700000001", want: Host{Name: "127.0.0.1", IP: ip("127.0.0.1")}},
		{name: "short form a.b", in: "127.1", want: Host{Name: "127.0.0.1", IP: ip("127.0.0.1")}},
		{name: "short form a.b.c", in: "127.0.1", want: Host{Name: "127.0.0.1", IP: ip("127.0.0.1")}},
		{name: "mixed hex octal decimal", in: "0x7f.01.1", want: Host{Name: "127.1.0.1", IP: ip("127.1.0.1")}},
		{name: "a.b with 24-bit tail", in: "10.65536", want: Host{Name: "10.1.0.0", IP: ip("10.1.0.0")}},
		{name: "bare 0x is zero", in: "0x", want: Host{Name: "0.0.0.0", IP: ip("0.0.0.0")}},
		{name: "zero", in: "0", want: Host{Name: "0.0.0.0", IP: ip("0.0.0.0")}},
		{name: "metadata service", in: "169.254.169.254", want: Host{Name: "169.254.169.254", IP: ip("169.254.169.254")}},
		{name: "max integer", in: "4294967295", want: Host{Name: "255.255.255.255", IP: ip("255.255.255.255")}},

		// IPv6 literals.
		{name: "bracketed loopback", in: "[::1]", want: Host{Name: "::1", IP: ip("::1")}},
		{name: "bare loopback", in: "::1", want: Host{Name: "::1", IP: ip("::1")}},
		{name: "ipv6 canonicalised", in: "2001:DB8:0:0::1", want: Host{Name: "2001:db8::1", IP: ip("2001:db8::1")}},
		{name: "v4-mapped kept", in: "::ffff:127.0.0.1", want: Host{Name: "::ffff:127.0.0.1", IP: ip("::ffff:127.0.0.1")}},
		{name: "v4-compatible kept", in: "::127.0.0.1", want: Host{Name: "::7f00:1", IP: ip("::7f00:1")}},
		{name: "nat64", in: "64:ff9b::7f00:1", want: Host{Name: "64:ff9b::7f00:1", IP: ip("64:ff9b::7f00:1")}},
		{name: "6to4", in: "2002:7f00:1::", want: Host{Name: "2002:7f00:1::", IP: ip("2002:7f00:1::")}},

		// Refusals.
		{name: "empty", in: "", error: true},
		{name: "lone dot", in: ".", error: true},
		{name: "two trailing dots", in: "example.com..", error: true},
		{name: "leading dot", in: ".example.com", error: true},
		{name: "empty label", in: "a..b", error: true},
		{name: "254 chars", in: name254, error: true},
		{name: "64-char label", in: strings.Repeat("a", 64) + ".com", error: true},
		{name: "huge input", in: strings.Repeat("a.", 5000) + "com", error: true},
		{name: "space inside", in: "exa mple.com", error: true},
		{name: "inet_aton trailing garbage", in: "127.0.0.1 evil.com", error: true},
		{name: "tab", in: "example.com\t", error: true},
		{name: "NUL truncation", in: "evil.com\x00.example.com", error: true},
		{name: "CRLF injection", in: "example.com\r\nHost: evil", error: true},
		{name: "DEL", in: "exa\x7fmple.com", error: true},
		{name: "C1 control", in: "exa\u0085mple.com", error: true},
		{name: "bidi override", in: "exa\u202emple.com", error: true},
		{name: "bidi isolate", in: "\u2066example.com", error: true},
		{name: "zero-width joiner", in: "exa\u200dmple.com", error: true},
		{name: "soft hyphen", in: "exa\u00admple.com", error: true},
		{name: "ideographic space", in: "exa\u3000mple.com", error: true},
		{name: "ideographic full stop", in: "example\u3002com", error: true},
		{name: "fullwidth dot", in: "127\uff0e0\uff0e0\uff0e1", error: true},
		{name: "fullwidth digits", in: "\uff11\uff12\uff17.0.0.1", error: true},
		{name: "arabic-indic digits", in: "\u0661\u0662\u0667.example", error: true},
		{name: "symbol", in: "\u2603.example", error: true},
		{name: "leading combining mark", in: "\u0301a.example", error: true},
		{name: "invalid utf-8", in: "exa\xffmple.com", error: true},
		{name: "slash", in: "example.com/path", error: true},
		{name: "backslash", in: "example.com\\path", error: true},
		{name: "question mark", in: "example.com?x", error: true},
		{name: "hash", in: "example.com#x", error: true},
		{name: "userinfo", in: "trusted.example@evil.example", error: true},
		{name: "zone id", in: "fe80::1%eth0", error: true},
		{name: "url-encoded zone id", in: "fe80::1%25eth0", error: true},
		{name: "bracketed zone id", in: "[fe80::1%eth0]", error: true},
		{name: "percent-encoded name", in: "%6c%6f%63%61%6c%68%6f%73%74", error: true},
		{name: "host with port", in: "example.com:80", error: true},
		{name: "bracketed with port", in: "[::1]:80", error: true},
		{name: "bracketed ipv4", in: "[127.0.0.1]", error: true},
		{name: "bracketed name", in: "[localhost]", error: true},
		{name: "unclosed bracket", in: "[::1", error: true},
		{name: "empty brackets", in: "[]", error: true},
		{name: "stray bracket", in: "exa]mple.com", error: true},
		{name: "bad ipv6", in: "::g", error: true},
		{name: "ipv6 with trailing dot", in: "::1.", error: true},
		{name: "ipv6 with leading-zero embedded ipv4", in: "::ffff:0177.0.0.1", error: true},
		{name: "leading hyphen", in: "-example.com", error: true},
		{name: "trailing hyphen", in: "example-.com", error: true},
		{name: "unicode leading hyphen", in: "-bücher.example", error: true},
		{name: "asterisk", in: "*.example.com", error: true},
		{name: "five parts", in: "1.2.3.4.5", error: true},
		{name: "octet too large", in: "256.0.0.1", error: true},
		{name: "short form tail too large", in: "127.16777216", error: true},
		{name: "integer too large", in: "4294967296", error: true},
		{name: "overflowing integer", in: "99999999999999999999999", error: true},
		{name: "bad octal digit", in: "08.0.0.1", error: true},
		{name: "bad hex digit", in: "0xg.0.0.1", error: true},
		{name: "name ending in number", in: "example.123", error: true},
		{name: "name ending in hex number", in: "example.0x10", error: true},
		{name: "name ending in 0x", in: "example.0x", error: true},
		{name: "empty part in quad", in: "127..0.1", error: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHost(tt.in)
			if tt.error {
				if err == nil {
					t.Fatalf("ParseHost(%q) = %+v, want error", tt.in, got)
				}
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Fatalf("ParseHost(%q) error %T, want *InputError", tt.in, err)
				}
				if ie.Msg == "" || ie.Msg != strings.ToLower(ie.Msg) {
					t.Errorf("error message %q must be non-empty and lowercase", ie.Msg)
				}
				if strings.Contains(ie.Msg, tt.in) && len(tt.in) > 3 {
					t.Errorf("error message %q echoes the input", ie.Msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHost(%q) error %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseHost(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseOrigin(t *testing.T) {
	tests := []struct {
		in   string
		want string // canonical String(), "" for an error
	}{
		{"https://example.com", "https://example.com"},
		{"https://example.com:8443", "https://example.com:8443"},
		{"https://EXAMPLE.com:443", "https://example.com"},
		{"HTTPS://example.com", "https://example.com"},
		{"https://[::1]:8443", "https://[::1]:8443"},
		{"https://[::1]", "https://[::1]"},
		{"https://127.0.0.1", "https://127.0.0.1"},
		{"https://bücher.example", "https://xn--bcher-kva.example"},
		{"http://example.com", ""},
		{"null", ""},
		{"", ""},
		{"https://", ""},
		{"https:/example.com", ""},
		{"https://example.com/", ""},
		{"https://example.com/path", ""},
		{"https://user@example.com", ""},
		{"https://example.com:", ""},
		{"https://example.com:0", ""},
		{"https://example.com:65536", ""},
		{"https://example.com:+80", ""},
		{"https://example.com:080080", ""},
		{"https://::1", ""},
		{"https://[::1]x", ""},
		{"https://[::1", ""},
		{"https://example.com?x", ""},
		{"https://example.com#x", ""},
		{"file:///etc/passwd", ""},
		{"wss://example.com", ""},
		{" https://example.com", ""},
	}
	for _, tt := range tests {
		o, err := ParseOrigin(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseOrigin(%q) = %v, want error", tt.in, o)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseOrigin(%q) error %v", tt.in, err)
			continue
		}
		if got := o.String(); got != tt.want {
			t.Errorf("ParseOrigin(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseHost(f *testing.F) {
	for _, s := range []string{
		"example.com", "EXAMPLE.COM.", "localhost", "localhost.", "a.local", "bücher.example",
		"例え.テスト", "xn--bcher-kva.example", "127.0.0.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1",
		"0x7f000001", "127.1", "127.0.1", "0x7f.01.1", "0x", "[::1]", "::1", "::ffff:127.0.0.1",
		"::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::", "fe80::1%eth0", "fe80::1%25eth0",
		"exa mple.com", "a..b", "example.123", "\u212Aa.example", "exa\u202emple.com", "_srv.example",
		"-a.com", "1.2.3.4.5", "[127.0.0.1]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHost(s)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error is %T, want *InputError", err)
			}
			return
		}
		if h.Name == "" || len(h.Name) > maxNameLen {
			t.Fatalf("Name %q has bad length %d", h.Name, len(h.Name))
		}
		for i := 0; i < len(h.Name); i++ {
			if h.Name[i] >= 0x80 {
				t.Fatalf("Name %q is not ASCII", h.Name)
			}
		}
		if h.Name != strings.ToLower(h.Name) {
			t.Fatalf("Name %q is not lowercase", h.Name)
		}
		if h.IP.IsValid() {
			if h.Name != h.IP.String() || h.LocalOnly || h.IP.Zone() != "" {
				t.Fatalf("literal host %+v is not canonical", h)
			}
		}
		again, err := ParseHost(h.Name)
		if err != nil {
			t.Fatalf("ParseHost(%q) round trip failed: %v", h.Name, err)
		}
		if again != h {
			t.Fatalf("round trip of %q: %+v != %+v", s, again, h)
		}
		// Whatever ParseHost accepts must be something Classify can handle and Decide can
		// evaluate without panicking.
		_ = Classify(h.IP)
		_ = Decide(Request{Origin: "https://example.com", Protocol: TCP, Mode: Connect, Host: h, Port: 80,
			Addresses: []netip.Addr{netip.MustParseAddr("203.0.113.7")}}, Config{})
	})
}
