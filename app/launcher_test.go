package app

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"socketeer/bindings"
	"socketeer/policy"
)

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{R: uint8(x), G: 100, B: uint8(y), A: 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestIconsAreReencoded checks that a site's icon is decoded and drawn again: markup or a script
// posing as an icon is refused, a real image comes out as a fresh square PNG, and bytes appended to a
// valid image (a polyglot file) do not survive.
func TestIconsAreReencoded(t *testing.T) {
	for _, bad := range [][]byte{
		[]byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`),
		[]byte("<script>alert(1)</script>"),
		{},
		testPNG(t, 4, 4)[:40],
	} {
		if _, err := reencodeIcon(bad); err == nil {
			t.Errorf("%q was accepted as an icon", bad)
		}
	}
	poly := append(testPNG(t, 300, 150), []byte("<html><script>alert(1)</script>")...)
	out, err := reencodeIcon(poly)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("script")) {
		t.Error("bytes after the image survived re-encoding")
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil || img.Bounds().Dx() != iconSize || img.Bounds().Dy() != iconSize {
		t.Fatalf("re-encoded icon: %v %v", img.Bounds(), err)
	}
	// A wide image is centred: the top rows are transparent, the middle is not.
	if _, _, _, a := img.At(iconSize/2, 2).RGBA(); a != 0 {
		t.Error("a wide icon was stretched")
	}
	if _, _, _, a := img.At(iconSize/2, iconSize/2).RGBA(); a == 0 {
		t.Error("the icon lost its picture")
	}
}

// siteWith serves a fake site over HTTPS on loopback.
func siteWith(t *testing.T, files map[string]string) (*httptest.Server, siteURL, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	}))
	// The first fetch fails its handshake on purpose (the certificate is not pinned yet).
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	target, err := parseSiteURL(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	return srv, target, fingerprint(srv.Certificate().Raw)
}

// TestSiteInfoFromManifest reads a site's name and icon from its manifest: a name that is markup
// stays text (the page shows it as text), an icon that is not an image is skipped for the next
// one, icons on other origins are never fetched, and an untrusted certificate is reported with its
// fingerprint until the user pins it.
func TestSiteInfoFromManifest(t *testing.T) {
	var otherHits int
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { otherHits++ }))
	defer other.Close()
	icon := string(testPNG(t, 64, 64))
	_, target, sha := siteWith(t, map[string]string{
		"/": `<!doctype html><html><head><title>Page title</title><link rel="manifest" href="/app.webmanifest">` +
			`<link rel="icon" href="/fallback.png"></head><body>hi</body></html>`,
		"/app.webmanifest": `{"name": "<img src=x onerror=alert(1)>\u202eevil\n", "icons": [` +
			`{"src": "` + other.URL + `/big.png", "sizes": "256x256"},` +
			`{"src": "/notanimage.png", "sizes": "192x192", "type": "image/png"},` +
			`{"src": "/icon.svg", "sizes": "any", "type": "image/svg+xml"}]}`,
		"/notanimage.png": "<html>not an image</html>",
		"/fallback.png":   icon,
	})
	_, err := fetchSiteInfo(context.Background(), target, nil)
	var ue *untrustedCertError
	if !errors.As(err, &ue) || ue.SHA256 != sha {
		t.Fatalf("untrusted certificate: %v", err)
	}
	info, err := fetchSiteInfo(context.Background(), target, []Pin{{Host: target.Host, SHA256: sha}})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "<img src=x onerror=alert(1)>evil" {
		t.Errorf("name %q", info.Name)
	}
	if len(info.Icon) == 0 {
		t.Fatal("no icon")
	}
	if _, err := png.Decode(bytes.NewReader(info.Icon)); err != nil {
		t.Errorf("icon: %v", err)
	}
	if otherHits != 0 {
		t.Errorf("the launcher fetched an icon from another origin %d times", otherHits)
	}
	// A pin for another host does not help.
	if _, err := fetchSiteInfo(context.Background(), target, []Pin{{Host: "elsewhere", SHA256: sha}}); !errors.As(err, &ue) {
		t.Errorf("a pin for another host was accepted: %v", err)
	}
}

// TestSiteInfoFallbacks: without a manifest the page's title names the site and /favicon.ico (an
// icon file holding a PNG) gives the icon.
func TestSiteInfoFallbacks(t *testing.T) {
	p := testPNG(t, 32, 32)
	ico := []byte{0, 0, 1, 0, 1, 0, 32, 32, 0, 0, 1, 0, 32, 0}
	ico = append(ico, byte(len(p)), byte(len(p)>>8), byte(len(p)>>16), 0, 22, 0, 0, 0)
	ico = append(ico, p...)
	_, target, sha := siteWith(t, map[string]string{
		"/":            `<html><head><title> Router admin </title></head></html>`,
		"/favicon.ico": string(ico),
	})
	info, err := fetchSiteInfo(context.Background(), target, []Pin{{Host: target.Host, SHA256: sha}})
	if err != nil || info.Name != "Router admin" || len(info.Icon) == 0 {
		t.Fatalf("%q %d %v", info.Name, len(info.Icon), err)
	}
}

// TestDesktopEntry checks the entry's keys, and that a hostile name cannot add lines.
func TestDesktopEntry(t *testing.T) {
	useTempXDG(t)
	p, err := OpenProfile("https://dev.example:8443", "https://dev.example:8443/")
	if err != nil {
		t.Fatal(err)
	}
	p.Name = "Router\nExec=rm -rf ~\r\tX"
	got := desktopEntry(p, "/opt/My Apps/socket%eer", "/icons/x.png")
	for _, want := range []string{
		"Name=RouterExec=rm -rf ~X\n",
		`Exec="/opt/My Apps/socket%%eer" --profile dev.example_8443` + "\n",
		"StartupWMClass=socketeer-site-dev.example_8443\n",
		"Icon=/icons/x.png\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("entry lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "\nExec=") != 1 {
		t.Errorf("more than one Exec line:\n%s", got)
	}
	l := newLauncher()
	path, err := l.CreateDesktopEntry(p.ID())
	if err != nil || !hasDesktopEntry(p) {
		t.Fatalf("create: %s %v", path, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("entry mode %v", fi.Mode())
	}
	if err := l.RemoveProfile(p.ID()); err != nil {
		t.Fatal(err)
	}
	if hasDesktopEntry(p) {
		t.Error("removing the profile kept its desktop entry")
	}
}

// TestLauncherProfiles: damaged profile folders are reported (and left alone), removing a profile
// deletes its folders and nothing else, and names are cleaned.
func TestLauncherProfiles(t *testing.T) {
	useTempXDG(t)
	l := newLauncher()
	a, _ := OpenProfile("https://a.example", "https://a.example/")
	b, _ := OpenProfile("https://b.example", "https://b.example/")
	if err := os.WriteFile(b.file(), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	list, err := l.Profiles()
	if err != nil || len(list.Profiles) != 1 || list.Profiles[0].ID != a.ID() || len(list.Problems) != 1 || list.Problems[0].ID != b.ID() || !strings.Contains(list.Problems[0].Message, "damaged") {
		t.Fatalf("profiles: %+v %v", list, err)
	}
	if _, err := FindProfile(b.ID()); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("--profile of a damaged profile: %v", err)
	}
	if _, err := l.UpdateProfile(a.ID(), "  A\u202e  ", "https://other.example/"); err == nil {
		t.Error("a start page on another site was accepted")
	}
	info, err := l.UpdateProfile(a.ID(), "  A\u202e app ", "https://a.example/start")
	if err != nil || info.Name != "A app" || info.StartURL != "https://a.example/start" {
		t.Fatalf("update: %+v %v", info, err)
	}
	if err := os.WriteFile(filepath.Join(a.DataDir(), "data"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.RemoveProfile(a.ID()); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{a.ConfigDir(), a.DataDir(), a.CacheDir()} {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived removal", d)
		}
	}
	if _, err := os.Stat(b.ConfigDir()); err != nil {
		t.Errorf("the damaged profile was touched: %v", err)
	}
	if err := l.RemoveProfile("nope"); !errors.Is(err, ErrNoProfile) {
		t.Errorf("removing a missing profile: %v", err)
	}
}

// TestLauncherPermissionsAndAudit: the permissions page lists and revokes grants; the inspector shows
// the profile's own recent decisions, newest first, and no other site's.
func TestLauncherPermissionsAndAudit(t *testing.T) {
	useTempXDG(t)
	l := newLauncher()
	p, _ := OpenProfile("https://a.example", "https://a.example/")
	host, _ := policy.ParseHost("192.168.1.20")
	req := policy.Request{Origin: p.Origin, Protocol: policy.TCP, Mode: policy.Connect, Host: host, Port: 23}
	if err := newGrantStore(p).Remember(req); err != nil {
		t.Fatal(err)
	}
	perms, err := l.Permissions(p.ID())
	if err != nil || len(perms.Grants) != 1 || perms.Grants[0].Host != "192.168.1.20" || perms.Grants[0].Port != 23 {
		t.Fatalf("permissions: %+v %v", perms, err)
	}
	if err := l.RevokeGrant(p.ID(), perms.Grants[0]); err != nil {
		t.Fatal(err)
	}
	if newGrantStore(p).Granted(req) {
		t.Error("the revoked grant still applies")
	}
	if err := l.RevokeGrant(p.ID(), perms.Grants[0]); err == nil {
		t.Error("revoking twice succeeded")
	}
	audit := newAuditLog(filepath.Join(os.Getenv("XDG_STATE_HOME"), "socketeer"))
	audit.Record(bindings.AuditRecord{Origin: p.Origin, Protocol: "tcp", Host: "192.168.1.20", Port: 23, Verdict: "ask", Reason: "needs-consent-local", Answer: "deny"})
	audit.Record(bindings.AuditRecord{Origin: "https://b.example", Protocol: "tcp", Host: "10.0.0.1", Port: 22, Verdict: "allow", Reason: "granted"})
	audit.Record(bindings.AuditRecord{Origin: p.Origin, Protocol: "tcp", Host: "192.168.1.20", Port: 23, Verdict: "ask", Reason: "needs-consent-local", Answer: "allow", Remember: true})
	ins, err := l.Inspect(p.ID())
	if err != nil || ins.Running || len(ins.Sockets) != 0 || len(ins.Decisions) != 2 {
		t.Fatalf("inspect: %+v %v", ins, err)
	}
	if d := ins.Decisions[0]; d.Outcome != "allowed" || d.Destination != "192.168.1.20:23" || !strings.Contains(d.Summary, "remember") {
		t.Errorf("newest decision: %+v", d)
	}
	if d := ins.Decisions[1]; d.Outcome != "refused" || d.Summary != "You denied it" || d.Why == "" {
		t.Errorf("older decision: %+v", d)
	}
	if err := l.CloseSocket(p.ID(), 1); err == nil {
		t.Error("closing a socket of a profile that is not open succeeded")
	}
}

// TestLauncherCSP checks the launcher's pages get the strict policy.
func TestLauncherCSP(t *testing.T) {
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'"} {
		if !strings.Contains(launcherCSP, want) {
			t.Errorf("CSP lacks %s", want)
		}
	}
	if strings.Contains(launcherCSP, "unsafe") || strings.Contains(launcherCSP, "http") {
		t.Errorf("CSP allows too much: %s", launcherCSP)
	}
}

// TestLauncherChooseIcon: an icon the user picks is re-encoded like a site's; a file that is not an
// image is refused and the old icon kept.
func TestLauncherChooseIcon(t *testing.T) {
	useTempXDG(t)
	p, _ := OpenProfile("https://a.example", "https://a.example/")
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.png"), filepath.Join(dir, "bad.png")
	os.WriteFile(good, testPNG(t, 40, 40), 0o600)
	os.WriteFile(bad, []byte("<svg onload=alert(1)>"), 0o600)
	l := newLauncher()
	if _, err := l.ChooseIcon(p.ID()); err == nil {
		t.Error("choosing without a file chooser succeeded")
	}
	l.pickFile = func() (string, error) { return good, nil }
	info, err := l.ChooseIcon(p.ID())
	if err != nil || !strings.HasPrefix(info.Icon, "data:image/png;base64,") {
		t.Fatalf("good icon: %v", err)
	}
	before, _ := os.ReadFile(p.iconPath())
	l.pickFile = func() (string, error) { return bad, nil }
	if _, err := l.ChooseIcon(p.ID()); !errors.Is(err, errNotImage) {
		t.Errorf("bad icon: %v", err)
	}
	if after, _ := os.ReadFile(p.iconPath()); !bytes.Equal(before, after) {
		t.Error("a refused icon replaced the old one")
	}
	l.pickFile = func() (string, error) { return "", nil }
	if _, err := l.ChooseIcon(p.ID()); err != nil {
		t.Errorf("cancelling the chooser: %v", err)
	}
}
