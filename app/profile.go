package app

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/adrg/xdg"
)

// A profile is one site as an app: its origin, its pinned certificates and, in folders of its own,
// its WebKit storage, cookies and cache. This file is the one place that knows where a profile lives
// and what its file looks like.
//
//	$XDG_CONFIG_HOME/socketeer/profiles/<id>/profile.json  origin, name, pins (human-readable)
//	$XDG_DATA_HOME/socketeer/profiles/<id>/                 WebKit data and cookies
//	$XDG_CACHE_HOME/socketeer/profiles/<id>/                WebKit cache

// profileVersion is the version of profile.json this code writes and reads.
const profileVersion = 1

// Profile is one site profile.
type Profile struct {
	Version  int       `json:"version"`
	Origin   string    `json:"origin"`
	Name     string    `json:"name"`
	StartURL string    `json:"startURL"`
	Created  time.Time `json:"created"`
	// Pins trust exactly one certificate (by the SHA-256 of its DER encoding) for exactly one host.
	Pins []Pin `json:"pins,omitempty"`
	// Demo marks the built-in demo's profile: opening it starts the demo's servers too.
	Demo bool `json:"demo,omitempty"`

	id string
}

// Pin is one pinned certificate.
type Pin struct {
	Host   string `json:"host"`
	SHA256 string `json:"sha256"`
}

// ErrNoProfile is returned when a profile was asked for by origin and none exists.
var ErrNoProfile = errors.New("no profile for this site")

// profileID names the profile's folders after its origin: readable, and unique because the
// characters that would collide when replaced are followed by a hash of the origin.
func profileID(origin string) string {
	hostport := strings.TrimPrefix(origin, "https://")
	var b strings.Builder
	clean := true
	for _, r := range hostport {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		case r == ':' && clean && !strings.Contains(hostport, "]"):
			b.WriteRune('_')
		default:
			clean = false
			b.WriteRune('-')
		}
	}
	if !clean {
		sum := sha256.Sum256([]byte(origin))
		b.WriteString("-" + hex.EncodeToString(sum[:4]))
	}
	return b.String()
}

// ID is the profile's folder name, derived from its origin; `socketeer --profile ID` opens it.
func (p *Profile) ID() string { return p.id }

// FindProfile returns the profile whose folder name (ID) or display name is name. Display names
// need not be unique, so a name shared by two profiles is an error that lists their IDs.
func FindProfile(name string) (*Profile, error) {
	all, problems, err := scanProfiles()
	if err != nil {
		return nil, err
	}
	for _, pr := range problems {
		// A folder of that name exists but cannot be read: say what is wrong with it, rather
		// than that there is no such profile.
		var de *damagedProfileError
		if errors.As(pr, &de) && de.id == name {
			return nil, de
		}
	}
	var byName []*Profile
	for _, p := range all {
		if p.id == name {
			return p, nil
		}
		if p.Name == name {
			byName = append(byName, p)
		}
	}
	switch len(byName) {
	case 0:
		return nil, fmt.Errorf("%w named %q: 'socketeer profiles' lists them", ErrNoProfile, name)
	case 1:
		return byName[0], nil
	}
	ids := make([]string, len(byName))
	for i, p := range byName {
		ids[i] = p.id
	}
	return nil, fmt.Errorf("%d profiles are named %q; name one by its ID: %s", len(ids), name, strings.Join(ids, ", "))
}

func profilesRoot(base string) string { return filepath.Join(base, "socketeer", "profiles") }

// ConfigDir holds profile.json.
func (p *Profile) ConfigDir() string { return filepath.Join(profilesRoot(xdg.ConfigHome), p.id) }

// DataDir holds the profile's WebKit storage.
func (p *Profile) DataDir() string { return filepath.Join(profilesRoot(xdg.DataHome), p.id) }

// CacheDir holds the profile's WebKit cache.
func (p *Profile) CacheDir() string { return filepath.Join(profilesRoot(xdg.CacheHome), p.id) }

// CookiePath is the profile's persistent cookie database.
func (p *Profile) CookiePath() string { return filepath.Join(p.DataDir(), "cookies.sqlite") }

func (p *Profile) file() string { return filepath.Join(p.ConfigDir(), "profile.json") }

// LoadProfile reads the profile of origin; ErrNoProfile if there is none.
func LoadProfile(origin string) (*Profile, error) {
	p := &Profile{id: profileID(origin)}
	b, err := os.ReadFile(p.file())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoProfile, origin)
	}
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("profile %s is damaged (%v); move it aside to start afresh", p.file(), err)
	}
	if p.Version != profileVersion {
		return nil, fmt.Errorf("profile %s has version %d, this Socketeer reads version %d", p.file(), p.Version, profileVersion)
	}
	if p.Origin != origin {
		return nil, fmt.Errorf("profile %s belongs to %s, not %s", p.file(), p.Origin, origin)
	}
	return p, nil
}

