package app

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
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
	// Without --icon, the entry has the profile's own icon (here a 2×2 one, which the package keeps
	// at its largest size, 128 px, since icons are never scaled up).
	own := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	own.Set(0, 0, color.NRGBA{R: 200, A: 255})
	var ownPNG bytes.Buffer
	png.Encode(&ownPNG, own)
	p, err := FindProfile("print.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.setIcon(ownPNG.Bytes()); err != nil {
		t.Fatal(err)
	}
	pkgDir := t.TempDir()
	if code := Main([]string{"package", "--profile", "print.example", "--output", pkgDir}, &out, &errOut); code != 0 {
		t.Fatalf("package: %d %s", code, errOut.String())
	}
	debs, _ = filepath.Glob(filepath.Join(pkgDir, "*.deb"))
	if len(debs) != 1 {
		t.Fatalf("wrote %v", debs)
	}
	// Socketeer's own icon would bring a 512 px size; the profile's stops at 128.
	list, err := exec.Command("dpkg-deb", "-c", debs[0]).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb -c: %v\n%s", err, list)
	}
	if !strings.Contains(string(list), "/128x128/apps/socketeer-site-print.example.png") ||
		strings.Contains(string(list), "/512x512/") {
		t.Errorf("the package does not carry the profile's own icon:\n%s", list)
	}
	// The demo needs the servers `socketeer demo` starts: it is not packaged.
	demo, err := OpenProfile("https://localhost:47443", "https://localhost:47443/")
	if err != nil {
		t.Fatal(err)
	}
	demo.Demo = true
	if err := demo.Save(); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"package"},
		{"package", "--profile", demo.ID()},
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

// TestManPageCoversEveryCommand: the man page shows every command `socketeer help` lists (the bare
// `socketeer`, which opens the launcher, included) in SYNOPSIS and as an entry under COMMANDS whose
// heading names each of the command's flags; and every command word and flag the command line
// actually accepts (the cases its parsers switch on and the flags they define, aliases such as -h
// included) is named under COMMANDS.
func TestManPageCoversEveryCommand(t *testing.T) {
	b, err := os.ReadFile("../build/linux/socketeer.1")
	if err != nil {
		t.Fatal(err)
	}
	page := parseManPage(string(b))
	if len(page.synopsis) == 0 || len(page.commands) == 0 {
		t.Fatalf("no SYNOPSIS or COMMANDS in the man page: %+v", page)
	}

	// From the usage text: each command, its words and its flags.
	cmds := usageCommands(usage)
	if len(cmds) < 13 {
		t.Fatalf("found only %d commands in the usage text: %+v", len(cmds), cmds)
	}
	for _, c := range cmds {
		name := strings.TrimSpace("socketeer " + strings.Join(c.words, " "))
		inSynopsis := false
		for _, line := range page.synopsis {
			f := strings.Fields(line)
			if len(c.words) == 0 {
				inSynopsis = inSynopsis || line == "socketeer"
			} else if len(f) > 0 && f[0] == "socketeer" && hasToken(line, c.words[0]) {
				inSynopsis = true
			}
		}
		if !inSynopsis {
			t.Errorf("SYNOPSIS does not show %q (it shows %q)", name, page.synopsis)
		}
		// The launcher's entry is headed "socketeer", the others by their words ("trust add …").
		want := strings.Join(c.words, " ")
		var entry *manEntry
		for i, e := range page.commands {
			if want == "" && e.heading == "socketeer" ||
				want != "" && regexp.MustCompile(`^`+regexp.QuoteMeta(want)+`($|[^\w-])`).MatchString(e.heading) {
				entry = &page.commands[i]
				break
			}
		}
		if entry == nil {
			t.Errorf("COMMANDS has no entry for %q", name)
			continue
		}
		for _, flag := range c.flags {
			if !hasToken(entry.heading, flag) {
				t.Errorf("the COMMANDS entry %q does not show %s, which %q takes", entry.heading, flag, name)
			}
		}
	}

	// From the code: what the command line accepts, whether or not the usage text shows it.
	accepted := acceptedWords(t, "cli.go", "package.go", "profile.go", "profile_open.go")
	if len(accepted) < 25 {
		t.Fatalf("found only %d command words and flags in the code: %q", len(accepted), accepted)
	}
	var all strings.Builder
	for _, e := range page.commands {
		all.WriteString(e.heading + "\n" + e.body + "\n")
	}
	for _, w := range accepted {
		if !hasToken(all.String(), w) {
			t.Errorf("the command line accepts %q, which COMMANDS does not name", w)
		}
	}

	// The same check as build/scripts/test-packages.sh runs on the installed page.
	if _, err := exec.LookPath("man"); err == nil {
		cmd := exec.Command("man", "--warnings", "-E", "UTF-8", "-l", "../build/linux/socketeer.1")
		cmd.Env = append(os.Environ(), "LANG=C", "MANROFFSEQ=", "MANWIDTH=80")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("man: %v\n%s", err, stderr.String())
		}
	}
}

