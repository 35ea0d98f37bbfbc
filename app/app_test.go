package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adrg/xdg"

	"socketeer/bindings"
	"socketeer/policy"
)

func TestParseSiteURL(t *testing.T) {
	good := []struct{ in, url, origin, host string }{
		{"https://Example.COM", "https://example.com/", "https://example.com", "example.com"},
		{"https://example.com:443/app?x=1", "https://example.com/app?x=1", "https://example.com", "example.com"},
		{" https://localhost:8443/ ", "https://localhost:8443/", "https://localhost:8443", "localhost"},
		{"https://[::1]:9000/", "https://[::1]:9000/", "https://[::1]:9000", "::1"},
		{"https://bücher.example/", "https://xn--bcher-kva.example/", "https://xn--bcher-kva.example", "xn--bcher-kva.example"},
	}
	for _, c := range good {
		got, err := parseSiteURL(c.in)
		if err != nil {
			t.Errorf("parseSiteURL(%q): %v", c.in, err)
			continue
		}
		if got.URL != c.url || got.Origin != c.origin || got.Host != c.host {
			t.Errorf("parseSiteURL(%q) = %+v", c.in, got)
		}
	}
	bad := map[string]string{
		"plain http (MITM)":       "http://example.com/",
		"no scheme":               "example.com",
		"other scheme":            "ftp://example.com/",
		"credentials":             "https://user:pw@example.com/",
		"bad host":                "https://exa mple.com/",
		"port out of range":       "https://example.com:70000/",
		"empty":                   "",
		"javascript":              "javascript:alert(1)",
		"file":                    "file:///etc/passwd",
		"data":                    "data:text/html,hi",
		"bidi in host (spoofing)": "https://exa\u202emple.com/",
	}
	for name, in := range bad {
		if _, err := parseSiteURL(in); err == nil {
			t.Errorf("%s: parseSiteURL(%q) accepted", name, in)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	const origin = "https://app.example:8443"
	cases := map[string]bool{
		"https://app.example:8443/x":     true,
		"https://APP.example:8443/":      true,
		"https://app.example/":           false, // another port
		"http://app.example:8443/":       false, // plain http
		"https://app.example.evil:8443/": false,
		"https://u@app.example:8443/":    false,
		"wails://wails/":                 false,
		"about:blank":                    false,
		"https://app.example:8443@evil/": false,
		"data:text/html,<p>app.example":  false,
	}
	for uri, want := range cases {
		if got := sameOrigin(uri, origin); got != want {
			t.Errorf("sameOrigin(%q) = %v, want %v", uri, got, want)
		}
	}
}

func TestProfileIDsAreDistinct(t *testing.T) {
	origins := []string{"https://a.example", "https://a.example:8443", "https://a-example", "https://[::1]:8443", "https://[::1]:8", "https://xn--bcher-kva.example"}
	seen := map[string]string{}
	for _, o := range origins {
		id := profileID(o)
		if prev, dup := seen[id]; dup {
			t.Errorf("%s and %s share the profile id %s", prev, o, id)
		}
		if strings.ContainsAny(id, "/\\:[]") || id == "" || id[0] == '.' {
			t.Errorf("profile id %q is not a safe folder name", id)
		}
		seen[id] = o
	}
}

func TestFingerprints(t *testing.T) {
	const hex = "93f4ff98f5e8c0c709af2543c7e10b6f7d31c54e28f737db9c3bf79ef02f91cd"
	for _, in := range []string{hex, strings.ToUpper(hex), displayFingerprint(hex), " " + displayFingerprint(hex) + " "} {
		got, err := normalizeFingerprint(in)
		if err != nil || got != hex {
			t.Errorf("normalizeFingerprint(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "abcd", hex + "00", strings.Replace(hex, "9", "g", 1)} {
		if _, err := normalizeFingerprint(in); err == nil {
			t.Errorf("normalizeFingerprint(%q) accepted", in)
		}
	}
}

func TestCleanTextRemovesSpoofingCharacters(t *testing.T) {
	in := "evil\u202egnp.exe\u200b\x07\nname"
	got := cleanText(in, 253)
	if got != "evilgnp.exename" {
		t.Errorf("cleanText = %q", got)
	}
	long := strings.Repeat("a", 300)
	if got := cleanText(long, 253); len([]rune(got)) != 254 || !strings.HasSuffix(got, "…") {
		t.Errorf("cleanText did not cap: %d runes", len([]rune(got)))
	}
}

func TestWindowTitleAlwaysNamesTheSite(t *testing.T) {
	origin := "https://app.example:8443"
	for _, title := range []string{"", "Socketeer: connection request", "Bank \u202e", strings.Repeat("x", 500)} {
		got := windowTitle(title, origin)
		if !strings.HasSuffix(got, "app.example:8443") && !strings.HasPrefix(got, "app.example:8443 — ") {
			t.Errorf("windowTitle(%q) = %q does not name the site", title, got)
		}
		if got == "Socketeer: connection request" {
			t.Errorf("a page could give its window the consent dialog's title")
		}
	}
}

func TestConsentSpec(t *testing.T) {
	spec := consentSpec(bindings.Prompt{
		Origin: "https://app.example", Protocol: policy.TCP, Mode: policy.Connect,
		Host: "printer.local", Port: 9100, Addresses: []netip.Addr{netip.MustParseAddr("192.168.1.20")}, LocalNetwork: true,
	})
	text := spec.Heading + spec.Note
	for _, r := range spec.Rows {
		text += " " + r[0] + " " + r[1]
	}
	for _, want := range []string{"app.example", "printer.local:9100", "TCP, unencrypted", "192.168.1.20 (your local network)", "local network"} {
		if !strings.Contains(text, want) {
			t.Errorf("consent dialog does not say %q: %s", want, text)
		}
	}
	managed := consentSpec(bindings.Prompt{Origin: "https://app.example", Host: "printer.local", Port: 9100, Managed: true})
	if !strings.Contains(fmt.Sprint(managed.Rows), "organisation's policy") {
		t.Errorf("a managed destination's dialog does not say so: %v", managed.Rows)
	}
	if strings.Contains(fmt.Sprint(spec.Rows), "organisation") {
		t.Errorf("an unmanaged destination's dialog mentions a policy: %v", spec.Rows)
	}
	for _, c := range []struct {
		p    bindings.Prompt
		want string
	}{
		{bindings.Prompt{Origin: "https://app.example", Protocol: policy.TCP, Mode: policy.Connect, Host: "mail.example", Port: 993, TLS: true},
			"TCP, encrypted (TLS)"},
		{bindings.Prompt{Origin: "https://app.example", Protocol: policy.TCP, Mode: policy.Connect, Host: "mail.example", Port: 587, StartTLS: true},
			"TCP, unencrypted until the site switches it to TLS (STARTTLS)"},
	} {
		if rows := fmt.Sprint(consentSpec(c.p).Rows); !strings.Contains(rows, c.want) {
			t.Errorf("consent dialog for %+v does not say %q: %s", c.p, c.want, rows)
		}
	}
	if spec.ArmDelay < armDelay || spec.DenyLabel != "_Deny" {
		t.Errorf("consent dialog is not guarded: %+v", spec)
	}

	// Serving sockets say what the site will do, on which port, and who else can reach it.
	serving := map[string]struct {
		p    bindings.Prompt
		want []string
	}{
		"udp bound on loopback": {bindings.Prompt{Origin: "https://app.example", Protocol: policy.UDP, Mode: policy.Bind,
			Host: "127.0.0.1", Port: 5000, Addresses: []netip.Addr{netip.MustParseAddr("127.0.0.1")}},
			[]string{"send and receive UDP datagrams on port 5000", "Only programs on this computer", "multicast"}},
		"server on every interface": {bindings.Prompt{Origin: "https://app.example", Protocol: policy.TCP, Mode: policy.Listen,
			Host: "0.0.0.0", Addresses: []netip.Addr{netip.MustParseAddr("0.0.0.0")}},
			[]string{"receive connections on a port the system chooses", "Other computers on your networks", "TCP server"}},
		"udp bound on a lan address": {bindings.Prompt{Origin: "https://app.example", Protocol: policy.UDP, Mode: policy.Bind,
			Host: "192.168.1.5", Port: 6000, Addresses: []netip.Addr{netip.MustParseAddr("192.168.1.5")}},
			[]string{"Other computers that can reach 192.168.1.5"}},
		"udp peer": {bindings.Prompt{Origin: "https://app.example", Protocol: policy.UDP, Mode: policy.Connect,
			Host: "192.168.1.9", Port: 161, Addresses: []netip.Addr{netip.MustParseAddr("192.168.1.9")}, LocalNetwork: true},
			[]string{"exchange UDP datagrams with 192.168.1.9:161", "UDP datagrams, unencrypted", "local network"}},
	}
	for name, c := range serving {
		spec := consentSpec(c.p)
		text := spec.Heading + " " + spec.Note + " " + fmt.Sprint(spec.Rows)
		for _, want := range c.want {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the dialog does not say %q: %s", name, want, text)
			}
		}
		if c.p.Mode != policy.Connect && spec.Editable {
			t.Errorf("%s: a serving socket's dialog has editable fields", name)
		}
		if spec.ArmDelay < armDelay || spec.DenyLabel != "_Deny" || spec.RememberLabel == "" {
			t.Errorf("%s: consent dialog is not guarded or cannot remember: %+v", name, spec)
		}
	}
}

// useTempXDG points the XDG folders at a temporary directory for one test.
func useTempXDG(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"} {
		t.Setenv(v, dir+"/"+strings.ToLower(v))
	}
	xdg.Reload()
	t.Cleanup(xdg.Reload)
}

func TestTrustCommands(t *testing.T) {
	useTempXDG(t)
	const fp = "93f4ff98f5e8c0c709af2543c7e10b6f7d31c54e28f737db9c3bf79ef02f91cd"
	run := func(args ...string) (string, int) {
		var out, errOut bytes.Buffer
		code := Main(args, &out, &errOut)
		return out.String() + errOut.String(), code
	}
	if out, code := run("trust", "add", "https://dev.example:8443/", fp); code != 0 || !strings.Contains(out, "trusted") {
		t.Fatalf("trust add: %d %s", code, out)
	}
	if out, code := run("trust", "add", "https://dev.example:8443/", fp, "--host", "other.example"); code != 0 {
		t.Fatalf("trust add --host: %d %s", code, out)
	}
	out, code := run("trust", "list")
	if code != 0 || !strings.Contains(out, "https://dev.example:8443\tdev.example\t"+fp) || !strings.Contains(out, "other.example") {
		t.Fatalf("trust list: %d %s", code, out)
	}
	p, err := LoadProfile("https://dev.example:8443")
	if err != nil || !p.HasPin("dev.example", fp) || p.HasPin("dev.example", strings.Repeat("0", 64)) {
		t.Fatalf("profile pins: %v %+v", err, p)
	}
	if out, code := run("trust", "remove", "https://dev.example:8443/", fp); code != 0 {
		t.Fatalf("trust remove: %d %s", code, out)
	}
	if out, code := run("trust", "remove", "https://dev.example:8443/", fp); code == 0 {
		t.Fatalf("removing a missing pin succeeded: %s", out)
	}
	if out, code := run("trust", "add", "http://dev.example/", fp); code != 2 || !strings.Contains(out, "https://") {
		t.Fatalf("trust add for http: %d %s", code, out)
	}
	if _, err := os.Stat(p.ConfigDir()); err != nil {
		t.Fatalf("profile folder: %v", err)
	}
}

func TestFindProfile(t *testing.T) {
	useTempXDG(t)
	a, err := OpenProfile("https://a.example", "https://a.example/")
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenProfile("https://b.example:8443", "https://b.example:8443/app")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]*Profile{a.ID(): a, b.ID(): b, "b.example:8443": b} {
		got, err := FindProfile(name)
		if err != nil || got.Origin != want.Origin {
			t.Errorf("FindProfile(%q) = %v, %v; want %s", name, got, err, want.Origin)
		}
	}
	for _, p := range []*Profile{a, b} {
		p.Name = "Shared"
		if err := p.Save(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := FindProfile("Shared"); err == nil || !strings.Contains(err.Error(), b.ID()) {
		t.Errorf("a name shared by two profiles: %v", err)
	}
	if _, err := FindProfile("nobody"); !errors.Is(err, ErrNoProfile) {
		t.Errorf("missing profile: %v", err)
	}
}

func TestGrantsForServingSockets(t *testing.T) {
	useTempXDG(t)
	p, err := OpenProfile("https://a.example", "https://a.example/")
	if err != nil {
		t.Fatal(err)
	}
	local, _ := policy.ParseHost("127.0.0.1")
	if err := newGrantStore(p).Remember(policy.Request{Origin: p.Origin, Protocol: policy.UDP, Mode: policy.Bind,
		Host: local, Port: 0, Addresses: []netip.Addr{local.IP}}); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, int) {
		var out bytes.Buffer
		code := Main(args, &out, &out)
		return out.String(), code
	}
	if out, code := run("grants", "list"); code != 0 || !strings.Contains(out, "udp bind\t127.0.0.1:0") {
		t.Fatalf("grants list: %d %s", code, out)
	}
	if out, code := run("grants", "revoke", "https://a.example/", "127.0.0.1:0"); code == 0 {
		t.Fatalf("revoking a tcp connection removed the bind grant: %s", out)
	}
	if out, code := run("grants", "revoke", "https://a.example/", "127.0.0.1:0", "--bind", "--listen"); code != 2 {
		t.Fatalf("two kinds: %d %s", code, out)
	}
	if out, code := run("grants", "revoke", "https://a.example/", "127.0.0.1:0", "--bind"); code != 0 {
		t.Fatalf("grants revoke --bind: %d %s", code, out)
	}
	if out, _ := run("grants", "list"); !strings.Contains(out, "no remembered connections") {
		t.Fatalf("the grant is still listed: %s", out)
	}
}

func TestCommandLineErrors(t *testing.T) {
	useTempXDG(t)
	// No test sends DNS queries off the machine: every name is unknown here.
	saved := lookupHost
	lookupHost = func(context.Context, string) ([]string, error) { return nil, errors.New("no such host") }
	t.Cleanup(func() { lookupHost = saved })
	cases := map[string][]string{
		"unknown command":   {"frobnicate"},
		"open without url":  {"open"},
		"open http":         {"open", "http://example.com/"},
		"open malformed":    {"open", "https://exa mple.com/"},
		"open unknown host": {"open", "https://no-such-host.invalid/"},
		"profile missing":   {"--profile", "nobody"},
		"profile no name":   {"--profile"},
	}
	for name, args := range cases {
		var out, errOut bytes.Buffer
		code := Main(args, &out, &errOut)
		if code == 0 || !strings.HasPrefix(errOut.String(), "socketeer: ") {
			t.Errorf("%s: code %d, stderr %q", name, code, errOut.String())
		}
	}
	var out bytes.Buffer
	if Main([]string{"--help"}, &out, &out) != 0 || !strings.Contains(out.String(), "socketeer open") {
		t.Errorf("--help: %s", out.String())
	}
	out.Reset()
	if Main([]string{"version"}, &out, &out) != 0 || !strings.HasPrefix(out.String(), "socketeer ") {
		t.Errorf("version: %s", out.String())
	}
}

func TestArmDelayCanOnlyGrow(t *testing.T) {
	for env, want := range map[string]time.Duration{"": minArmDelay, "0": minArmDelay, "-5": minArmDelay, "100": minArmDelay, "x": minArmDelay, "5000": 5 * time.Second} {
		if got := dialogArmDelay(env); got != want {
			t.Errorf("dialogArmDelay(%q) = %v, want %v", env, got, want)
		}
	}
}

// TestAuditLogIsCapped floods the audit log as a hostile page could and checks that it rotates and
// stays within its bound, with every line valid JSON.
func TestAuditLogIsCapped(t *testing.T) {
	dir := t.TempDir()
	a := newAuditLog(dir)
	rec := bindings.AuditRecord{Origin: "https://app.example", Protocol: "tcp", Mode: "connect",
		Host: strings.Repeat("h", 200), Port: 9, Verdict: "deny", Reason: "port-443"}
	for i := 0; i < 20000; i++ {
		a.Record(rec)
	}
	var total int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fi, _ := e.Info()
		total += fi.Size()
		if fi.Size() > auditMaxBytes {
			t.Errorf("%s is %d bytes, over the cap", e.Name(), fi.Size())
		}
	}
	if len(entries) != auditKeep+1 || total > (auditKeep+1)*auditMaxBytes {
		t.Errorf("%d files, %d bytes in all", len(entries), total)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "audit.log"))
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil || v["reason"] != "port-443" || v["time"] == nil {
			t.Fatalf("bad audit line %q: %v", line, err)
		}
	}
}

