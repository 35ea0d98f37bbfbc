package app

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"socketeer/policy"
)

func TestParseGrant(t *testing.T) {
	good := map[string]policy.DestRule{
		"printer.example:9100":              {Hosts: []string{"printer.example"}, Ports: []string{"9100"}},
		"10.1.2.3:23":                       {CIDRs: []string{"10.1.2.3"}, Ports: []string{"23"}},
		"10.1.2.0/24:5000-5010":             {CIDRs: []string{"10.1.2.0/24"}, Ports: []string{"5000-5010"}},
		"[fd00::5]:23":                      {CIDRs: []string{"fd00::5"}, Ports: []string{"23"}},
		"printer.lan@10.1.2.0/24:9100":      {Hosts: []string{"printer.lan"}, CIDRs: []string{"10.1.2.0/24"}, Ports: []string{"9100"}},
		"plc.lan@10.0.0.0/8,[fd00::/8]:502": {Hosts: []string{"plc.lan"}, CIDRs: []string{"10.0.0.0/8", "fd00::/8"}, Ports: []string{"502"}},
	}
	for in, want := range good {
		got, err := parseGrant(in)
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if err != nil || string(g) != string(w) {
			t.Errorf("parseGrant(%q) = %s, %v; want %s", in, g, err, w)
		}
	}
	for _, in := range []string{"printer.example", "printer.example:", ":9100", "fd00::5:23", ""} {
		if _, err := parseGrant(in); err == nil {
			t.Errorf("parseGrant(%q) accepted", in)
		}
	}
}

// TestSiteDropin checks a site package's drop-in: it parses as the app parses policy files, every
// rule names exactly the site's origin and TCP, and values the policy refuses are refused here,
// at build time, rather than disabling the API on every machine the package is installed on.
func TestSiteDropin(t *testing.T) {
	b, err := siteDropinJSON("https://print.example:8443", []string{"printer.example:9100", "10.1.2.0/24:515"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := policy.ParseEnterpriseFile("dropin", b)
	if err != nil {
		t.Fatalf("the drop-in does not parse: %v\n%s", err, b)
	}
	if len(f.PreGrants) != 2 || f.AllowOrigins != nil || f.Disabled != nil || f.AllowDestinations != nil {
		t.Fatalf("the drop-in holds more than the pre-grants:\n%s", b)
	}
	for _, r := range f.PreGrants {
		if strings.Join(r.Origins, ",") != "https://print.example:8443" || len(r.Protocols) != 1 || r.Protocols[0] != policy.TCP {
			t.Errorf("rule %+v is not for the site's origin and TCP only", r)
		}
	}
	merged := policy.MergeEnterprise([]policy.EnterpriseFile{f})
	if len(merged.PreGrantsFor("https://print.example:8443")) != 2 || len(merged.PreGrantsFor("https://other.example")) != 0 ||
		len(merged.PreGrantsFor("https://print.example")) != 0 {
		t.Errorf("the pre-grants reach other origins")
	}
	for _, bad := range []string{"*:9100", "printer.example:0", "printer.example:99999", "10.1.2.3/8:22", "printer.example:x"} {
		if _, err := siteDropinJSON("https://print.example", []string{bad}); err == nil {
			t.Errorf("--grant %s was accepted", bad)
		}
	}
}

func TestSitePackage(t *testing.T) {
	useTempXDG(t)
	p, err := OpenProfile("https://print.example:8443", "https://print.example:8443/app?x=1")
	if err != nil {
		t.Fatal(err)
	}
	p.Name = "Office printer"
	if sitePackageName(p) != "socketeer-site-print.example+8443" {
		t.Errorf("package name %s", sitePackageName(p))
	}
	icon, err := os.ReadFile("../build/appicon.png")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	pkg, err := sitePackage(p, []string{"10.1.2.3:9100"}, icon, now)
	if err != nil {
		t.Fatal(err)
	}
	if pkg.Version != "20260304.050607" || strings.Join(pkg.Depends, ",") != "socketeer" {
		t.Errorf("version %s, depends %v", pkg.Version, pkg.Depends)
	}
	files := map[string]string{}
	for _, f := range pkg.Files {
		files[f.Dest] = string(f.Data)
	}
	entry := files["/usr/share/applications/socketeer-site-print.example_8443.desktop"]
	for _, want := range []string{
		"\nName=Office printer\n",
		"\nExec=socketeer open \"https://print.example:8443/app?x=1\"\n",
		"\nIcon=socketeer-site-print.example_8443\n",
		"\nStartupWMClass=socketeer-site-print.example_8443\n",
	} {
		if !strings.Contains(entry, want) {
			t.Errorf("the desktop entry lacks %q:\n%s", want, entry)
		}
	}
	if files["/usr/share/icons/hicolor/512x512/apps/socketeer-site-print.example_8443.png"] == "" {
		t.Errorf("no 512 px icon")
	}
	if !strings.Contains(files["/usr/share/socketeer/sites/print.example_8443/policy.json"], `"10.1.2.3"`) {
		t.Errorf("no drop-in with the grant")
	}
	linked := false
	for _, f := range pkg.Files {
		if f.Dest == "/etc/socketeer/policy.d/site-print.example_8443.json" {
			linked = f.LinkTo == "/usr/share/socketeer/sites/print.example_8443/policy.json"
		}
	}
	if !linked {
		t.Errorf("the drop-in is not linked into /etc/socketeer/policy.d")
	}
	if pkg.Arch != "all" {
		t.Errorf("a site package is for architecture %q, want all", pkg.Arch)
	}
	none, err := sitePackage(p, nil, icon, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range none.Files {
		if strings.HasPrefix(f.Dest, "/etc/") || strings.HasPrefix(f.Dest, "/usr/share/socketeer/") {
			t.Errorf("a package without grants installs %s", f.Dest)
		}
	}
}

func TestPackageCommand(t *testing.T) {
	useTempXDG(t)
	if _, err := OpenProfile("https://print.example", "https://print.example/"); err != nil {
		t.Fatal(err)
	}
	AppIcon, _ = os.ReadFile("../build/appicon.png")
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := Main([]string{"package", "--profile", "print.example", "--grant", "10.1.2.3:9100", "--output", dir}, &out, &errOut); code != 0 {
		t.Fatalf("package: %d %s %s", code, out.String(), errOut.String())
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "socketeer-site-print.example_*_*.deb"))
	if len(debs) != 1 || !strings.Contains(out.String(), debs[0]) {
		t.Errorf("wrote %v, said %q", debs, out.String())
	}
	for _, args := range [][]string{
		{"package"},
		{"package", "--profile", "nobody.example"},
		{"package", "--profile", "print.example", "--grant", "*:1"},
		{"package", "--profile", "print.example", "--icon", filepath.Join(dir, "missing.png")},
		{"package", "--profile", "print.example", "extra"},
	} {
		out.Reset()
		errOut.Reset()
		if code := Main(args, &out, &errOut); code == 0 || errOut.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut.String())
		}
	}
}

