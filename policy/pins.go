package policy

import (
	"errors"
	"fmt"
	"strings"
)

// Certificate pins in the enterprise policy
//
// "certificatePins" lets an organisation trust its devices' own certificates (self-signed or
// expired ones included) the way a user does with `socketeer trust add`: one SHA-256 leaf for one
// host, for the pages of the listed origins.
//
//	"certificatePins": [{"origins": ["https://*.corp.example"], "host": "printer.corp.example",
//	                     "sha256": "3f:a2:…:9c"}]
//
// A pin names exactly one host (a name or an IP address, no wildcard) and exactly one certificate,
// by the SHA-256 of its DER encoding in 64 hexadecimal digits, with or without a colon between
// every pair. It must list origins: a pin is part of a site's profile, like the user's own.

// CertPin is one certificate pin in a policy file.
type CertPin struct {
	Origins []string `json:"origins"`
	Host    string   `json:"host"`
	SHA256  string   `json:"sha256"`
}

// certPin is a compiled CertPin.
type certPin struct {
	origins []originPattern
	host    string // canonical Host.Name
	sha256  string // lowercase hex
}

func compilePins(in []CertPin) ([]certPin, error) {
	var out []certPin
	for i, p := range in {
		c, err := compilePin(p)
		if err != nil {
			return nil, fmt.Errorf("certificatePins[%d]: %w", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func compilePin(p CertPin) (certPin, error) {
	var c certPin
	// Threat: a pin broader than meant — without origins it would serve every site the user opens.
	if len(p.Origins) == 0 {
		return c, errors.New("a certificate pin must list the origins it is for")
	}
	var err error
	if c.origins, err = compileOrigins("origins", p.Origins); err != nil {
		return c, err
	}
	// Threat: a pin broader than meant — a wildcard would let one certificate stand for a whole
	// domain, which is what the pin's one-certificate-one-host rule exists to prevent.
	if strings.Contains(p.Host, "*") {
		return c, fmt.Errorf("host %s: a certificate pin names exactly one host, without wildcards", quote(p.Host))
	}
	h, err := ParseHost(p.Host)
	if err != nil {
		return c, fmt.Errorf("host %s is not a valid host name or IP address", quote(p.Host))
	}
	c.host = h.Name
	if c.sha256, err = ParseFingerprint(p.SHA256); err != nil {
		return c, fmt.Errorf("sha256 %s: %w", quote(p.SHA256), err)
	}
	return c, nil
}

// ParseFingerprint accepts a SHA-256 certificate fingerprint as 64 hexadecimal digits, in either
// case, optionally with a colon between every pair, and returns it as lowercase hex. Anything else
// (spaces, a colon in the wrong place, the wrong length) is refused, so each value means one thing.
func ParseFingerprint(s string) (string, error) {
	plain := s
	if strings.Contains(s, ":") {
		if len(s) != 95 {
			return "", errors.New("a SHA-256 fingerprint is 32 pairs of hexadecimal digits")
		}
		var b strings.Builder
		for i := 0; i < len(s); i += 3 {
			if i+2 < len(s) && s[i+2] != ':' {
				return "", errors.New("colons in a fingerprint go between pairs of digits")
			}
			b.WriteString(s[i : i+2])
		}
		plain = b.String()
	}
	if len(plain) != 64 {
		return "", errors.New("a SHA-256 fingerprint is 64 hexadecimal digits")
	}
	for i := 0; i < len(plain); i++ {
		c := plain[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", errors.New("a SHA-256 fingerprint is 64 hexadecimal digits")
		}
	}
	return strings.ToLower(plain), nil
}

// Pinned reports whether the policy pins the certificate with SHA-256 sha (lowercase hex) for
// host (a canonical Host.Name) in the profile of origin.
func (e Enterprise) Pinned(origin, host, sha string) bool {
	o, err := ParseOrigin(origin)
	if err != nil || e.invalid {
		return false
	}
	for _, p := range e.pins {
		if p.host == host && p.sha256 == sha && p.forOrigin(o) {
			return true
		}
	}
	return false
}

// PinsFor returns the pins that serve the profile of origin, host and lowercase fingerprint, for
// `trust list` to show as managed.
func (e Enterprise) PinsFor(origin string) []CertPin {
	o, err := ParseOrigin(origin)
	if err != nil {
		return nil
	}
	var out []CertPin
	for _, p := range e.pins {
		if p.forOrigin(o) {
			out = append(out, CertPin{Origins: []string{origin}, Host: p.host, SHA256: p.sha256})
		}
	}
	return out
}

func (p certPin) forOrigin(o Origin) bool {
	for _, op := range p.origins {
		if op.match(o) {
			return true
		}
	}
	return false
}