// usageCommand is one command of the usage text: its words after "socketeer" (none for the
// launcher; "trust add"; "--profile") and the flags its entry names.
type usageCommand struct {
	words, flags []string
}

// usageCommands reads the usage text: an entry is a line "  socketeer …" and the indented lines
// after it; its syntax ends where two spaces start the description.
func usageCommands(text string) []usageCommand {
	var out []usageCommand
	flagRE := regexp.MustCompile(`--[a-z][a-z-]*`)
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, "  socketeer")
		switch {
		case ok && (rest == "" || rest[0] == ' '):
			syntax, _, _ := strings.Cut(rest, "  ")
			var c usageCommand
			for i, w := range strings.Fields(syntax) {
				if regexp.MustCompile(`^[a-z]+$`).MatchString(w) && len(c.words) == i ||
					i == 0 && strings.HasPrefix(w, "--") {
					c.words = append(c.words, w)
				}
			}
			out = append(out, c)
			fallthrough
		case len(out) > 0 && strings.HasPrefix(line, "    "):
			c := &out[len(out)-1]
			for _, f := range flagRE.FindAllString(line, -1) {
				if !slices.Contains(c.flags, f) {
					c.flags = append(c.flags, f)
				}
			}
		}
	}
	return out
}

// acceptedWords returns what the command line's parsers accept, read from the source: the string
// cases of the switches in run and in the functions named …Command, and the flags those define
// with a flag.FlagSet ("--" and the name).
func acceptedWords(t *testing.T, files ...string) []string {
	var out []string
	add := func(w string) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil || fn.Recv != nil || fn.Name.Name != "run" && !strings.HasSuffix(fn.Name.Name, "Command") {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CaseClause:
					for _, e := range n.List {
						if s, ok := stringLit(e); ok {
							add(s)
						}
					}
				case *ast.CallExpr:
					sel, ok := n.Fun.(*ast.SelectorExpr)
					if !ok {
						break
					}
					arg := -1
					switch sel.Sel.Name {
					case "Bool", "Duration", "Float64", "Int", "Int64", "String", "Uint", "Uint64", "Func", "BoolFunc":
						arg = 0 // fs.String("name", …)
					case "BoolVar", "DurationVar", "Float64Var", "IntVar", "Int64Var", "StringVar", "UintVar",
						"Uint64Var", "Var", "TextVar":
						arg = 1 // fs.Var(&v, "name", …)
					}
					if arg >= 0 && len(n.Args) > arg {
						if s, ok := stringLit(n.Args[arg]); ok {
							add("--" + s)
						}
					}
				}
				return true
			})
		}
	}
	return out
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// hasToken reports whether word occurs in text on its own, not inside a longer word or flag.
func hasToken(text, word string) bool {
	return regexp.MustCompile(`(^|[^\w-])` + regexp.QuoteMeta(word) + `($|[^\w-])`).MatchString(text)
}

