package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"socketeer/policy"
)

// enterpriseDir is where administrators put the organisation's policy: policy.json and drop-ins in
// policy.d/*.json. It is fixed on purpose: an environment variable or flag that moved it would be a
// way for the user to override a policy they must not override.
const enterpriseDir = "/etc/socketeer"

// loadEnterprise reads and merges the organisation's policy files (a deny anywhere wins). No files
// means no policy. A file that cannot be read or understood fails closed: the socket API is disabled
// and the error says which file is wrong and why.
func loadEnterprise(dir string) (policy.Enterprise, error) {
	var paths []string
	main := filepath.Join(dir, "policy.json")
	if _, err := os.Stat(main); err == nil {
		paths = append(paths, main)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return disabledEnterprise(), fmt.Errorf("read %s: %w", main, err)
	}
	// os.ReadDir, not filepath.Glob: Glob hides a folder it cannot read, which would drop the
	// drop-ins' rules silently (fail open).
	dropinDir := filepath.Join(dir, "policy.d")
	entries, err := os.ReadDir(dropinDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return disabledEnterprise(), fmt.Errorf("read %s: %w", dropinDir, err)
	}
	var dropins []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") && !e.IsDir() {
			dropins = append(dropins, filepath.Join(dropinDir, e.Name()))
		}
	}
	sort.Strings(dropins)
	paths = append(paths, dropins...)

	var files []policy.EnterpriseFile
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return disabledEnterprise(), fmt.Errorf("read %s: %w", p, err)
		}
		f, err := policy.ParseEnterpriseFile(p, b)
		if err != nil {
			return disabledEnterprise(), err
		}
		files = append(files, f)
	}
	return policy.MergeEnterprise(files), nil
}

func disabledEnterprise() policy.Enterprise {
	off := true
	return policy.MergeEnterprise([]policy.EnterpriseFile{{Disabled: &off}})
}
