package app

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"socketeer/app/debpkg"
	"socketeer/policy"
)

// AppIcon is Socketeer's icon as a PNG, set by the main package from build/appicon.png. A per-site
// package uses it when no icon of the site's own is given.
var AppIcon []byte

// stringList is a flag that may be given more than once.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// packageCommand builds a Debian package for one site profile, the way one installs a site as an
// app: a menu entry with its own name and icon that opens the site in its own window and profile,
// and optionally the organisation's pre-grants for that site as a managed policy drop-in.
func packageCommand(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("package", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	profileName := fs.String("profile", "", "the site profile to package, by ID or name")
	iconPath := fs.String("icon", "", "a square PNG icon for the site")
	outDir := fs.String("output", ".", "the folder the package is written to")
	var grants stringList
	fs.Var(&grants, "grant", "a destination the site may reach without asking: HOST[@CIDR,...]:PORTS")
	if err := fs.Parse(args); err != nil {
		return usageErr("package: %v", err)
	}
	if fs.NArg() > 0 || *profileName == "" {
		return usageErr("package takes --profile NAME and optionally --grant, --icon and --output")
	}
	p, err := FindProfile(*profileName)
	if err != nil {
		return err
	}
	// The demo's page needs the loopback servers that only `socketeer demo` starts; a package
	// would install a menu entry that opens a page with nothing behind it.
	if p.Demo {
		return fmt.Errorf("the built-in demo cannot be packaged: it needs the servers that `socketeer demo` starts")
	}
	// The menu entry shows the site as its window does: with the profile's icon, else Socketeer's.
	icon := windowIcon(p)
	if *iconPath != "" {
		if icon, err = os.ReadFile(*iconPath); err != nil {
			return fmt.Errorf("read the icon: %w", err)
		}
	}
	pkg, err := sitePackage(p, grants, icon, time.Now())
	if err != nil {
		return err
	}
	path, err := pkg.WriteFile(*outDir)
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(path)
	fmt.Fprintf(stdout, "wrote %s\ninstall it with: sudo apt install %s\n", path, abs)
	return nil
}

// sitePackageName is the Debian package name of a profile's package. Profile IDs are already
// lowercase letters, digits, dots and hyphens, except '_' before a port, which Debian names do not
// allow; '+' takes its place, a character host names never contain, so no two sites share a name.
func sitePackageName(p *Profile) string {
	return "socketeer-site-" + strings.ReplaceAll(p.ID(), "_", "+")
}

// siteWindowClass is the X window class (GTK's program name) of a profile's windows. The site's
// package names it in its menu entry (StartupWMClass), so that a desktop groups the site's windows
// under the site's own entry and icon rather than Socketeer's.
func siteWindowClass(p *Profile) string {
	return "socketeer-site-" + p.ID()
}

// siteDropin is where a site package's pre-grants are installed.
func siteDropin(p *Profile) string {
	return enterpriseDir + "/policy.d/site-" + p.ID() + ".json"
}

// sitePackage describes the Debian package of one site profile.
func sitePackage(p *Profile, grants []string, icon []byte, now time.Time) (*debpkg.Package, error) {
	target, err := parseSiteURL(p.StartURL)
	if err != nil || target.Origin != p.Origin {
		return nil, fmt.Errorf("profile %s has a damaged start address %q", p.ID(), p.StartURL)
	}
	iconName := siteWindowClass(p)
	icons, err := debpkg.HicolorIcons(iconName, icon)
	if err != nil {
		return nil, err
	}
	name := p.Name
	if name == "" {
		name = target.Host
	}
	// The entry opens the site with `socketeer open`, not `--profile`: the package is installed for
	// every user of the machine, and `open` creates the site's profile on a user's first start and
	// reuses it afterwards, so each user gets the same profile ID (it is derived from the origin)
	// with storage of their own.
	entry := debpkg.DesktopEntry{
		Name:           name,
		Comment:        "Open " + p.Origin + " in its own Socketeer window",
		Exec:           []string{"socketeer", "open", target.URL},
		Icon:           iconName,
		Categories:     []string{"Network"},
		StartupWMClass: siteWindowClass(p),
	}
	desktopFile := "/usr/share/applications/socketeer-site-" + p.ID() + ".desktop"
	pkg := &debpkg.Package{
		Name: sitePackageName(p),
		// A time stamp, so that a package built later always upgrades one built before.
		Version:    now.UTC().Format("20060102.150405"),
		Maintainer: "Socketeer site packager <maintainers@socketeer.invalid>",
		Section:    "net",
		Summary:    "Socketeer app for " + p.Origin,
		Description: " Opens " + target.URL + " in its own Socketeer window and profile,\n" +
			" from the desktop's app menu.",
		Depends: []string{"socketeer"},
		// Only data and a menu entry: one package serves every architecture.
		Arch: "all",
		Copyright: fmt.Sprintf("Copyright %d the user who ran `socketeer package` for %s.\n\n"+
			"This package holds a menu entry, an icon and, optionally, an organisation policy\n"+
			"drop-in for that site; the site itself and its content belong to their owners.\n",
			now.Year(), p.Origin),
		Change: "Package for " + p.Origin + ", made by socketeer package.",
		Date:   now,
		Files: append(icons,
			debpkg.File{Dest: desktopFile, Data: []byte(entry.String())}),
	}
	if len(grants) > 0 {
		dropin, err := siteDropinJSON(p.Origin, grants)
		if err != nil {
			return nil, err
		}
		// The drop-in lives in /usr/share, where the package owns it, and is linked into the policy
		// folder: dpkg removes the link with the package, and nobody edits a file dpkg replaces.
		shared := "/usr/share/socketeer/sites/" + p.ID() + "/policy.json"
		pkg.Files = append(pkg.Files,
			debpkg.File{Dest: shared, Data: dropin},
			debpkg.File{Dest: siteDropin(p), LinkTo: shared})
		pkg.Description += "\n .\n Pre-granted destinations: " + strings.Join(grants, ", ") + "."
	}
	return pkg, nil
}

// siteDropinJSON writes the pre-grants for one origin in the organisation policy format, and checks
// the result with the same parser the app uses, so a package never installs a drop-in that would
// disable the socket API on the machine (a policy file that does not parse fails closed).
func siteDropinJSON(origin string, grants []string) ([]byte, error) {
	// Only the pre-grants: an empty field of policy.EnterpriseFile would be written as null.
	var f struct {
		PreGrants []policy.DestRule `json:"preGrants"`
	}
	for _, g := range grants {
		r, err := parseGrant(g)
		if err != nil {
			return nil, &exitError{code: 2, msg: err.Error()}
		}
		// Threat: a drop-in that let other sites reach the destination. Each rule names exactly
		// this profile's origin, and only TCP connections.
		r.Origins = []string{origin}
		r.Protocols = []policy.Protocol{policy.TCP}
		f.PreGrants = append(f.PreGrants, r)
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode the pre-grants: %w", err)
	}
	b = append(b, '\n')
	if _, err := policy.ParseEnterpriseFile("the pre-grants", b); err != nil {
		return nil, &exitError{code: 2, msg: err.Error()}
	}
	return b, nil
}

// parseGrant reads one --grant value: HOST:PORTS, where HOST is a host name, an address (IPv6 in
// brackets) or a CIDR range, and a host name may be followed by @ and the address ranges it may
// resolve to (a pre-grant by name never reaches a non-public address its rule does not list).
// PORTS is a port or a range such as 5000-5010.
func parseGrant(g string) (policy.DestRule, error) {
	bad := func(why string) (policy.DestRule, error) {
		return policy.DestRule{}, fmt.Errorf("--grant %q: %s; write HOST:PORT, ADDRESS:PORT, CIDR:PORT or HOST@CIDR:PORT", g, why)
	}
	i := strings.LastIndex(g, ":")
	if i <= 0 || i == len(g)-1 {
		return bad("no port")
	}
	dest, ports := g[:i], g[i+1:]
	r := policy.DestRule{Ports: []string{ports}}
	if name, cidrs, ok := strings.Cut(dest, "@"); ok {
		r.Hosts = []string{name}
		for _, c := range strings.Split(cidrs, ",") {
			r.CIDRs = append(r.CIDRs, strings.TrimSuffix(strings.TrimPrefix(c, "["), "]"))
		}
		return r, nil
	}
	if strings.HasPrefix(dest, "[") && strings.HasSuffix(dest, "]") {
		dest = dest[1 : len(dest)-1]
	} else if strings.Contains(dest, ":") {
		return bad("an IPv6 address goes in brackets")
	}
	if _, err := netip.ParsePrefix(dest); err == nil {
		r.CIDRs = []string{dest}
	} else if _, err := netip.ParseAddr(dest); err == nil {
		r.CIDRs = []string{dest}
	} else if dest == "" {
		return bad("no host")
	} else {
		r.Hosts = []string{dest}
	}
	return r, nil
}
