package policy

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

const created = "2025-01-02T03:04:05Z"

func sampleGrants() []Grant {
	return []Grant{
		{Origin: "https://b.example", Protocol: UDP, Mode: Bind, Host: "0.0.0.0", Port: 5353, Created: created},
		{Origin: "https://a.example:8443", Protocol: TCP, Mode: Connect, Host: "printer.local", Port: 9100, Created: created},
		{Origin: "https://a.example:8443", Protocol: TCP, Mode: Connect, Host: "mail.example", Port: 993, TLS: true, Created: created},
		{Origin: "https://a.example:8443", Protocol: TCP, Mode: Connect, Host: "mail.example", Port: 993, Created: ""},
		{Origin: "https://[::1]:8443", Protocol: TCP, Mode: Listen, Host: "::1", Port: 40000, Created: "2025-06-01T12:00:00+02:00"},
		{Origin: "https://a.example:8443", Protocol: UDP, Mode: Connect, Host: "xn--bcher-kva.example", Port: 53, Created: created},
	}
}

func TestGrantsEncodeIsStable(t *testing.T) {
	var g Grants
	for _, gr := range sampleGrants() {
		if !g.Add(gr) {
			t.Fatalf("Add(%+v) = false", gr)
		}
	}
	enc := g.Encode()
	if !bytes.HasSuffix(enc, []byte("}\n")) || !bytes.Contains(enc, []byte("\n  \"grants\": [\n    {\n")) {
		t.Fatalf("Encode is not indented JSON with a trailing newline:\n%s", enc)
	}
	// Insertion order must not matter.
	var rev Grants
	s := sampleGrants()
	for i := len(s) - 1; i >= 0; i-- {
		rev.Add(s[i])
	}
	if !bytes.Equal(rev.Encode(), enc) {
		t.Fatalf("Encode depends on insertion order:\n%s\nvs\n%s", rev.Encode(), enc)
	}
	parsed, err := ParseGrants(enc)
	if err != nil {
		t.Fatalf("ParseGrants(Encode()) error: %v\n%s", err, enc)
	}
	if !bytes.Equal(parsed.Encode(), enc) {
		t.Fatalf("Encode -> ParseGrants -> Encode changed the bytes")
	}
	want := append([]Grant(nil), g.Grants...)
	sortGrants(want)
	if parsed.Version != GrantsVersion || !reflect.DeepEqual(parsed.Grants, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", parsed.Grants, want)
	}
	// The documented sort order: origin, protocol, mode, host, port, tls (plaintext first).
	order := []string{"https://[::1]:8443", "https://a.example:8443", "https://a.example:8443",
		"https://a.example:8443", "https://a.example:8443", "https://b.example"}
	for i, gr := range parsed.Grants {
		if gr.Origin != order[i] {
			t.Fatalf("grant %d origin %q, want %q", i, gr.Origin, order[i])
		}
	}
	if p := parsed.Grants; p[1].Host != "mail.example" || p[1].TLS || !p[2].TLS || p[3].Host != "printer.local" || p[4].Protocol != UDP {
		t.Fatalf("grants not sorted by protocol, host and tls: %+v", p)
	}
}

func TestGrantsEncodeEmpty(t *testing.T) {
	enc := Grants{}.Encode()
	want := "{\n  \"version\": 1,\n  \"grants\": []\n}\n"
	if string(enc) != want {
		t.Fatalf("empty Encode = %q, want %q", enc, want)
	}
	g, err := ParseGrants(enc)
	if err != nil || len(g.Grants) != 0 || g.Version != GrantsVersion {
		t.Fatalf("ParseGrants(empty encode) = %+v, %v", g, err)
	}
}

func TestGrantsEncodeLeavesOutManaged(t *testing.T) {
	g := Grants{Grants: []Grant{
		{Origin: "https://a.example", Protocol: TCP, Mode: Connect, Host: "db.corp.example", Port: 5432, Managed: true},
		{Origin: "https://a.example", Protocol: TCP, Mode: Connect, Host: "mine.example", Port: 7, Created: created},
	}}
	enc := g.Encode()
	if bytes.Contains(enc, []byte("db.corp.example")) || bytes.Contains(enc, []byte("anaged")) {
		t.Fatalf("a managed grant was stored:\n%s", enc)
	}
	p, err := ParseGrants(enc)
	if err != nil || len(p.Grants) != 1 || p.Grants[0].Host != "mine.example" {
		t.Fatalf("ParseGrants = %+v, %v", p, err)
	}
}

