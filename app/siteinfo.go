package app

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// Adding a site in the launcher reads its name and icon the way an installed web app gets them: from
// the web app manifest, else the page's own icon links and title, else /favicon.ico. Every byte of it
// is hostile data: names are cleaned and shown as text, icons are re-encoded (icon.go), and the
// launcher fetches nothing outside the site's origin (threat: a page steering the launcher, which
// runs with the user's network position, to other hosts such as devices on the user's network).

// Limits on what the launcher reads from a site.
const (
	maxPageBytes     = 2 << 20
	maxManifestBytes = 256 << 10
	siteInfoTimeout  = 15 * time.Second
	maxNameRunes     = 80
)

// siteInfo is what the launcher learned about a site.
type siteInfo struct {
	Name string
	Icon []byte // re-encoded PNG, or nil
}

// untrustedCertError says the site's certificate could not be verified; SHA256 names it so that the
// user can compare it and pin exactly that certificate.
type untrustedCertError struct{ SHA256 string }

func (e *untrustedCertError) Error() string {
	return "the site's certificate is not trusted (SHA-256 " + displayFingerprint(e.SHA256) + ")"
}

// siteClient fetches from one origin only. Certificates are verified as usual, or match a pin the
// user gave for the host.
func siteClient(target siteURL, pins []Pin) *http.Client {
	verify := func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("no certificate")
		}
		leaf := cs.PeerCertificates[0]
		sha := fingerprint(leaf.Raw)
		for _, p := range pins {
			if p.Host == target.Host && p.SHA256 == sha {
				return nil
			}
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: target.Host, Intermediates: inter}); err != nil {
			return &untrustedCertError{SHA256: sha}
		}
		return nil
	}
	return &http.Client{
		Timeout: siteInfoTimeout,
		Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment,
			// Verification is VerifyConnection's: system roots or the user's pin, nothing else.
			TLSClientConfig:     &tls.Config{InsecureSkipVerify: true, VerifyConnection: verify, MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: siteInfoTimeout,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 || !sameOrigin(req.URL.String(), target.Origin) {
				return errors.New("the site redirected outside its origin")
			}
			return nil
		},
	}
}

// fetchSiteInfo reads the site's name and icon. Only a failure to reach the page at all is an
// error; a missing or broken manifest or icon just means fewer details.
func fetchSiteInfo(ctx context.Context, target siteURL, pins []Pin) (siteInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, siteInfoTimeout)
	defer cancel()
	c := siteClient(target, pins)
	page, base, err := fetchLimited(ctx, c, target.URL, maxPageBytes)
	if err != nil {
		return siteInfo{}, err
	}
	head := parseHead(page)
	info := siteInfo{}
	var icons []iconRef
	if head.manifest != "" {
		if u, ok := resolveSameOrigin(base, head.manifest, target.Origin); ok {
			if b, mbase, err := fetchLimited(ctx, c, u, maxManifestBytes); err == nil {
				m := parseManifest(b)
				info.Name = cmp.Or(m.Name, m.ShortName)
				for _, ic := range m.Icons {
					icons = append(icons, iconRef{href: ic.Src, sizes: ic.Sizes, typ: ic.Type, base: mbase})
				}
			}
		}
	}
	info.Name = cleanText(cmp.Or(info.Name, head.appName, head.title), maxNameRunes)
	for _, l := range head.icons {
		icons = append(icons, iconRef{href: l.href, sizes: l.sizes, typ: l.typ, base: base})
	}
	icons = append(icons, iconRef{href: "/favicon.ico", base: base})
	for _, ic := range rankIcons(icons) {
		u, ok := resolveSameOrigin(ic.base, ic.href, target.Origin)
		if !ok {
			continue
		}
		b, _, err := fetchLimited(ctx, c, u, maxIconBytes)
		if err != nil {
			continue
		}
		if png, err := reencodeIcon(icoPNG(b)); err == nil {
			info.Icon = png
			break
		}
	}
	return info, nil
}

// fetchLimited GETs u and returns at most limit bytes of a 200 response and the final URL.
func fetchLimited(ctx context.Context, c *http.Client, u string, limit int64) ([]byte, *url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *untrustedCertError
		if errors.As(err, &ue) {
			return nil, nil, ue
		}
		return nil, nil, fmt.Errorf("could not reach %s", u)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s answered %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", u, err)
	}
	if int64(len(b)) > limit {
		return nil, nil, fmt.Errorf("%s is larger than %d KiB", u, limit>>10)
	}
	return b, resp.Request.URL, nil
}