func TestEnterprisePolicyMergesAndFailsClosed(t *testing.T) {
	dir := t.TempDir()
	if e, err := loadEnterprise(dir); err != nil || e.Disabled() || !e.IsZero() {
		t.Fatalf("no files: %v %+v", err, e)
	}
	os.MkdirAll(filepath.Join(dir, "policy.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "policy.json"), []byte(`{"allowPort443": true, "promptTimeoutSeconds": 30}`), 0o644)
	os.WriteFile(filepath.Join(dir, "policy.d", "10-tighter.json"), []byte(`{"allowPort443": false, "promptTimeoutSeconds": 10}`), 0o644)
	e, err := loadEnterprise(dir)
	if err != nil || e.Config().AllowPort443 || e.PromptTimeoutSeconds() != 10 {
		t.Fatalf("merge: %v allow443=%v timeout=%d", err, e.Config().AllowPort443, e.PromptTimeoutSeconds())
	}
	os.WriteFile(filepath.Join(dir, "policy.d", "20-broken.json"), []byte(`{"alowPort443": true}`), 0o644)
	e, err = loadEnterprise(dir)
	if err == nil || !e.Disabled() || !strings.Contains(err.Error(), "20-broken.json") {
		t.Fatalf("a bad file must disable the API and be named: %v disabled=%v", err, e.Disabled())
	}
}

// TestDamagedGrantsFileIsMovedAside: a damaged grants file is reported and kept for the user, never
// silently dropped, and no grant applies until it is fixed (the site asks again).
func TestDamagedGrantsFileIsMovedAside(t *testing.T) {
	useTempXDG(t)
	p, err := OpenProfile("https://dev.example", "https://dev.example/")
	if err != nil {
		t.Fatal(err)
	}
	store := newGrantStore(p)
	req := printerRequest(p.Origin, 9100)
	if err := store.Remember(req); err != nil {
		t.Fatal(err)
	}
	if !store.Granted(req) {
		t.Fatal("the grant was not remembered")
	}
	withTLS := req
	withTLS.TLS = true
	if store.Granted(withTLS) {
		t.Fatal("a plaintext grant covered TLS")
	}
	os.WriteFile(store.path(), []byte(`{"version": 1, "grants": [{"origin": "https://dev.example"`), 0o600)
	if store.Granted(req) {
		t.Fatal("a damaged file still granted")
	}
	aside, _ := filepath.Glob(store.path() + ".damaged-*")
	if len(aside) != 1 {
		t.Fatalf("the damaged file was not kept: %v", aside)
	}
	if _, err := os.Stat(store.path()); !os.IsNotExist(err) {
		t.Fatalf("the damaged file is still in place: %v", err)
	}
	var out bytes.Buffer
	if code := Main([]string{"grants", "list"}, &out, &out); code != 0 || !strings.Contains(out.String(), "no remembered connections") {
		t.Fatalf("grants list after the damage: %d %s", code, out.String())
	}
}

// TestREADMEPolicyExampleParses keeps the documented policy example valid.
func TestREADMEPolicyExampleParses(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README has no policy example")
	}
	if _, err := policy.ParseEnterpriseFile("README.md", []byte(example)); err != nil {
		t.Fatalf("the README's policy example does not parse: %v", err)
	}
}

// TestGrantWritesDoNotInterleave: two writers (two site windows, or a window and the command line,
// each with its own store and file lock) remembering grants at once lose none of them.
func TestGrantWritesDoNotInterleave(t *testing.T) {
	useTempXDG(t)
	p, err := OpenProfile("https://dev.example", "https://dev.example/")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		store := newGrantStore(p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				if err := store.Remember(printerRequest(p.Origin, 1000+w*100+i)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	g, err := newGrantStore(p).load()
	if err != nil || len(g.ForOrigin(p.Origin)) != 80 {
		t.Fatalf("after 80 concurrent grants the file holds %d (%v)", len(g.ForOrigin(p.Origin)), err)
	}
}

// TestPromptLine: one prompt shows, one waits, the third is refused at once; a waiting request that
// goes away frees its place; when the shown prompt ends, the waiting one shows.
func TestPromptLine(t *testing.T) {
	l := newPromptLine()
	first, err := l.enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 1)
	secondDone := make(chan func(), 1)
	go func() {
		done, err := l.enter(context.Background())
		waiting <- err
		secondDone <- done
	}()
	// The second request takes the waiting place; until then a third may still get it.
	deadline := time.Now().Add(10 * time.Second)
	for len(l.places) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the second request never took its place")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := l.enter(context.Background()); err != errPromptBusy {
		t.Fatalf("a third request: %v, want errPromptBusy", err)
	}
	first()
	if err := <-waiting; err != nil {
		t.Fatalf("the waiting request: %v", err)
	}
	(<-secondDone)()

	// A waiting request whose page goes away frees its place.
	first, err = l.enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() { _, err := l.enter(ctx); gone <- err }()
	for len(l.places) < 2 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-gone; err != context.Canceled {
		t.Fatalf("a withdrawn request: %v", err)
	}
	if n := len(l.places); n != 1 {
		t.Fatalf("after the withdrawal %d places are taken, want 1 (the prompt showing)", n)
	}
	first()
}

// printerRequest is a plaintext TCP connection from origin to printer.internal:port.
func printerRequest(origin string, port int) policy.Request {
	h, _ := policy.ParseHost("printer.internal")
	return policy.Request{Origin: origin, Protocol: policy.TCP, Mode: policy.Connect, Host: h, Port: port}
}