// validFile is a one-grant file; the rejection table below edits it.
const validFile = `{
  "version": 1,
  "grants": [
    {
      "origin": "https://a.example",
      "protocol": "tcp",
      "mode": "connect",
      "host": "echo.example",
      "port": 7,
      "tls": false,
      "created": "2025-01-02T03:04:05Z"
    }
  ]
}
`

func TestParseGrantsAcceptsValidFile(t *testing.T) {
	g, err := ParseGrants([]byte(validFile))
	if err != nil {
		t.Fatal(err)
	}
	want := Grant{Origin: "https://a.example", Protocol: TCP, Mode: Connect, Host: "echo.example", Port: 7, Created: created}
	if len(g.Grants) != 1 || g.Grants[0] != want {
		t.Fatalf("ParseGrants = %+v", g)
	}
	if !bytes.Equal(g.Encode(), []byte(validFile)) {
		t.Fatalf("Encode of the hand-written file differs:\n%s", g.Encode())
	}
}

func TestParseGrantsRejects(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(validFile, old) {
			panic("test edit does not apply: " + old)
		}
		return strings.Replace(validFile, old, new, 1)
	}
	second := `,
    {
      "origin": "https://a.example",
      "protocol": "tcp",
      "mode": "connect",
      "host": "echo.example",
      "port": 7,
      "tls": %s,
      "created": ""
    }
  ]`
	withSecond := func(tls string) string { return edit("}\n  ]", "}"+strings.Replace(second, "%s", tls, 1)) }
	tests := []struct {
		name, in string
		want     string // substring of the error
	}{
		{"empty", "", "empty"},
		{"whitespace only", " \n\t", "empty"},
		{"null", "null", "JSON object"},
		{"array", "[]", "JSON object"},
		{"string", `"x"`, "JSON object"},
		{"truncated", validFile[:len(validFile)/2], "truncated"},
		{"bad json", edit(`"port": 7,`, `"port": 7,,`), "line 9, column 17"},
		{"trailing garbage", validFile + "x", "after the JSON object"},
		{"second object", validFile + "{}", "after the JSON object"},
		{"stray closing brace", validFile + "}", "after the JSON object"},
		{"byte order mark", "\ufeff" + validFile, "invalid JSON"},
		{"unknown top-level key", edit(`"version": 1,`, `"version": 1, "extra": true,`), `unknown key "extra"`},
		{"unknown grant key", edit(`"port": 7,`, `"port": 7, "expires": "never",`), `unknown key "expires"`},
		{"known key in the wrong place", edit(`"version": 1,`, `"version": 1, "tls": true,`), `unknown key "tls"`},
		{"key in other case", edit(`"version"`, `"Version"`), `unknown key "Version"`},
		{"duplicate key", edit(`"tls": false,`, `"tls": false, "tls": true,`), "appears twice"},
		{"null value", edit(`"tls": false`, `"tls": null`), "null"},
		{"missing version", edit(`"version": 1,`, ``), "no \"version\""},
		{"version 2", edit(`"version": 1`, `"version": 2`), "version 2 is not supported"},
		{"version 0", edit(`"version": 1`, `"version": 0`), "version 0 is not supported"},
		{"version as string", edit(`"version": 1`, `"version": "1"`), `"version" must be a whole number`},
		{"missing grants", `{"version": 1}`, "no \"grants\""},
		{"grants not a list", `{"version": 1, "grants": {}}`, "must be a list"},
		{"missing tls", edit(`"tls": false,`, ``), `grant 0: the "tls" field is missing`},
		{"missing created", edit(`,
      "created": "2025-01-02T03:04:05Z"`, ``), `grant 0: the "created" field is missing`},
		{"missing origin", edit(`"origin": "https://a.example",`, ``), `"origin" field is missing`},
		{"http origin", edit(`https://a.example`, `http://a.example`), "grant 0: origin"},
		{"uncanonical origin", edit(`https://a.example`, `https://A.example:443`), "canonical"},
		{"origin with path", edit(`https://a.example`, `https://a.example/`), "not a valid https origin"},
		{"uncanonical host", edit(`echo.example`, `Echo.Example.`), "canonical"},
		{"legacy ipv4 host", edit(`echo.example`, `0x7f.1`), `should read "127.0.0.1"`},
		{"unicode host", edit(`echo.example`, `bücher.example`), "canonical"},
		{"wildcard host", edit(`echo.example`, `*.example`), "not a valid host"},
		{"port 0", edit(`"port": 7`, `"port": 0`), "port 0"},
		{"port 65536", edit(`"port": 7`, `"port": 65536`), "port 65536"},
		{"negative port", edit(`"port": 7`, `"port": -7`), "port -7"},
		{"fractional port", edit(`"port": 7`, `"port": 7.5`), "whole number"},
		{"port as string", edit(`"port": 7`, `"port": "7"`), "whole number"},
		{"unknown protocol", edit(`"tcp"`, `"sctp"`), "not a supported kind of socket"},
		{"uppercase protocol", edit(`"tcp"`, `"TCP"`), "not a supported kind of socket"},
		{"tcp bind", edit(`"connect"`, `"bind"`), "not a supported kind of socket"},
		{"listen on a name", edit(`"connect"`, `"listen"`), "must name an IP address"},
		{"tls as string", edit(`"tls": false`, `"tls": "false"`), "true or false"},
		{"bad created", edit(created, "yesterday"), "RFC 3339"},
		{"created with control characters", edit(created, `2025-01-02T03:04:05Z\u001b[2J`), "RFC 3339"},
		{"duplicate grant", withSecond("false"), "grant 1: repeats grant 0"},
		{"deep nesting", strings.Repeat("[", 100000), "JSON object"},
		{"deep nesting inside", `{"version": 1, "grants": [[[[[[[[[[[[]]]]]]]]]]]]}`, "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := ParseGrants([]byte(tt.in))
			if err == nil {
				t.Fatalf("ParseGrants accepted it: %+v", g)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "json:") || strings.Contains(err.Error(), "policy.") {
				t.Errorf("error %q leaks Go internals", err)
			}
		})
	}
	// A plaintext grant and a TLS grant for the same destination are two grants, not a duplicate.
	if g, err := ParseGrants([]byte(withSecond("true"))); err != nil || len(g.Grants) != 2 {
		t.Fatalf("plaintext and TLS grants side by side: %+v, %v", g, err)
	}
}

