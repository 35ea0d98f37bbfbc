// Package debpkg builds Debian packages for Socketeer: the main package (built by
// build/linux/mkdeb) and the small per-site packages `socketeer package` makes. The archive itself
// is written by nfpm, a well-kept packager; this package only says what goes in it and prepares the
// files desktops expect (icons at the standard sizes, gzipped manual pages, desktop entries).
package debpkg

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

// File is one file of a package: its absolute path on the installed system and its content, or
// the absolute path a symbolic link at Dest points to.
type File struct {
	Dest   string
	Data   []byte
	Mode   fs.FileMode // 0644 when zero
	LinkTo string
}

// Package describes one Debian binary package.
type Package struct {
	Name        string
	Version     string // a Debian version, see DebianVersion
	Arch        string // Debian or Go architecture name ("all" for no binaries); the machine's own when empty
	Maintainer  string
	Homepage    string
	Section     string
	Summary     string // the one-line synopsis
	Description string // the extended description, plain paragraphs
	Depends     []string
	Recommends  []string
	Files       []File
	// Dirs are directories the package owns even while empty, such as /etc/socketeer/policy.d.
	Dirs []string
	// Copyright is /usr/share/doc/<name>/copyright, which every Debian package carries.
	Copyright string
	// Change is the one entry of /usr/share/doc/<name>/changelog.gz, dated Date (now when zero).
	Change string
	Date   time.Time
}

// namePattern is Debian policy's package name syntax (section 5.6.7).
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

// versionPattern is Debian policy's upstream version syntax, without epoch or revision: a hyphen
// would start a Debian revision and a colon an epoch, which this package never writes.
var versionPattern = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`)

// FileName is the conventional file name of the package: name_version_arch.deb.
func (p *Package) FileName() string {
	return fmt.Sprintf("%s_%s_%s.deb", p.Name, p.Version, debArch(p.Arch))
}

// debArch maps Go architecture names to Debian's for the common cases.
func debArch(a string) string {
	if a == "" {
		a = runtime.GOARCH
	}
	switch a {
	case "386":
		return "i386"
	case "arm":
		return "armhf"
	}
	return a
}

// Write builds the package and writes the .deb archive to w.
func (p *Package) Write(w io.Writer) error {
	if !namePattern.MatchString(p.Name) {
		return fmt.Errorf("%q is not a valid Debian package name", p.Name)
	}
	if !versionPattern.MatchString(p.Version) {
		return fmt.Errorf("%q is not a valid Debian package version", p.Version)
	}
	if p.Copyright == "" || p.Change == "" {
		return errors.New("a package needs its copyright and changelog texts")
	}
	// nfpm reads every file from disk, so the contents are staged in a private folder first.
	stage, err := os.MkdirTemp("", "socketeer-deb-")
	if err != nil {
		return fmt.Errorf("stage package files: %w", err)
	}
	defer os.RemoveAll(stage)

	var contents files.Contents
	for _, d := range p.Dirs {
		contents = append(contents, &files.Content{
			Destination: d,
			Type:        files.TypeDir,
			FileInfo:    &files.ContentFileInfo{Mode: 0o755},
		})
	}
	date := p.Date
	if date.IsZero() {
		date = time.Now()
	}
	docs := []File{
		{Dest: "/usr/share/doc/" + p.Name + "/copyright", Data: []byte(p.Copyright)},
		{Dest: "/usr/share/doc/" + p.Name + "/changelog.gz", Data: Gzip([]byte(fmt.Sprintf(
			"%s (%s) unstable; urgency=medium\n\n  * %s\n\n -- %s  %s\n",
			p.Name, p.Version, p.Change, p.Maintainer, date.Format(time.RFC1123Z))))},
	}
	for i, f := range append(docs, p.Files...) {
		if !path.IsAbs(f.Dest) || path.Clean(f.Dest) != f.Dest {
			return fmt.Errorf("package file %q: the destination must be a clean absolute path", f.Dest)
		}
		if strings.HasPrefix(f.Dest, "/etc/") && f.LinkTo == "" {
			return fmt.Errorf("package file %s: files in /etc are installed as links to /usr (see File.LinkTo)", f.Dest)
		}
		if f.LinkTo != "" {
			contents = append(contents, &files.Content{Source: f.LinkTo, Destination: f.Dest, Type: files.TypeSymlink})
			continue
		}
		src := filepath.Join(stage, fmt.Sprintf("%03d-%s", i, path.Base(f.Dest)))
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(src, f.Data, mode); err != nil {
			return fmt.Errorf("stage %s: %w", f.Dest, err)
		}
		// Plain files, never conffiles: what a package puts in /etc it puts there as a symbolic
		// link (see LinkTo), which dpkg removes with the package, as a managed policy drop-in must
		// be (a conffile would outlive `dpkg -r`).
		contents = append(contents, &files.Content{
			Source:      src,
			Destination: f.Dest,
			FileInfo:    &files.ContentFileInfo{Mode: mode, Owner: "root", Group: "root"},
		})
	}

	description := p.Summary
	if p.Description != "" {
		description += "\n" + p.Description
	}
	info := nfpm.WithDefaults(&nfpm.Info{
		Name:          p.Name,
		Arch:          debArch(p.Arch),
		Platform:      "linux",
		Version:       p.Version,
		VersionSchema: "none",
		Section:       p.Section,
		Priority:      "optional",
		Maintainer:    p.Maintainer,
		Homepage:      p.Homepage,
		Description:   description,
		Overridables: nfpm.Overridables{
			Depends:    p.Depends,
			Recommends: p.Recommends,
			Contents:   contents,
			Deb:        nfpm.Deb{Compression: "xz"},
		},
	})
	if err := deb.Default.Package(info, w); err != nil {
		return fmt.Errorf("build %s: %w", p.FileName(), err)
	}
	return nil
}

// WriteFile builds the package into dir under its conventional name and returns the file's path.
func (p *Package) WriteFile(dir string) (string, error) {
	out := filepath.Join(dir, p.FileName())
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		return "", err
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", out, err)
	}
	return out, nil
}

// Gzip compresses data the way Debian wants manual pages and changelogs: best compression, and no
// file name or time stamp in the header, so that the package is reproducible.
func Gzip(data []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

// releasePattern tells a release version ("1.2", "v1.2.0-3-g…") from a bare commit hash, which may
// also start with a digit ("6c8443d").
var releasePattern = regexp.MustCompile(`^v?[0-9]+\.[0-9]+`)

// DebianVersion turns a version as `git describe` or the Makefile gives it ("v1.2.0",
// "v1.2.0-3-gabc1234", "abc1234-dirty", "dev") into a Debian version that sorts the same way:
// commits after a tag sort after it ("1.2.0+3+gabc1234"), and builds with no tag sort before any
// release ("0~abc1234+dirty").
func DebianVersion(v string) string {
	v = strings.TrimSpace(v)
	release := releasePattern.MatchString(v)
	v = strings.TrimPrefix(v, "v")
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '~', r == '+':
			return r
		}
		return '+'
	}, v)
	if !release {
		clean = "0~" + clean
	}
	return strings.TrimRight(clean, "+.~")
}