// OpenProfile returns the profile of origin, creating it on first use.
func OpenProfile(origin, startURL string) (*Profile, error) {
	p, err := LoadProfile(origin)
	if err == nil {
		return p, nil
	}
	if !errors.Is(err, ErrNoProfile) {
		return nil, err
	}
	p = &Profile{
		Version:  profileVersion,
		Origin:   origin,
		Name:     strings.TrimPrefix(origin, "https://"),
		StartURL: startURL,
		Created:  time.Now().UTC().Truncate(time.Second),
		id:       profileID(origin),
	}
	return p, p.Save()
}

// ListProfiles returns every profile, in folder order. Folders that hold no readable profile are
// left out; scanProfiles says why.
func ListProfiles() ([]*Profile, error) {
	out, _, err := scanProfiles()
	return out, err
}

// scanProfiles returns every profile, in folder order, and a problem for each folder whose
// profile.json is missing, unreadable or damaged. Such a folder is reported and left untouched, so
// nothing in it is lost.
func scanProfiles() ([]*Profile, []error, error) {
	root := profilesRoot(xdg.ConfigHome)
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list profiles: %w", err)
	}
	var out []*Profile
	var problems []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		file := filepath.Join(root, e.Name(), "profile.json")
		damaged := func(format string, a ...any) {
			problems = append(problems, &damagedProfileError{id: e.Name(), err: fmt.Errorf(format, a...)})
		}
		b, err := os.ReadFile(file)
		if err != nil {
			damaged("profile folder %s has no readable profile.json: %w", e.Name(), err)
			continue
		}
		p := &Profile{id: e.Name()}
		if err := json.Unmarshal(b, p); err != nil {
			damaged("profile %s is damaged (%v); move it aside to start afresh", file, err)
			continue
		}
		if profileID(p.Origin) != e.Name() {
			damaged("profile %s names the site %q, which does not belong in that folder", file, p.Origin)
			continue
		}
		out = append(out, p)
	}
	return out, problems, nil
}

// damagedProfileError is a profile folder whose profile.json cannot be used.
type damagedProfileError struct {
	id  string
	err error
}

func (e *damagedProfileError) Error() string { return e.err.Error() }
func (e *damagedProfileError) Unwrap() error { return e.err }

// Save writes the profile atomically: a reader sees the old file or the new one, never half of one.
func (p *Profile) Save() error {
	for _, d := range []string{p.ConfigDir(), p.DataDir(), p.CacheDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create profile folder: %w", err)
		}
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode profile: %w", err)
	}
	return writeFileAtomic(p.file(), append(b, '\n'))
}

// HasPin reports whether the certificate with this fingerprint is pinned for host.
func (p *Profile) HasPin(host, sha string) bool {
	for _, pin := range p.Pins {
		if pin.Host == host && pin.SHA256 == sha {
			return true
		}
	}
	return false
}

// AddPin pins a certificate for a host; it reports whether the pin is new.
func (p *Profile) AddPin(host, sha string) bool {
	if p.HasPin(host, sha) {
		return false
	}
	p.Pins = append(p.Pins, Pin{Host: host, SHA256: sha})
	return true
}

// RemovePin removes a pin; it reports whether one was there.
func (p *Profile) RemovePin(host, sha string) bool {
	for i, pin := range p.Pins {
		if pin.Host == host && pin.SHA256 == sha {
			p.Pins = append(p.Pins[:i], p.Pins[i+1:]...)
			return true
		}
	}
	return false
}

// writeFileAtomic writes through a temporary file in the same folder, synced before the rename. The
// file is readable by its owner only (os.CreateTemp makes it 0600), which also protects keys.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// normalizeFingerprint accepts a SHA-256 fingerprint as users copy it (upper or lower case, with or
// without colons or spaces) and returns lowercase hex.
func normalizeFingerprint(s string) (string, error) {
	s = strings.ToLower(strings.NewReplacer(":", "", " ", "", "sha256/", "").Replace(strings.TrimSpace(s)))
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return "", errors.New("a certificate fingerprint is 64 hexadecimal digits (SHA-256), colons allowed")
	}
	return s, nil
}

// fingerprint is the SHA-256 of a certificate's DER encoding, in lowercase hex.
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// displayFingerprint groups a fingerprint in colon-separated pairs, as browsers show it.
func displayFingerprint(sha string) string {
	var b strings.Builder
	for i := 0; i+1 < len(sha); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strings.ToUpper(sha[i : i+2]))
	}
	return b.String()
}