// resolveSameOrigin resolves href against base and keeps it only if it stays on origin.
func resolveSameOrigin(base *url.URL, href, origin string) (string, bool) {
	ref, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return "", false
	}
	u := base.ResolveReference(ref).String()
	return u, sameOrigin(u, origin)
}

// pageHead is what the launcher reads from a page's <head>.
type pageHead struct {
	title, appName, manifest string
	icons                    []iconRef
}

type iconRef struct {
	href, sizes, typ string
	base             *url.URL
}

// parseHead tokenizes the page up to its body (the tokenizer never runs scripts or fetches).
func parseHead(page []byte) pageHead {
	var h pageHead
	z := html.NewTokenizer(bytes.NewReader(page))
	inTitle := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			return h
		case html.TextToken:
			if inTitle && h.title == "" {
				h.title = string(z.Text())
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if string(name) == "head" {
				return h
			}
			inTitle = false
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				attrs[string(k)] = string(v)
			}
			switch string(name) {
			case "body":
				return h
			case "title":
				inTitle = true
			case "meta":
				if strings.EqualFold(attrs["name"], "application-name") && h.appName == "" {
					h.appName = attrs["content"]
				}
			case "link":
				rels := strings.Fields(strings.ToLower(attrs["rel"]))
				switch {
				case slices.Contains(rels, "manifest") && h.manifest == "":
					h.manifest = attrs["href"]
				case slices.Contains(rels, "icon") || slices.Contains(rels, "apple-touch-icon"):
					h.icons = append(h.icons, iconRef{href: attrs["href"], sizes: attrs["sizes"], typ: attrs["type"]})
				}
			}
		}
	}
}

// webManifest is the part of a web app manifest Socketeer uses.
type webManifest struct {
	Name      string `json:"name"`
	ShortName string `json:"short_name"`
	Icons     []struct {
		Src   string `json:"src"`
		Sizes string `json:"sizes"`
		Type  string `json:"type"`
	} `json:"icons"`
}

func parseManifest(b []byte) webManifest {
	var m webManifest
	if json.Unmarshal(b, &m) != nil {
		return webManifest{}
	}
	return m
}

// rankIcons orders icons best first: decodable types, then the declared size closest to 256 pixels
// (big enough for a dock, small enough to fetch), keeping the page's order otherwise.
func rankIcons(icons []iconRef) []iconRef {
	score := func(ic iconRef) int {
		t := strings.ToLower(ic.typ)
		if strings.Contains(t, "svg") || strings.HasSuffix(strings.ToLower(ic.href), ".svg") {
			return 1 << 30 // cannot be decoded without a vector renderer
		}
		best := 1 << 20
		for _, s := range strings.Fields(strings.ToLower(ic.sizes)) {
			w, _, ok := strings.Cut(s, "x")
			if n, err := strconv.Atoi(w); ok && err == nil {
				best = min(best, abs(n-256))
			}
		}
		return best
	}
	out := slices.Clone(icons)
	slices.SortStableFunc(out, func(a, b iconRef) int { return cmp.Compare(score(a), score(b)) })
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// icoPNG returns the largest PNG image inside a Windows icon file (as most favicons of today hold),
// or b unchanged when b is not an icon file.
func icoPNG(b []byte) []byte {
	if len(b) < 6 || binary.LittleEndian.Uint16(b[0:]) != 0 || binary.LittleEndian.Uint16(b[2:]) != 1 {
		return b
	}
	n := int(binary.LittleEndian.Uint16(b[4:]))
	var best []byte
	bestSide := -1
	for i := 0; i < n && 6+16*(i+1) <= len(b); i++ {
		e := b[6+16*i:]
		side := int(e[0])
		if side == 0 {
			side = 256
		}
		size := binary.LittleEndian.Uint32(e[8:])
		off := binary.LittleEndian.Uint32(e[12:])
		if uint64(off)+uint64(size) > uint64(len(b)) {
			continue
		}
		data := b[off : off+size]
		if bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) && side > bestSide {
			best, bestSide = data, side
		}
	}
	if best == nil {
		return b
	}
	return best
}