// TestManPageCoversEveryCommand: every command `socketeer help` lists has an entry in the man page.
func TestManPageCoversEveryCommand(t *testing.T) {
	b, err := os.ReadFile("../build/linux/socketeer.1")
	if err != nil {
		t.Fatal(err)
	}
	// The man page's command entries, as .TP headings: the first words, bold or italic markup removed.
	heading := regexp.MustCompile(`(?m)^\.TP\n\.B[IR]? "?([^\n]*)`)
	var entries []string
	for _, m := range heading.FindAllStringSubmatch(string(b), -1) {
		entries = append(entries, strings.ReplaceAll(m[1], `\-`, "-"))
	}
	command := regexp.MustCompile(`(?m)^  socketeer ((?:[a-z-]+ ?)+)`)
	n := 0
	for _, m := range command.FindAllStringSubmatch(usage, -1) {
		words := strings.Fields(m[1])
		if len(words) > 2 {
			words = words[:2]
		}
		want := strings.Join(words, " ")
		found := false
		for _, e := range entries {
			if strings.HasPrefix(e, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("the man page has no entry for %q (entries: %q)", want, entries)
		}
		n++
	}
	if n < 10 {
		t.Errorf("found only %d commands in the usage text", n)
	}
	if _, err := exec.LookPath("man"); err == nil {
		out, err := exec.Command("man", "--warnings", "-l", "../build/linux/socketeer.1").CombinedOutput()
		if err != nil || strings.Contains(string(out), "warning") {
			t.Errorf("man: %v\n%s", err, out)
		}
	}
}

// TestShippedPolicyExamplesParse: the examples the package installs in /usr/share/doc are valid.
func TestShippedPolicyExamplesParse(t *testing.T) {
	for _, name := range []string{"../build/linux/policy.example.json", "../build/linux/policy.d-example.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := policy.ParseEnterpriseFile(name, b); err != nil {
			t.Errorf("%v", err)
		}
	}
}
