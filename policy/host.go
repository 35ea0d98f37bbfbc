package policy

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// InputError reports a page-supplied value that is malformed. The shell surfaces it to the page as a
// TypeError, so Msg is lowercase, short, and never echoes the input back: the page already knows what
// it sent, and echoing it would only give log-injection and spoofing tricks a place to land.
type InputError struct {
	Msg string
}

// Error returns the user-safe message.
func (e *InputError) Error() string { return e.Msg }

func inputErr(msg string) error { return &InputError{Msg: msg} }

// maxNameLen is the longest DNS name in text form, without the trailing dot (RFC 1035 limits the
// wire form to 255 octets, which leaves 253 characters of text).
const maxNameLen = 253

// maxLabelLen is the longest DNS label (RFC 1035).
const maxLabelLen = 63

// maxInputLen bounds the work done on hostile input before any real parsing starts. It is generous
// enough for a maximal name written in Unicode, whose UTF-8 form is longer than its punycode form.
const maxInputLen = 1024

// Host is a parsed, canonical destination host. Two Hosts that denote the same destination compare
// equal with ==, which is what lets grants be keyed on Name.
type Host struct {
	// Name is the canonical text: lowercase, trailing dot removed, non-ASCII labels converted to
	// punycode, or the canonical IP text for literals (IPv6 without brackets). It is always ASCII,
	// which also defeats homograph spoofing when the consent dialog displays it.
	Name string
	// IP is valid when the host is an IP literal, including legacy IPv4 spellings such as
	// "2130706433", which are normalised to the address they really denote.
	IP netip.Addr
	// LocalOnly reports a name that can only be meaningful on the user's own network:
	// "localhost", "*.localhost", "*.local", "home.arpa" and "*.home.arpa", "*.internal", "*.lan",
	// and any single-label name (which resolvers complete with the local search domain).
	LocalOnly bool
}

// IsLiteral reports whether the host is an IP address rather than a name.
func (h Host) IsLiteral() bool { return h.IP.IsValid() }