// TestParseGrantsRejectsEveryTruncation: a write cut short at any byte must never parse as a
// smaller set of grants.
func TestParseGrantsRejectsEveryTruncation(t *testing.T) {
	var g Grants
	for _, gr := range sampleGrants() {
		g.Add(gr)
	}
	enc := g.Encode()
	full := bytes.TrimRight(enc, "\n")
	for n := 0; n < len(full); n++ {
		if got, err := ParseGrants(enc[:n]); err == nil {
			t.Fatalf("prefix of %d bytes parsed: %+v", n, got)
		}
	}
}

func TestGrantsFind(t *testing.T) {
	var g Grants
	base := Grant{Origin: "https://a.example", Protocol: TCP, Mode: Connect, Host: "mail.example", Port: 143, Created: created}
	if !g.Add(base) {
		t.Fatal("Add failed")
	}
	find := func(gr Grant) bool {
		_, ok := g.Find(gr.Origin, gr.Protocol, gr.Mode, gr.Host, gr.Port, gr.TLS)
		return ok
	}
	if got, ok := g.Find(base.Origin, base.Protocol, base.Mode, base.Host, base.Port, base.TLS); !ok || got != base {
		t.Fatalf("Find(exact) = %+v, %v", got, ok)
	}
	misses := map[string]func(*Grant){
		"plaintext grant does not cover tls": func(gr *Grant) { gr.TLS = true },
		"other origin":                       func(gr *Grant) { gr.Origin = "https://b.example" },
		"other port on the origin":           func(gr *Grant) { gr.Origin = "https://a.example:8443" },
		"uncanonical origin":                 func(gr *Grant) { gr.Origin = "https://A.example:443" },
		"other protocol":                     func(gr *Grant) { gr.Protocol = UDP },
		"other mode":                         func(gr *Grant) { gr.Mode = Listen },
		"other host":                         func(gr *Grant) { gr.Host = "evil.example" },
		"subdomain":                          func(gr *Grant) { gr.Host = "x.mail.example" },
		"uncanonical host":                   func(gr *Grant) { gr.Host = "MAIL.example" },
		"other port":                         func(gr *Grant) { gr.Port = 993 },
	}
	for name, mod := range misses {
		gr := base
		mod(&gr)
		if find(gr) {
			t.Errorf("%s: Find matched", name)
		}
	}
	// And the reverse: a TLS grant does not cover plaintext.
	var tg Grants
	tlsGrant := base
	tlsGrant.TLS = true
	tg.Add(tlsGrant)
	if _, ok := tg.Find(base.Origin, base.Protocol, base.Mode, base.Host, base.Port, false); ok {
		t.Error("a TLS grant covered plaintext")
	}
}

