package debpkg

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestDebianVersion(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"v1.2.0", "1.2.0"},
		{"1.2.0", "1.2.0"},
		{"v1.2.0-3-gabc1234", "1.2.0+3+gabc1234"},
		{"v1.2.0-3-gabc1234-dirty", "1.2.0+3+gabc1234+dirty"},
		{"abc1234", "0~abc1234"},
		{"abc1234-dirty", "0~abc1234+dirty"},
		{"dev", "0~dev"},
		{"6c8443d", "0~6c8443d"},
		{"1234567-dirty", "0~1234567+dirty"},
		{"", "0"},
		{"v2.0.0_rc1", "2.0.0+rc1"},
	} {
		got := DebianVersion(c.in)
		if got != c.want {
			t.Errorf("DebianVersion(%q) = %q, want %q", c.in, got, c.want)
		}
		if !versionPattern.MatchString(got) {
			t.Errorf("DebianVersion(%q) = %q is not a valid Debian version", c.in, got)
		}
	}
}

// TestDebianVersionOrder checks the versions sort as the releases do, with dpkg's own comparison.
func TestDebianVersionOrder(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("no dpkg on this machine")
	}
	for _, untagged := range []string{"abc1234", "6c8443d", "1234567-dirty"} {
		a, b := DebianVersion(untagged), DebianVersion("v0.0.1")
		if err := exec.Command("dpkg", "--compare-versions", a, "lt", b).Run(); err != nil {
			t.Errorf("dpkg does not sort the untagged %s (%s) before the first release %s", a, untagged, b)
		}
	}
	order := []string{"v0.9.0", "v1.0.0", "v1.0.0-1-gabc1234", "v1.0.0-12-gdef5678", "v1.1.0"}
	for i := 1; i < len(order); i++ {
		a, b := DebianVersion(order[i-1]), DebianVersion(order[i])
		if err := exec.Command("dpkg", "--compare-versions", a, "lt", b).Run(); err != nil {
			t.Errorf("dpkg does not sort %s (%s) before %s (%s)", a, order[i-1], b, order[i])
		}
	}
}

// TestExecLine checks quoting round-trips through ParseExec, including the characters that would
// let a site's address break out of its argument or add a key to the entry.
func TestExecLine(t *testing.T) {
	for _, args := range [][]string{
		{"socketeer", "open", "https://device.example/"},
		{"socketeer", "open", "https://device.example/a b?q=1&r=\"x\"#frag"},
		{"socketeer", "open", "https://x.example/100%25/$HOME/`id`/\\n"},
		{"socketeer", "open", "https://x.example/\nExec=evil"},
		{"socketeer", ""},
	} {
		line := ExecLine(args)
		if strings.ContainsAny(line, "\n\r") {
			t.Errorf("ExecLine(%q) = %q spans lines", args, line)
		}
		got, err := ParseExec(line)
		if err != nil || strings.Join(got, "\x00") != strings.Join(args, "\x00") {
			t.Errorf("ParseExec(ExecLine(%q)) = %q, %v (line %q)", args, got, err, line)
		}
	}
	if got := ExecLine([]string{"socketeer", "open", "https://a.example/%s"}); got != "socketeer open https://a.example/%%s" {
		t.Errorf("a %% is not doubled: %q", got)
	}
	if _, err := ParseExec("socketeer %U"); err == nil {
		t.Errorf("ParseExec accepted a field code")
	}
}