// ParseHost validates a page-supplied host string and returns its canonical form. Errors are
// *InputError.
//
// The same string must mean the same thing to this parser and to the operating system's resolver;
// every rule below exists to close a gap between the two.
func ParseHost(s string) (Host, error) {
	if s == "" {
		return Host{}, inputErr("host is empty")
	}
	if len(s) > maxInputLen {
		return Host{}, inputErr("host is too long")
	}
	// Threat: parser differentials — invalid UTF-8 is decoded differently by different layers, so a
	// byte sequence could be one name here and another name in the resolver.
	if !utf8.ValidString(s) {
		return Host{}, inputErr("host is not valid utf-8")
	}
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			// Threat: control characters (NUL, CR, LF) truncate names in C resolvers and forge
			// lines in logs and dialogs.
			return Host{}, inputErr("host contains a control character")
		case unicode.Is(unicode.Cf, r):
			// Threat: bidi overrides and zero-width characters make the consent dialog display a
			// different name from the one that is actually resolved.
			return Host{}, inputErr("host contains an invisible formatting character")
		case unicode.IsSpace(r):
			// Threat: inet_aton accepts "127.0.0.1 anything" by stopping at the first space, so a
			// space could smuggle a loopback address past a name check.
			return Host{}, inputErr("host contains a space")
		case r == '/' || r == '\\' || r == '?' || r == '#':
			// Threat: URL confusion — these would start a path, query or fragment if the host were
			// ever pasted into a URL, changing which host the URL names.
			return Host{}, inputErr("host contains a url delimiter")
		case r == '@':
			// Threat: URL confusion — "trusted.example@evil.example" names evil.example in a URL.
			return Host{}, inputErr("host contains '@'")
		case r == '%':
			// Threat: zone identifiers ("fe80::1%eth0", or "%25eth0" URL-encoded) let a page pick
			// the interface and reach link-local neighbours; they are never needed by a web page.
			return Host{}, inputErr("host contains '%'; zone identifiers are not supported")
		}
	}

	// Brackets are the URL syntax for IPv6 and are accepted only around an IPv6 literal.
	if strings.HasPrefix(s, "[") {
		if !strings.HasSuffix(s, "]") || len(s) < 3 {
			return Host{}, inputErr("host has unbalanced brackets")
		}
		inner := s[1 : len(s)-1]
		if !strings.Contains(inner, ":") {
			return Host{}, inputErr("brackets are only allowed around an ipv6 address")
		}
		return parseIPv6(inner)
	}
	if strings.ContainsAny(s, "[]") {
		return Host{}, inputErr("host has misplaced brackets")
	}
	if strings.Contains(s, ":") {
		return parseIPv6(s)
	}

	lower := strings.ToLower(s)
	// A single trailing dot marks a fully qualified name; it does not change the destination, so it
	// is dropped to keep "localhost." and "localhost" the same Host.
	lower = strings.TrimSuffix(lower, ".")
	if lower == "" {
		return Host{}, inputErr("host is empty")
	}

	// Threat: legacy IPv4 spellings — getaddrinfo and inet_aton read "2130706433", "0177.0.0.1",
	// "0x7f.1" and friends as 127.0.0.1. Treating them as names would let a page reach loopback
	// while this package believed it was resolving a public name.
	if ip, ok := parseLegacyIPv4(lower); ok {
		return Host{Name: ip.String(), IP: ip}, nil
	}

	labels := strings.Split(lower, ".")
	for i, label := range labels {
		ascii, err := canonicalLabel(label)
		if err != nil {
			return Host{}, err
		}
		labels[i] = ascii
	}
	// Threat: ambiguous numeric names — a name ending in a number ("1.2.3.256", "foo.0x10") is an
	// IPv4 address to some parsers and a name to others. The WHATWG URL standard refuses them, and
	// so do we, since any spelling that really is an address was already accepted above.
	if isNumericLabel(labels[len(labels)-1]) {
		return Host{}, inputErr("host ends in a number but is not a valid ipv4 address")
	}
	name := strings.Join(labels, ".")
	if len(name) > maxNameLen {
		return Host{}, inputErr("host is too long")
	}
	return Host{Name: name, LocalOnly: isLocalOnlyName(name, len(labels))}, nil
}

// parseIPv6 parses an IPv6 literal without zone. Embedded IPv4 forms such as "::ffff:127.0.0.1" are
// kept as they are: Classify unwraps them, and keeping them here means Name shows what was asked for.
func parseIPv6(s string) (Host, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return Host{}, inputErr("host is not a valid ipv6 address")
	}
	return Host{Name: a.String(), IP: a}, nil
}