func TestGrantsAddRemoveForOrigin(t *testing.T) {
	var g Grants
	a := Grant{Origin: "https://a.example", Protocol: TCP, Mode: Connect, Host: "z.example", Port: 7, Created: created}
	b := Grant{Origin: "https://a.example", Protocol: TCP, Mode: Connect, Host: "b.example", Port: 7}
	c := Grant{Origin: "https://c.example", Protocol: UDP, Mode: Connect, Host: "b.example", Port: 53}
	for _, gr := range []Grant{a, b, c} {
		if !g.Add(gr) {
			t.Fatalf("Add(%+v) = false", gr)
		}
	}
	if g.Version != GrantsVersion {
		t.Errorf("Add on a zero Grants left Version %d", g.Version)
	}
	dup := a
	dup.Created = "2030-01-01T00:00:00Z"
	if g.Add(dup) {
		t.Error("Add accepted a grant whose keys already exist")
	}
	invalid := map[string]Grant{
		"uncanonical origin": {Origin: "https://A.example", Protocol: TCP, Mode: Connect, Host: "x.example", Port: 7},
		"port 0":             {Origin: "https://a.example", Protocol: TCP, Mode: Connect, Host: "x.example", Port: 0},
		"udp connect port 0": {Origin: "https://a.example", Protocol: UDP, Mode: Connect, Host: "127.0.0.1", Port: 0},
		"bad shape":          {Origin: "https://a.example", Protocol: TCP, Mode: Bind, Host: "127.0.0.1", Port: 7},
		"managed":            {Origin: "https://a.example", Protocol: TCP, Mode: Connect, Host: "x.example", Port: 7, Managed: true},
	}
	for name, gr := range invalid {
		if g.Add(gr) {
			t.Errorf("Add accepted an invalid grant (%s)", name)
		}
	}
	if len(g.Grants) != 3 {
		t.Fatalf("have %d grants, want 3", len(g.Grants))
	}
	// A serving socket's "any port the system chooses" is a grant of its own.
	anyPort := Grant{Origin: "https://a.example", Protocol: UDP, Mode: Bind, Host: "127.0.0.1", Port: 0}
	if err := anyPort.Validate(); err != nil {
		t.Errorf("bind grant for port 0: %v", err)
	}
	got := g.ForOrigin("https://a.example")
	if len(got) != 2 || got[0].Host != "b.example" || got[1].Host != "z.example" {
		t.Fatalf("ForOrigin = %+v", got)
	}
	got[0].Host = "mutated.example"
	if _, ok := g.Find(b.Origin, b.Protocol, b.Mode, "b.example", b.Port, b.TLS); !ok {
		t.Fatal("ForOrigin returned the store's own slice")
	}
	if len(g.ForOrigin("https://nobody.example")) != 0 {
		t.Error("ForOrigin of an unknown origin is not empty")
	}
	if g.Remove(a.Origin, a.Protocol, a.Mode, a.Host, a.Port, true) {
		t.Error("Remove with the wrong TLS flag removed something")
	}
	if !g.Remove(a.Origin, a.Protocol, a.Mode, a.Host, a.Port, a.TLS) {
		t.Error("Remove of an existing grant returned false")
	}
	if g.Remove(a.Origin, a.Protocol, a.Mode, a.Host, a.Port, a.TLS) {
		t.Error("second Remove returned true")
	}
	if len(g.Grants) != 2 {
		t.Fatalf("have %d grants after Remove, want 2", len(g.Grants))
	}
}

