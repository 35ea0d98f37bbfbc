package app

import (
	"errors"

	"socketeer/policy"
)

// certPins is the one trust decision about certificates in a site's profile: the user's pins in
// profile.json and the organisation's certificatePins. The site window asks it when a page load
// meets a certificate that cannot be verified, and the socket manager when a TLS socket does, so a
// certificate trusted for a host is trusted for the window and the sockets alike.
type certPins struct {
	origin string
	ent    policy.Enterprise
}

// Pinned reports whether the certificate with SHA-256 sha (lowercase hex) is pinned for host. The
// profile is read each time, so a pin added meanwhile (from the window's dialog or with `socketeer
// trust add`) counts at once, and one removed stops counting.
func (c certPins) Pinned(host, sha string) bool {
	if c.ent.Pinned(c.origin, host, sha) {
		return true
	}
	p, err := LoadProfile(c.origin)
	if errors.Is(err, ErrNoProfile) {
		return false
	}
	if err != nil {
		alog.Warn("could not read the profile's certificate pins", "error", err)
		return false
	}
	return p.HasPin(host, sha)
}