// parseLegacyIPv4 accepts every IPv4 spelling that inet_aton and the WHATWG URL host parser accept:
// one to four dot-separated parts, each decimal, octal (leading 0) or hexadecimal (leading 0x), with
// the last part filling all remaining bytes. s must already be lowercase without a trailing dot.
func parseLegacyIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var vals [4]uint64
	for i, p := range parts {
		v, ok := parseIPv4Part(p)
		if !ok {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	last := len(parts) - 1
	for i := 0; i < last; i++ {
		if vals[i] > 0xff {
			return netip.Addr{}, false
		}
	}
	// The last part covers the 4-last bytes that the earlier parts did not.
	if vals[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, false
	}
	var n uint64
	for i := 0; i < last; i++ {
		n |= vals[i] << (8 * (3 - i))
	}
	n |= vals[last]
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// parseIPv4Part parses one component of a legacy IPv4 spelling. "0x" alone is zero, as in the
// WHATWG URL standard; reading more spellings as addresses is the safe direction, because an address
// is then classified instead of being trusted as a name.
func parseIPv4Part(p string) (uint64, bool) {
	if p == "" {
		return 0, false
	}
	base, digits := 10, p
	switch {
	case strings.HasPrefix(p, "0x"):
		base, digits = 16, p[2:]
		if digits == "" {
			return 0, true
		}
	case len(p) > 1 && p[0] == '0':
		base, digits = 8, p[1:]
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		ok := false
		switch base {
		case 8:
			ok = c >= '0' && c <= '7'
		case 10:
			ok = c >= '0' && c <= '9'
		case 16:
			ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
		}
		if !ok {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		// Only overflow reaches here; such a value is not an address.
		return 0, false
	}
	return v, true
}

// isNumericLabel reports whether a label would read as a number to an IPv4 parser: all decimal
// digits, or "0x" followed by hexadecimal digits.
func isNumericLabel(l string) bool {
	if l == "" {
		return false
	}
	if strings.HasPrefix(l, "0x") {
		for i := 2; i < len(l); i++ {
			c := l[i]
			if !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f') {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(l); i++ {
		if l[i] < '0' || l[i] > '9' {
			return false
		}
	}
	return true
}

// canonicalLabel validates one lowercase label and returns its ASCII form.
func canonicalLabel(label string) (string, error) {
	if label == "" {
		// Threat: parser differentials — "a..b" is rejected by DNS but silently collapsed by some
		// libraries, so it could name different hosts in different layers.
		return "", inputErr("host has an empty label")
	}
	ascii := true
	for i := 0; i < len(label); i++ {
		if label[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return label, checkASCIILabel(label)
	}

	// A Unicode label. This package does not carry the UTS 46 mapping tables, so instead of
	// guessing how a browser would map an unusual character it accepts only letters and combining
	// marks outside the compatibility blocks, and refuses the rest.
	if utf8.RuneCountInString(label) > maxLabelLen {
		return "", inputErr("host has a label longer than 63 characters")
	}
	if label[0] == '-' || label[len(label)-1] == '-' {
		return "", inputErr("host has a label that starts or ends with '-'")
	}
	for i, r := range label {
		switch {
		case r < 0x80:
			if !isLDHByte(byte(r)) {
				return "", inputErr("host contains a character that is not allowed in a name")
			}
		case r >= 0xff00 && r <= 0xffef:
			// Threat: confusable spellings — full-width and half-width forms (including the
			// full-width dot and digits) are mapped to ASCII by browsers; encoding them as
			// punycode instead would make the dialog and the page disagree about the name.
			return "", inputErr("host contains full-width or half-width characters")
		case unicode.IsMark(r):
			if i == 0 {
				return "", inputErr("host has a label that starts with a combining mark")
			}
		case unicode.IsLetter(r):
		default:
			// Non-ASCII digits, symbols, punctuation (including the ideographic full stop) and
			// everything else: refused rather than mapped, for the same reason as above.
			return "", inputErr("host contains a character that is not allowed in a name")
		}
	}
	enc, err := punycodeEncode(label)
	if err != nil {
		return "", inputErr("host has a label longer than 63 characters")
	}
	out := "xn--" + enc
	if len(out) > maxLabelLen {
		return "", inputErr("host has a label longer than 63 characters")
	}
	return out, nil
}

// checkASCIILabel enforces the hostname rules: 1 to 63 characters from [a-z0-9-_], not starting or
// ending with a hyphen. Underscore is allowed because real intranet names use it and resolvers
// accept it; it carries no special meaning that could be abused.
func checkASCIILabel(l string) error {
	if len(l) > maxLabelLen {
		return inputErr("host has a label longer than 63 characters")
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		return inputErr("host has a label that starts or ends with '-'")
	}
	for i := 0; i < len(l); i++ {
		if !isLDHByte(l[i]) {
			return inputErr("host contains a character that is not allowed in a name")
		}
	}
	return nil
}

func isLDHByte(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
}

// localOnlySuffixes are special-use domains that never resolve on the public internet, so a name
// under them always means a machine on the user's own network (RFC 6761, RFC 6762, RFC 8375, and the
// ".internal" TLD ICANN reserved for private use), plus ".lan", which home routers hand out.
var localOnlySuffixes = []string{".localhost", ".local", ".home.arpa", ".internal", ".lan"}

// isLocalOnlyName decides LocalOnly for a canonical name. Single-label names count because resolvers
// complete them with the local search domain, so they reach intranet machines.
func isLocalOnlyName(name string, labels int) bool {
	if labels == 1 || name == "home.arpa" {
		return true
	}
	for _, suf := range localOnlySuffixes {
		if strings.HasSuffix(name, suf) {
			return true
		}
	}
	return false
}
