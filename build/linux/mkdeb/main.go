// Command mkdeb builds Socketeer's Debian package from a built binary and the files in build/:
//
//	go run ./build/linux/mkdeb -bin build/bin/socketeer -version v1.2.0 -out build/bin
//
// It prints the path of the package it wrote. `make package` runs it from the repository's root.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"socketeer/app/debpkg"
)

// depends are the runtime libraries the binary links (see `objdump -p`), by the Debian 12 packages
// that ship them, plus glib-networking, without which WebKit has no TLS and so no https:// site.
// The package test checks every library the binary needs is covered by one of these.
var depends = []string{
	"libc6 (>= 2.34)",
	"libglib2.0-0 (>= 2.70)",
	"libgtk-3-0 (>= 3.24)",
	"libgdk-pixbuf-2.0-0",
	"libpango-1.0-0",
	"libsoup-3.0-0",
	"libwebkit2gtk-4.1-0 (>= 2.40)",
	"libjavascriptcoregtk-4.1-0 (>= 2.40)",
	"glib-networking",
}

// recommends are what a desktop session usually has; without them Socketeer still runs.
var recommends = []string{
	"ca-certificates",    // to verify the certificates of public sites
	"hicolor-icon-theme", // the icon theme the app icon is installed into
}

func main() {
	bin := flag.String("bin", "build/bin/socketeer", "the built socketeer binary")
	version := flag.String("version", "dev", "the version, as git describe prints it")
	out := flag.String("out", "build/bin", "the folder the package is written to")
	flag.Parse()
	path, err := build(*bin, *version, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkdeb: "+err.Error())
		os.Exit(1)
	}
	fmt.Println(path)
}

func build(bin, version, out string) (string, error) {
	// Files installed as they are in the source tree, by their place on the installed system.
	plain := []struct{ dest, src string }{
		{"/usr/share/icons/hicolor/scalable/apps/socketeer.svg", "build/appicon.svg"},
		{"/usr/share/doc/socketeer/README.policy", "build/linux/README.policy"},
		{"/usr/share/doc/socketeer/examples/policy.json", "build/linux/policy.example.json"},
		{"/usr/share/doc/socketeer/examples/policy.d/50-print-portal.json", "build/linux/policy.d-example.json"},
	}
	var pkgFiles []debpkg.File
	for _, f := range plain {
		b, err := os.ReadFile(f.src)
		if err != nil {
			return "", err
		}
		pkgFiles = append(pkgFiles, debpkg.File{Dest: f.dest, Data: b})
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	copyright, err := os.ReadFile("build/linux/copyright")
	if err != nil {
		return "", err
	}
	man, err := os.ReadFile("build/linux/socketeer.1")
	if err != nil {
		return "", err
	}
	png, err := os.ReadFile("build/appicon.png")
	if err != nil {
		return "", err
	}
	icons, err := debpkg.HicolorIcons("socketeer", png)
	if err != nil {
		return "", err
	}
	entry := debpkg.DesktopEntry{
		Name:        "Socketeer",
		GenericName: "Web App Sockets",
		Comment:     "Let web apps you choose talk TCP to your devices and servers, with your consent",
		Exec:        []string{"socketeer"},
		Icon:        "socketeer",
		Categories:  []string{"Network"},
		Keywords:    []string{"socket", "tcp", "telnet", "device", "web app"},
		// Wails names the GTK program after the binary, so every Socketeer window has this class.
		StartupWMClass: "socketeer",
		Actions: []debpkg.DesktopAction{
			{ID: "demo", Name: "Socket Console Demo", Exec: []string{"socketeer", "demo"}},
		},
	}
	p := &debpkg.Package{
		Name:       "socketeer",
		Version:    debpkg.DebianVersion(version),
		Maintainer: "Socketeer developers <maintainers@socketeer.invalid>",
		Section:    "net",
		Summary:    "raw TCP and UDP sockets for web apps, with the user's consent",
		Description: ` Socketeer is a desktop shell that lets ordinary HTTPS web apps talk raw TCP
 to the servers and devices their users already own: SSH and telnet boxes,
 printers, PLCs, mail and IRC servers. Every site runs in its own window and
 profile, and gets a socket only through a policy decision and a native
 consent dialog that names the site and the destination.
 .
 Administrators configure it in /etc/socketeer (see
 /usr/share/doc/socketeer/README.policy).`,
		Copyright:  string(copyright),
		Change:     "Built from Socketeer " + version + ".",
		Depends:    depends,
		Recommends: recommends,
		Dirs:       []string{"/etc/socketeer", "/etc/socketeer/policy.d"},
		Files: append(append(pkgFiles, icons...),
			debpkg.File{Dest: "/usr/bin/socketeer", Data: binary, Mode: 0o755},
			debpkg.File{Dest: "/usr/share/applications/socketeer.desktop", Data: []byte(entry.String())},
			debpkg.File{Dest: "/usr/share/man/man1/socketeer.1.gz", Data: debpkg.Gzip(man)},
		),
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	return p.WriteFile(filepath.Clean(out))
}