// manPage is the text of a man page's SYNOPSIS lines and COMMANDS entries, with the markup removed.
type manPage struct {
	synopsis []string
	commands []manEntry
}

type manEntry struct{ heading, body string }

// parseManPage reads the man(7) source that socketeer.1 uses: the font macros, .br between
// SYNOPSIS lines, .TP entries, and .RS/.RE around nested lists (which stay in their entry's body).
func parseManPage(src string) manPage {
	var p manPage
	section, depth, wantHeading := "", 0, false
	line := ""
	for _, raw := range strings.Split(src, "\n") {
		macro, args := "", raw
		if strings.HasPrefix(raw, ".") || strings.HasPrefix(raw, "'") {
			macro, args, _ = strings.Cut(raw[1:], " ")
		}
		switch macro {
		case `\"`:
			continue
		case "SH":
			section = manText("", args)
			continue
		}
		switch section {
		case "SYNOPSIS":
			if macro == "br" {
				p.synopsis = append(p.synopsis, strings.Join(strings.Fields(line), " "))
				line = ""
			} else {
				line += " " + manText(macro, args)
			}
			continue
		case "COMMANDS":
		default:
			if line != "" {
				p.synopsis = append(p.synopsis, strings.Join(strings.Fields(line), " "))
				line = ""
			}
			continue
		}
		switch {
		case macro == "RS":
			depth++
		case macro == "RE":
			depth--
		case macro == "TP" && depth == 0:
			p.commands = append(p.commands, manEntry{})
			wantHeading = true
		case len(p.commands) == 0:
		case wantHeading:
			p.commands[len(p.commands)-1].heading = strings.Join(strings.Fields(manText(macro, args)), " ")
			wantHeading = false
		default:
			e := &p.commands[len(p.commands)-1]
			e.body += manText(macro, args) + "\n"
		}
	}
	return p
}

// manText renders one line's text: a font macro's arguments (alternating ones run together) or a
// text line, with font changes and escapes removed. Other macros have no text.
func manText(macro, args string) string {
	var words []string
	switch macro {
	case "", "B", "I", "SH", "SS", "BI", "IB", "BR", "RB", "IR", "RI":
	default:
		return ""
	}
	if macro == "" {
		words = []string{args}
	} else {
		for args = strings.TrimSpace(args); args != ""; args = strings.TrimSpace(args) {
			if args[0] == '"' {
				w, rest, _ := strings.Cut(args[1:], `"`)
				words, args = append(words, w), rest
			} else {
				w, rest, _ := strings.Cut(args, " ")
				words, args = append(words, w), rest
			}
		}
	}
	sep := " "
	if len(macro) == 2 && macro != "SH" && macro != "SS" {
		sep = ""
	}
	s := strings.Join(words, sep)
	s = regexp.MustCompile(`\\f(\[[A-Z]*\]|\(..|[A-Z])`).ReplaceAllString(s, "")
	return strings.NewReplacer(`\-`, "-", `\&`, "", `\e`, `\`, `\ `, " ").Replace(s)
}

// TestPolicyReadmeCoversEveryField: README.policy, installed in /usr/share/doc/socketeer, names
// every field of the policy format: those of a file, of a destination rule and of a certificate pin.
func TestPolicyReadmeCoversEveryField(t *testing.T) {
	b, err := os.ReadFile("../build/linux/README.policy")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range []any{policy.EnterpriseFile{}, policy.DestRule{}, policy.CertPin{}} {
		typ := reflect.TypeOf(v)
		for i := 0; i < typ.NumField(); i++ {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			n++
			if !hasToken(string(b), name) {
				t.Errorf("README.policy does not name the %s field %q", typ.Name(), name)
			}
		}
	}
	if n < 18 {
		t.Errorf("found only %d fields in the policy format", n)
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