func TestDesktopEntryValidates(t *testing.T) {
	validate, err := exec.LookPath("desktop-file-validate")
	if err != nil {
		t.Skip("no desktop-file-validate (desktop-file-utils) on this machine")
	}
	e := DesktopEntry{
		Name:       "Printer; \"office\"\nName=evil",
		Comment:    "Opens https://printer.example/",
		Exec:       []string{"socketeer", "open", "https://printer.example/a b"},
		Icon:       "socketeer-site-printer.example",
		Categories: []string{"Network"},
		Actions:    []DesktopAction{{ID: "demo", Name: "Demo", Exec: []string{"socketeer", "demo"}}},
	}
	path := filepath.Join(t.TempDir(), "socketeer-site-printer.example.desktop")
	if err := os.WriteFile(path, []byte(e.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(validate, path).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("desktop-file-validate: %v\n%s\n%s", err, out, e.String())
	}
	if strings.Count(e.String(), "\nName=") != 2 { // the entry's and the action's
		t.Errorf("a newline in a value added a key:\n%s", e.String())
	}
}

func TestHicolorIcons(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 100, 100))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	img.Set(0, 0, color.NRGBA{R: 0x10, A: 0xff})
	var buf bytes.Buffer
	png.Encode(&buf, img)
	files, err := HicolorIcons("x", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Dest)
		cfg, err := png.DecodeConfig(bytes.NewReader(f.Data))
		if err != nil || !strings.Contains(f.Dest, "/"+strconv.Itoa(cfg.Width)+"x"+strconv.Itoa(cfg.Height)+"/") {
			t.Errorf("%s holds a %dx%d image (%v)", f.Dest, cfg.Width, cfg.Height, err)
		}
	}
	// Never scaled up: 100 px gives 16 to 64.
	if want := "/usr/share/icons/hicolor/16x16/apps/x.png /usr/share/icons/hicolor/24x24/apps/x.png " +
		"/usr/share/icons/hicolor/32x32/apps/x.png /usr/share/icons/hicolor/48x48/apps/x.png " +
		"/usr/share/icons/hicolor/64x64/apps/x.png"; strings.Join(got, " ") != want {
		t.Errorf("icons %v, want %s", got, want)
	}

	wide := image.NewNRGBA(image.Rect(0, 0, 64, 32))
	buf.Reset()
	png.Encode(&buf, wide)
	if _, err := HicolorIcons("x", buf.Bytes()); err == nil || !strings.Contains(err.Error(), "square") {
		t.Errorf("a 64x32 icon gave %v, want an error saying it must be square", err)
	}
	if _, err := HicolorIcons("x", []byte("GIF89a")); err == nil {
		t.Errorf("a non-PNG icon was accepted")
	}
}

// TestPackageWrite builds a package and reads it back with dpkg-deb, the tool that installs it.
func TestPackageWrite(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("no dpkg-deb on this machine")
	}
	p := &Package{
		Name: "socketeer-site-test.example", Version: "20260101.120000", Arch: "amd64",
		Maintainer: "T <t@example.invalid>", Summary: "test package", Depends: []string{"socketeer"},
		Copyright: "test\n", Change: "Test.",
		Dirs: []string{"/etc/socketeer/policy.d"},
		Files: []File{
			{Dest: "/usr/share/socketeer/sites/test.example/policy.json", Data: []byte("{}\n")},
			{Dest: "/etc/socketeer/policy.d/site-test.example.json", LinkTo: "/usr/share/socketeer/sites/test.example/policy.json"},
		},
	}
	path, err := p.WriteFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "socketeer-site-test.example_20260101.120000_amd64.deb" {
		t.Errorf("file name %s", filepath.Base(path))
	}
	out, err := exec.Command("dpkg-deb", "-f", path, "Package", "Version", "Depends").Output()
	if err != nil || string(out) != "Package: socketeer-site-test.example\nVersion: 20260101.120000\nDepends: socketeer\n" {
		t.Errorf("control fields %q (%v)", out, err)
	}
	list, err := exec.Command("dpkg-deb", "-c", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"./usr/share/doc/socketeer-site-test.example/copyright\n",
		"./usr/share/doc/socketeer-site-test.example/changelog.gz\n",
		"./etc/socketeer/policy.d/site-test.example.json -> /usr/share/socketeer/sites/test.example/policy.json\n",
	} {
		if !strings.Contains(string(list), want) {
			t.Errorf("the package lacks %q:\n%s", want, list)
		}
	}
	// The drop-in must not be a conffile, or `dpkg -r` would leave it behind.
	ctl := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "-e", path, ctl).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -e: %v %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(ctl, "conffiles")); err == nil {
		t.Errorf("the package has conffiles")
	}

	for _, bad := range []*Package{
		{Name: "Socketeer", Version: "1", Copyright: "c", Change: "c"},
		{Name: "socketeer", Version: "1-2", Copyright: "c", Change: "c"},
		{Name: "socketeer", Version: "1", Copyright: "c", Change: "c", Files: []File{{Dest: "relative/path"}}},
		{Name: "socketeer", Version: "1", Copyright: "c", Change: "c", Files: []File{{Dest: "/usr/../etc/passwd"}}},
		{Name: "socketeer", Version: "1", Copyright: "c", Change: "c", Files: []File{{Dest: "/etc/socketeer/policy.json", Data: []byte("{}")}}},
		{Name: "socketeer", Version: "1", Copyright: "", Change: ""},
	} {
		if err := bad.Write(&bytes.Buffer{}); err == nil {
			t.Errorf("%+v was accepted", bad)
		}
	}
}