func TestNewGrantAndCovers(t *testing.T) {
	h := mustHost(t, "Mail.Example.")
	req := Request{Origin: "https://A.example:443", Protocol: TCP, Mode: Connect, Host: h, Port: 993, TLS: true}
	gr, err := NewGrant(req, created)
	if err != nil {
		t.Fatal(err)
	}
	want := Grant{Origin: "https://a.example", Protocol: TCP, Mode: Connect, Host: "mail.example", Port: 993, TLS: true, Created: created}
	if gr != want {
		t.Fatalf("NewGrant = %+v, want %+v", gr, want)
	}
	var g Grants
	g.Add(gr)
	if !g.Covers(req) {
		t.Fatal("Covers(the request the grant was made from) = false")
	}
	plain := req
	plain.TLS = false
	if g.Covers(plain) {
		t.Fatal("a TLS grant covers the plaintext request")
	}
	insecure := req
	insecure.Origin = "http://a.example"
	if g.Covers(insecure) {
		t.Fatal("Covers matched an http origin")
	}
	if _, err := NewGrant(Request{Origin: "http://a.example", Protocol: TCP, Mode: Connect, Host: h, Port: 7}, ""); err == nil {
		t.Error("NewGrant accepted an http origin")
	}
	if _, err := NewGrant(Request{Origin: "https://a.example", Protocol: TCP, Mode: Connect, Host: h, Port: 7}, "now"); err == nil {
		t.Error("NewGrant accepted a created time that is not RFC 3339")
	}
}

func FuzzParseGrants(f *testing.F) {
	var g Grants
	for _, gr := range sampleGrants() {
		g.Add(gr)
	}
	f.Add(g.Encode())
	f.Add([]byte(validFile))
	f.Add(Grants{}.Encode())
	f.Add([]byte(`{"version":1,"grants":[{"origin":"https://a.example","protocol":"udp","mode":"bind","host":"::","port":1,"tls":true,"created":""}]}`))
	f.Add([]byte(`{"version":1,"grants":[],"Grants":[]}`))
	f.Add([]byte(`{"version":1,"grants":[null]}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := ParseGrants(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if g.Version != GrantsVersion {
			t.Fatalf("parsed version %d", g.Version)
		}
		for i, gr := range g.Grants {
			if err := gr.Validate(); err != nil {
				t.Fatalf("grant %d parsed but does not validate: %v", i, err)
			}
		}
		enc := g.Encode()
		g2, err := ParseGrants(enc)
		if err != nil {
			t.Fatalf("re-parse of Encode failed: %v\n%s", err, enc)
		}
		if !bytes.Equal(g2.Encode(), enc) {
			t.Fatalf("Encode is not stable:\n%s\nvs\n%s", enc, g2.Encode())
		}
		sorted := append([]Grant{}, g.Grants...)
		sortGrants(sorted)
		if len(g2.Grants) != len(sorted) || (len(sorted) > 0 && !reflect.DeepEqual(g2.Grants, sorted)) {
			t.Fatalf("round trip changed the grants:\n%+v\nvs\n%+v", sorted, g2.Grants)
		}
		for _, gr := range g.Grants {
			if _, ok := g2.Find(gr.Origin, gr.Protocol, gr.Mode, gr.Host, gr.Port, gr.TLS); !ok {
				t.Fatalf("grant %+v lost in the round trip", gr)
			}
		}
	})
}
