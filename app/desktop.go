package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/adrg/xdg"

	"socketeer/app/debpkg"
)

// A desktop entry makes a profile an app of the desktop for one user: it shows in the menu with the
// site's name and icon and starts `socketeer --profile ID`, and its StartupWMClass matches the
// profile's window class so the dock groups the window under it. (`socketeer package` makes the
// same for every user of a machine, as a Debian package.)

// desktopEntryPath is where the profile's entry lives in the user's XDG applications folder.
func desktopEntryPath(p *Profile) string {
	return filepath.Join(xdg.DataHome, "applications", "socketeer-"+p.ID()+".desktop")
}

// hasDesktopEntry reports whether the profile has a desktop entry.
func hasDesktopEntry(p *Profile) bool {
	_, err := os.Stat(desktopEntryPath(p))
	return err == nil
}

// desktopEntry is the text of the profile's desktop entry. The name came from a site or the user, so
// it is cleaned of control characters, and the entry format escapes every value (threat: a newline
// in a site's name adding an Exec= line of its choosing).
func desktopEntry(p *Profile, exe, icon string) string {
	return debpkg.DesktopEntry{
		Name:           cleanText(p.Name, maxNameRunes),
		Comment:        strings.TrimPrefix(p.Origin, "https://") + " in Socketeer",
		Exec:           []string{exe, "--profile", p.ID()},
		Icon:           icon,
		Categories:     []string{"Network"},
		StartupWMClass: siteWindowClass(p),
	}.String()
}

// writeDesktopEntry creates or refreshes the profile's desktop entry and returns its path.
func writeDesktopEntry(p *Profile) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the socketeer program: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	icon := "socketeer"
	if _, err := os.Stat(p.iconPath()); err == nil {
		icon = p.iconPath()
	}
	path := desktopEntryPath(p)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := writeFileAtomic(path, []byte(desktopEntry(p, exe, icon))); err != nil {
		return "", err
	}
	// Desktops read entries as the user, but some check that entries they list are readable.
	if err := os.Chmod(path, 0o644); err != nil {
		return "", fmt.Errorf("desktop entry: %w", err)
	}
	return path, nil
}

// removeDesktopEntry deletes the profile's desktop entry if it has one.
func removeDesktopEntry(p *Profile) error {
	err := os.Remove(desktopEntryPath(p))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the desktop entry: %w", err)
	}
	return nil
}
