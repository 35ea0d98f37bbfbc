package policy

import (
	"errors"
	"strings"
	"testing"
)

const (
	pinHex   = "3fa2000000000000000000000000000000000000000000000000000000009c01"
	pinColon = "3F:A2:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:9C:01"
)

func TestEnterpriseCertificatePins(t *testing.T) {
	e := mustEnterprise(t,
		`{"certificatePins": [{"origins": ["https://*.corp.example"], "host": "Printer.Corp.Example.", "sha256": "`+pinColon+`"}]}`,
		`{"certificatePins": [{"origins": ["https://app.example:8443"], "host": "10.0.0.5", "sha256": "`+strings.ToUpper(pinHex)+`"}]}`,
	)
	if e.IsZero() || e.Disabled() {
		t.Fatalf("merged policy %+v", e)
	}
	cases := []struct {
		origin, host, sha string
		want              bool
	}{
		{"https://app.corp.example", "printer.corp.example", pinHex, true},
		{"https://a.b.corp.example:444", "printer.corp.example", pinHex, true},
		{"https://corp.example", "printer.corp.example", pinHex, false},       // the wildcard excludes the apex
		{"https://app.corp.example", "other.corp.example", pinHex, false},     // one host only
		{"https://app.corp.example", "printer.corp.example", "3fa2", false},   // one certificate only
		{"https://app.corp.example", "10.0.0.5", pinHex, false},               // that pin is another site's
		{"https://app.example:8443", "10.0.0.5", pinHex, true},                // from the second file
		{"https://app.example", "10.0.0.5", pinHex, false},                    // the pattern names a port
		{"http://app.example:8443", "10.0.0.5", pinHex, false},                // never for insecure origins
		{"https://app.example:8443", "printer.corp.example", pinHex, false},   // that pin is another site's
		{"https://app.corp.example", "printer.corp.example", pinColon, false}, // callers pass lowercase hex
	}
	for _, c := range cases {
		if got := e.Pinned(c.origin, c.host, c.sha); got != c.want {
			t.Errorf("Pinned(%s, %s, %.8s…) = %v, want %v", c.origin, c.host, c.sha, got, c.want)
		}
	}
	if got := e.PinsFor("https://app.corp.example"); len(got) != 1 || got[0].Host != "printer.corp.example" || got[0].SHA256 != pinHex {
		t.Errorf("PinsFor = %+v", got)
	}
	// A policy that failed to load pins nothing: fail closed.
	bad := MergeEnterprise([]EnterpriseFile{{CertificatePins: []CertPin{{Origins: []string{"https://app.example"}, Host: "h", SHA256: "x"}}}})
	if bad.Pinned("https://app.example", "h", pinHex) || !bad.Disabled() {
		t.Error("an invalid pin file still pins or leaves the API on")
	}
}

func TestEnterpriseCertificatePinsRefused(t *testing.T) {
	pin := func(body string) string { return `{"certificatePins": [` + body + `]}` }
	cases := map[string]string{
		"no origins":       pin(`{"host": "printer.example", "sha256": "` + pinHex + `"}`),
		"empty origins":    pin(`{"origins": [], "host": "printer.example", "sha256": "` + pinHex + `"}`),
		"http origin":      pin(`{"origins": ["http://a.example"], "host": "printer.example", "sha256": "` + pinHex + `"}`),
		"wildcard host":    pin(`{"origins": ["https://a.example"], "host": "*.example", "sha256": "` + pinHex + `"}`),
		"bad host":         pin(`{"origins": ["https://a.example"], "host": "bad host", "sha256": "` + pinHex + `"}`),
		"no host":          pin(`{"origins": ["https://a.example"], "sha256": "` + pinHex + `"}`),
		"short sha":        pin(`{"origins": ["https://a.example"], "host": "p.example", "sha256": "3fa2"}`),
		"no sha":           pin(`{"origins": ["https://a.example"], "host": "p.example"}`),
		"sha with spaces":  pin(`{"origins": ["https://a.example"], "host": "p.example", "sha256": "` + strings.ReplaceAll(pinColon, ":", " ") + `"}`),
		"sha1 length":      pin(`{"origins": ["https://a.example"], "host": "p.example", "sha256": "` + pinHex[:40] + `"}`),
		"sha not hex":      pin(`{"origins": ["https://a.example"], "host": "p.example", "sha256": "` + strings.Repeat("g", 64) + `"}`),
		"hosts, not host":  pin(`{"origins": ["https://a.example"], "hosts": ["p.example"], "sha256": "` + pinHex + `"}`),
		"unknown key":      pin(`{"origins": ["https://a.example"], "host": "p.example", "sha256": "` + pinHex + `", "note": "x"}`),
		"pins not a list":  `{"certificatePins": {"origins": ["https://a.example"], "host": "p.example", "sha256": "` + pinHex + `"}}`,
		"pin keys in rule": `{"blockDestinations": [{"host": "p.example"}]}`,
	}
	for name, src := range cases {
		_, err := ParseEnterpriseFile("pins.json", []byte(src))
		var fe *EnterpriseFileError
		if !errors.As(err, &fe) {
			t.Errorf("%s: ParseEnterpriseFile = %v, want an *EnterpriseFileError", name, err)
		}
	}
}

func TestParseFingerprint(t *testing.T) {
	good := map[string]string{pinHex: pinHex, strings.ToUpper(pinHex): pinHex, pinColon: pinHex, strings.ToLower(pinColon): pinHex}
	for in, want := range good {
		if got, err := ParseFingerprint(in); err != nil || got != want {
			t.Errorf("ParseFingerprint(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", pinHex + "0", pinHex[:63], ":" + pinColon[1:], pinColon[:2] + "::" + pinColon[4:],
		strings.Replace(pinColon, ":", "", 1) + ":", " " + pinHex[1:], "sha256/" + pinHex} {
		if got, err := ParseFingerprint(in); err == nil {
			t.Errorf("ParseFingerprint(%q) accepted %q", in, got)
		}
	}
}

func FuzzParseFingerprint(f *testing.F) {
	f.Add(pinHex)
	f.Add(pinColon)
	f.Add("3f:a2")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFingerprint(s)
		if err != nil {
			return
		}
		if len(got) != 64 || strings.ToLower(got) != got {
			t.Fatalf("ParseFingerprint(%q) = %q", s, got)
		}
		if again, err := ParseFingerprint(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, got, again, err)
		}
	})
}
