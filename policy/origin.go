package policy

import (
	"strconv"
	"strings"
)

// Origin is a parsed HTTPS origin.
type Origin struct {
	Host Host
	Port int // 443 when the origin text omits the port
}

// String returns the canonical serialisation ("https://host" or "https://host:port", IPv6 in
// brackets). Grant stores should key on this rather than on the shell's raw text, so that
// "https://EXAMPLE.com:443" and "https://example.com" share their grants.
func (o Origin) String() string {
	host := o.Host.Name
	if o.Host.IP.Is6() {
		host = "[" + host + "]"
	}
	if o.Port == 443 {
		return "https://" + host
	}
	return "https://" + host + ":" + strconv.Itoa(o.Port)
}

// ParseOrigin parses an origin as the shell established it: the scheme "https", a host, an optional
// port, and nothing else. Errors are *InputError.
//
// Threat: man-in-the-middle — a plain-HTTP page, or an opaque ("null") origin such as a sandboxed
// frame or data: URL, can be controlled by whoever sits on the network path or created the content,
// and must not inherit the user's socket grants or be able to ask for new ones.
func ParseOrigin(s string) (Origin, error) {
	const scheme = "https://"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return Origin{}, inputErr("origin is not https")
	}
	rest := s[len(scheme):]
	var hostText, portText string
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return Origin{}, inputErr("origin has unbalanced brackets")
		}
		hostText, portText = rest[:end+1], rest[end+1:]
	} else if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		hostText, portText = rest[:i], rest[i:]
	} else {
		hostText = rest
	}
	host, err := ParseHost(hostText)
	if err != nil {
		return Origin{}, inputErr("origin has an invalid host")
	}
	// Inside an origin an IPv6 address must be bracketed, otherwise its colons and the port's
	// colon are ambiguous.
	if host.IP.Is6() && !strings.HasPrefix(hostText, "[") {
		return Origin{}, inputErr("origin has an unbracketed ipv6 address")
	}
	port := 443
	if portText != "" {
		if portText[0] != ':' {
			return Origin{}, inputErr("origin has text after the host")
		}
		digits := portText[1:]
		if len(digits) == 0 || len(digits) > 5 {
			return Origin{}, inputErr("origin has an invalid port")
		}
		for i := 0; i < len(digits); i++ {
			if digits[i] < '0' || digits[i] > '9' {
				return Origin{}, inputErr("origin has an invalid port")
			}
		}
		port, _ = strconv.Atoi(digits)
		if port < 1 || port > 65535 {
			return Origin{}, inputErr("origin has an invalid port")
		}
	}
	return Origin{Host: host, Port: port}, nil
}
