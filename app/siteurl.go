package app

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"socketeer/policy"
)

// siteURL is a URL the user asked to open, with the origin the shell derives from it. That origin,
// not anything a page says later, is what the profile, the bridge and the policy know the site by.
type siteURL struct {
	URL    string
	Origin string
	Host   string // canonical host name or IP, without brackets
}

// parseSiteURL accepts only https URLs with a host, and normalises the origin (lowercase host,
// punycode, default port dropped) so that one site always maps to one profile.
func parseSiteURL(raw string) (siteURL, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return siteURL{}, fmt.Errorf("%q is not a web address; give a full address such as https://example.com/", raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		// Threat: MITM. A page served over plain HTTP can be rewritten by anyone on the network
		// path, so it must never be handed raw sockets.
		return siteURL{}, errors.New("Socketeer opens only https:// sites: a page loaded over plain http:// could be altered by anyone on the network")
	default:
		return siteURL{}, fmt.Errorf("Socketeer opens only https:// sites, not %s: addresses", u.Scheme)
	}
	if u.User != nil {
		return siteURL{}, errors.New("addresses with a user name or password are not supported")
	}
	o, err := policy.ParseOrigin("https://" + u.Host)
	if err != nil {
		return siteURL{}, fmt.Errorf("%q does not name a valid host", u.Host)
	}
	u.Scheme = "https"
	u.Host = strings.TrimPrefix(o.String(), "https://")
	if u.Path == "" {
		u.Path = "/"
	}
	return siteURL{URL: u.String(), Origin: o.String(), Host: o.Host.Name}, nil
}

// sameOrigin reports whether uri belongs to origin.
func sameOrigin(uri, origin string) bool {
	u, err := url.Parse(uri)
	if err != nil || !strings.EqualFold(u.Scheme, "https") || u.Host == "" || u.User != nil {
		return false
	}
	o, err := policy.ParseOrigin("https://" + u.Host)
	return err == nil && o.String() == origin
}
