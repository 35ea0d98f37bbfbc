package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"socketeer/policy"
)

// grantStore keeps a profile's remembered grants in grants.json beside profile.json. policy owns the
// format; this is the file I/O: reads see a whole file, writes are atomic and serialised across
// processes by a lock file, and a damaged file is reported and moved aside, never silently dropped.
type grantStore struct {
	dir    string
	origin string
}

func newGrantStore(p *Profile) *grantStore {
	return &grantStore{dir: p.ConfigDir(), origin: p.Origin}
}

func (s *grantStore) path() string { return filepath.Join(s.dir, "grants.json") }

// load reads the grants. A damaged file is moved aside (so the user can inspect or restore it) and
// reported through the returned error, together with an empty set, so the caller fails safe: it asks.
func (s *grantStore) load() (policy.Grants, error) {
	empty := policy.Grants{Version: policy.GrantsVersion}
	b, err := os.ReadFile(s.path())
	if errors.Is(err, fs.ErrNotExist) {
		return empty, nil
	}
	if err != nil {
		return empty, fmt.Errorf("read grants: %w", err)
	}
	g, err := policy.ParseGrants(b)
	if err != nil {
		aside := s.path() + ".damaged-" + time.Now().UTC().Format("20060102T150405Z")
		if rerr := os.Rename(s.path(), aside); rerr != nil {
			return empty, fmt.Errorf("grants file %s is damaged (%v) and could not be moved aside: %w", s.path(), err, rerr)
		}
		return empty, fmt.Errorf("grants file was damaged (%v); it was moved to %s and no grant applies", err, aside)
	}
	return g, nil
}

// update applies fn to the grants under the profile's lock and writes the result atomically.
func (s *grantStore) update(fn func(*policy.Grants) bool) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("create profile folder: %w", err)
	}
	unlock, err := lockFile(s.path() + ".lock")
	if err != nil {
		return fmt.Errorf("lock grants: %w", err)
	}
	defer unlock()
	g, err := s.load()
	if err != nil {
		alog.Error("grants", "error", err)
	}
	if !fn(&g) {
		return nil
	}
	return writeFileAtomic(s.path(), g.Encode())
}

func (s *grantStore) Granted(req policy.Request) bool {
	g, err := s.load()
	if err != nil {
		alog.Error("grants", "error", err)
	}
	return g.Covers(req)
}

func (s *grantStore) Remember(req policy.Request) error {
	gr, err := policy.NewGrant(req, time.Now().UTC().Format(time.RFC3339))
	if err != nil {
		return fmt.Errorf("remember grant: %w", err)
	}
	return s.update(func(g *policy.Grants) bool { return g.Add(gr) })
}

// revoke removes a grant; it reports whether there was one.
func (s *grantStore) revoke(origin string, p policy.Protocol, m policy.Mode, host string, port int, tls bool) (bool, error) {
	removed := false
	err := s.update(func(g *policy.Grants) bool {
		removed = g.Remove(origin, p, m, host, port, tls)
		return removed
	})
	return removed, err
}
