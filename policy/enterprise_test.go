package policy

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// mustEnterprise parses and merges policy files given as JSON text.
func mustEnterprise(t *testing.T, files ...string) Enterprise {
	t.Helper()
	var fs []EnterpriseFile
	for i, s := range files {
		f, err := ParseEnterpriseFile("test-"+string(rune('a'+i))+".json", []byte(s))
		if err != nil {
			t.Fatalf("ParseEnterpriseFile: %v", err)
		}
		fs = append(fs, f)
	}
	return MergeEnterprise(fs)
}

func TestParseEnterpriseFileFull(t *testing.T) {
	const src = `{
  "disabled": false,
  "allowOrigins": ["https://app.corp.example", "https://*.tools.corp.example:8443"],
  "blockOrigins": ["https://old.tools.corp.example"],
  "allowDestinations": [{"hosts": ["*.corp.example"], "cidrs": ["10.0.0.0/8", "fd00::/8"]}],
  "blockDestinations": [{"cidrs": ["10.99.0.0/16"], "ports": ["22", "5000-5010"], "protocols": ["tcp"]}],
  "preGrants": [{"origins": ["https://app.corp.example"], "hosts": ["printer.corp.example"], "cidrs": ["10.1.0.0/16"], "ports": ["9100"]}],
  "allowPort443": true,
  "allowPrivate": true,
  "promptTimeoutSeconds": 30
}`
	f, err := ParseEnterpriseFile("/etc/socketeer/policy.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f.Disabled == nil || *f.Disabled || len(f.AllowOrigins) != 2 || f.PromptTimeoutSeconds == nil || *f.PromptTimeoutSeconds != 30 ||
		len(f.PreGrants) != 1 || f.PreGrants[0].Ports[0] != "9100" || f.BlockDestinations[0].Protocols[0] != TCP {
		t.Fatalf("parsed %+v", f)
	}
	e := MergeEnterprise([]EnterpriseFile{f})
	if e.IsZero() || e.Disabled() || e.PromptTimeoutSeconds() != 30 {
		t.Fatalf("merged %+v", e)
	}
	c := e.Config()
	if c.Disabled || !c.AllowPort443 || !c.AllowPrivate || c.Enterprise == nil {
		t.Fatalf("Config() = %+v", c)
	}
	const app = "https://app.corp.example"
	if pg := e.PreGrantsFor(app); len(pg) != 1 || pg[0].Hosts[0] != "printer.corp.example" {
		t.Fatalf("PreGrantsFor() = %+v", pg)
	}
	// PreGrantsFor returns a copy.
	e.PreGrantsFor(app)[0].Hosts[0] = "changed"
	if e.PreGrantsFor(app)[0].Hosts[0] != "printer.corp.example" {
		t.Fatal("PreGrantsFor() exposes internal state")
	}
}

func TestParseEnterpriseFileErrors(t *testing.T) {
	const name = "/etc/socketeer/policy.d/10-corp.json"
	tests := []struct {
		name, in string
		want     string
	}{
		{"empty file", "", "empty"},
		{"bad json", `{"disabled": tru}`, "line 1, column"},
		{"truncated", `{"blockOrigins": ["https://a.example"`, "truncated"},
		{"not an object", `["https://a.example"]`, "JSON object"},
		{"trailing text", `{} {}`, "after the JSON object"},
		{"unknown field", `{"disable": true}`, `unknown key "disable"`},
		{"field in other case", `{"Disabled": true}`, `unknown key "Disabled"`},
		{"field in the wrong place", `{"hosts": ["a.example"]}`, `line 1, column 9: unknown key "hosts"`},
		{"rule field at top of rule list", `{"blockDestinations": [{"allowPort443": true}]}`, `unknown key "allowPort443"`},
		{"duplicate key", `{"disabled": true, "disabled": false}`, "appears twice"},
		{"null", `{"disabled": null}`, "null is not allowed"},
		{"wrong type", `{"disabled": "yes"}`, "true or false"},
		{"ports as numbers", `{"blockDestinations": [{"ports": [22]}]}`, "a string"},
		{"timeout 0", `{"promptTimeoutSeconds": 0}`, "promptTimeoutSeconds is 0"},
		{"timeout 100", `{"promptTimeoutSeconds": 100}`, "promptTimeoutSeconds is 100"},
		{"timeout negative", `{"promptTimeoutSeconds": -5}`, "promptTimeoutSeconds is -5"},
		{"timeout fractional", `{"promptTimeoutSeconds": 1.5}`, "whole number"},
		{"http origin pattern", `{"allowOrigins": ["http://a.example"]}`, `allowOrigins[0]: origin pattern "http://a.example" must start with "https://"`},
		{"origin pattern with path", `{"blockOrigins": ["https://a.example/"]}`, "blockOrigins[0]"},
		{"origin pattern port 0", `{"blockOrigins": ["https://a.example:0"]}`, "blockOrigins[0]"},
		{"origin pattern wildcard in the middle", `{"allowOrigins": ["https://a.*.example"]}`, "allowOrigins[0]"},
		{"origin pattern bare wildcard", `{"allowOrigins": ["https://*"]}`, "allowOrigins[0]"},
		{"origin pattern wildcard on ip", `{"allowOrigins": ["https://*.10.0.0.1"]}`, "wildcard in front of an IP address"},
		{"origin pattern double wildcard", `{"allowOrigins": ["https://*.*.example"]}`, "allowOrigins[0]"},
		{"host pattern with port", `{"blockDestinations": [{"hosts": ["a.example:22"]}]}`, "blockDestinations[0]: hosts[0]"},
		{"host pattern ip", `{"blockDestinations": [{"hosts": ["10.0.0.5"]}]}`, `put addresses in "cidrs"`},
		{"host pattern legacy ip", `{"blockDestinations": [{"hosts": ["0x7f.1"]}]}`, `put addresses in "cidrs"`},
		{"host pattern bare wildcard", `{"blockDestinations": [{"hosts": ["*"]}]}`, "hosts[0]"},
		{"host pattern wildcard suffix", `{"blockDestinations": [{"hosts": ["corp.*"]}]}`, "hosts[0]"},
		{"bad cidr", `{"blockDestinations": [{"cidrs": ["10.0.0.0/33"]}]}`, `cidrs[0]: CIDR "10.0.0.0/33" is not valid`},
		{"cidr with host bits", `{"blockDestinations": [{"cidrs": ["10.1.2.3/8"]}]}`, `write "10.0.0.0/8"`},
		{"cidr garbage", `{"blockDestinations": [{"cidrs": ["corp"]}]}`, "not valid"},
		{"cidr with zone", `{"blockDestinations": [{"cidrs": ["fe80::1%eth0"]}]}`, "not valid"},
		{"cidr mapped", `{"blockDestinations": [{"cidrs": ["::ffff:10.0.0.0/104"]}]}`, "IPv4-mapped"},
		{"port 0", `{"blockDestinations": [{"ports": ["0"]}]}`, `ports[0]: port "0"`},
		{"port 65536", `{"blockDestinations": [{"ports": ["65536"]}]}`, `port "65536"`},
		{"port with sign", `{"blockDestinations": [{"ports": ["+22"]}]}`, `port "+22"`},
		{"port with space", `{"blockDestinations": [{"ports": [" 22"]}]}`, `port " 22"`},
		{"port empty", `{"blockDestinations": [{"ports": [""]}]}`, `port ""`},
		{"range reversed", `{"blockDestinations": [{"ports": ["5010-5000"]}]}`, `range "5010-5000" runs backwards`},
		{"range open", `{"blockDestinations": [{"ports": ["5000-"]}]}`, `port "5000-"`},
		{"range three parts", `{"blockDestinations": [{"ports": ["1-2-3"]}]}`, `port "1-2-3"`},
		{"bad protocol", `{"blockDestinations": [{"protocols": ["sctp"]}]}`, `protocol "sctp"`},
		{"uppercase protocol", `{"blockDestinations": [{"protocols": ["TCP"]}]}`, `protocol "TCP"`},
		{"empty rule", `{"blockDestinations": [{}]}`, "blockDestinations[0]: the rule is empty"},
		{"empty lists rule", `{"allowDestinations": [{"hosts": [], "ports": []}]}`, "allowDestinations[0]: the rule is empty"},
		{"pre-grant without origins", `{"preGrants": [{"hosts": ["printer.corp.example"]}]}`, "must list the origins"},
		{"pre-grant without destination", `{"preGrants": [{"origins": ["https://a.example"], "ports": ["9100"]}]}`, "must name hosts or CIDRs"},
		{"second rule bad", `{"allowDestinations": [{"hosts": ["a.example"]}, {"cidrs": ["x"]}]}`, "allowDestinations[1]: cidrs[0]"},
		{"control character is escaped", `{"allowOrigins": ["https://a.example\u001b[31m"]}`, `\x1b[31m`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseEnterpriseFile(name, []byte(tt.in))
			if err == nil {
				t.Fatalf("accepted: %+v", f)
			}
			var fe *EnterpriseFileError
			if !errors.As(err, &fe) || fe.File != name {
				t.Fatalf("error %T %v is not an *EnterpriseFileError for the file", err, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, `"`+name+`"`) {
				t.Errorf("error %q does not name the file", msg)
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not mention %q", msg, tt.want)
			}
			if strings.ContainsRune(msg, 0x1b) || strings.Contains(msg, "json:") {
				t.Errorf("error %q carries raw control characters or Go internals", msg)
			}
		})
	}
}

func TestOriginPatterns(t *testing.T) {
	tests := []struct {
		pattern, origin string
		want            bool
	}{
		{"https://a.example", "https://a.example", true},
		{"https://a.example", "https://a.example:8443", true}, // no port in the pattern: any port
		{"https://A.Example.", "https://a.example", true},     // patterns are canonicalised
		{"https://a.example", "https://b.a.example", false},
		{"https://a.example", "https://a.example.evil", false},
		{"https://a.example:8443", "https://a.example:8443", true},
		{"https://a.example:8443", "https://a.example", false},
		{"https://a.example:443", "https://a.example", true},
		{"https://a.example:443", "https://a.example:8443", false},
		{"https://bücher.example", "https://xn--bcher-kva.example", true},
		{"https://[::1]:8443", "https://[::1]:8443", true},
		{"https://[::1]", "https://[::1]:9000", true},
		{"https://127.0.0.1", "https://127.0.0.1", true},
		{"https://*.corp.example", "https://app.corp.example", true},
		{"https://*.corp.example", "https://a.b.corp.example:8443", true},
		{"https://*.corp.example", "https://corp.example", false},
		{"https://*.corp.example", "https://corp.example.evil", false},
		{"https://*.corp.example", "https://evilcorp.example", false},
		{"https://*.corp.example", "https://app.corp.example.evil.com", false},
		{"https://*.corp.example:8443", "https://app.corp.example:8443", true},
		{"https://*.corp.example:8443", "https://app.corp.example", false},
	}
	for _, tt := range tests {
		p, err := parseOriginPattern(tt.pattern)
		if err != nil {
			t.Errorf("parseOriginPattern(%q): %v", tt.pattern, err)
			continue
		}
		o, err := ParseOrigin(tt.origin)
		if err != nil {
			t.Fatalf("ParseOrigin(%q): %v", tt.origin, err)
		}
		if got := p.match(o); got != tt.want {
			t.Errorf("pattern %q on %q = %v, want %v", tt.pattern, tt.origin, got, tt.want)
		}
	}
}

func TestHostPatterns(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"printer.corp.example", "printer.corp.example", true},
		{"printer.corp.example", "PRINTER.corp.example.", true},
		{"printer.corp.example", "x.printer.corp.example", false},
		{"*.corp.example", "printer.corp.example", true},
		{"*.corp.example", "a.b.corp.example", true},
		{"*.corp.example", "corp.example", false},
		{"*.corp.example", "corp.example.evil.com", false},
		{"*.corp.example", "evilcorp.example", false},
		{"*.corp.example", "corp-example.com", false},
		{"*.local", "printer.local", true},
		{"*.xn--bcher-kva.example", "a.bücher.example", true},
		{"*.corp.example", "10.0.0.1", false},
	}
	for _, tt := range tests {
		p, err := parseHostPattern(tt.pattern)
		if err != nil {
			t.Errorf("parseHostPattern(%q): %v", tt.pattern, err)
			continue
		}
		if got := p.match(mustHost(t, tt.host)); got != tt.want {
			t.Errorf("pattern %q on %q = %v, want %v", tt.pattern, tt.host, got, tt.want)
		}
	}
}

func TestPortRanges(t *testing.T) {
	tests := []struct {
		spec   string
		lo, hi int
	}{
		{"9100", 9100, 9100}, {"1", 1, 1}, {"65535", 65535, 65535}, {"5000-5010", 5000, 5010},
		{"1-65535", 1, 65535}, {"22-22", 22, 22}, {"00022", 22, 22},
	}
	for _, tt := range tests {
		r, err := parsePortRange(tt.spec)
		if err != nil || r.lo != tt.lo || r.hi != tt.hi {
			t.Errorf("parsePortRange(%q) = %+v, %v", tt.spec, r, err)
		}
	}
	for _, bad := range []string{"", "0", "65536", "-1", "1-", "-", "a", "5010-5000", "1 - 2", "0x10", "1e3", "١٢", "100000", "1-2-3"} {
		if r, err := parsePortRange(bad); err == nil {
			t.Errorf("parsePortRange(%q) = %+v, want error", bad, r)
		}
	}
}

func TestUnwrap(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"10.1.2.3", []string{"10.1.2.3"}},
		{"::ffff:10.1.2.3", []string{"10.1.2.3"}},
		{"fe80::1%eth0", []string{"fe80::1"}},
		{"2606:4700::1", []string{"2606:4700::1"}},
		{"::1", []string{"::1"}},
		{"::", []string{"::"}},
		{"::10.1.2.3", []string{"::a01:203", "10.1.2.3"}},
		{"64:ff9b::10.1.2.3", []string{"64:ff9b::a01:203", "10.1.2.3"}},
		{"2002:a01:203::1", []string{"2002:a01:203::1", "10.1.2.3"}},
		{"2001:0:a00:1::1", []string{"2001:0:a00:1::1", "10.0.0.1", "255.255.255.254"}},
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", []string{"2001:0:4136:e378:8000:63bf:80ff:fffe", "65.54.227.120", "127.0.0.1"}},
	}
	for _, tt := range tests {
		var got []string
		for _, a := range Unwrap(netip.MustParseAddr(tt.in)) {
			got = append(got, a.String())
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Unwrap(%s) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if Unwrap(netip.Addr{}) != nil {
		t.Error("Unwrap(invalid) is not nil")
	}
}

// TestUnwrapAgreesWithClassify: whenever Classify calls a wrapper non-public because of what it
// wraps, Unwrap must expose an address of that class, so a CIDR rule sees what Classify saw.
func TestUnwrapAgreesWithClassify(t *testing.T) {
	for _, s := range []string{"::ffff:127.0.0.1", "::127.0.0.1", "::10.0.0.1", "64:ff9b::7f00:1",
		"64:ff9b::192.168.1.1", "2002:7f00:1::", "2002:c0a8:101::1", "2002:a9fe:a9fe::",
		"2001:0:4136:e378:8000:63bf:80ff:fffe", "2001:0:a00:1::1"} {
		a := netip.MustParseAddr(s)
		c := Classify(a)
		found := false
		for _, u := range Unwrap(a) {
			if Classify(u) == c {
				found = true
			}
		}
		if !found {
			t.Errorf("Classify(%s) = %v but no unwrapped address has that class", s, c)
		}
	}
}

func TestMergeEnterpriseDenyWins(t *testing.T) {
	tr, fa := true, false
	n := func(i int) *int { return &i }
	tests := []struct {
		name  string
		files []EnterpriseFile
		check func(t *testing.T, e Enterprise)
	}{
		{"nothing", nil, func(t *testing.T, e Enterprise) {
			if !e.IsZero() || e.Disabled() || e.PromptTimeoutSeconds() != 60 {
				t.Fatalf("%+v", e)
			}
			if c := e.Config(); c.Disabled || c.AllowPort443 || c.AllowPrivate {
				t.Fatalf("Config() = %+v", c)
			}
		}},
		{"empty files are zero", []EnterpriseFile{{}, {}}, func(t *testing.T, e Enterprise) {
			if !e.IsZero() {
				t.Fatal("not zero")
			}
		}},
		{"disabled true anywhere wins", []EnterpriseFile{{Disabled: &fa}, {Disabled: &tr}, {Disabled: &fa}}, func(t *testing.T, e Enterprise) {
			if !e.Disabled() || !e.Config().Disabled {
				t.Fatal("not disabled")
			}
		}},
		{"disabled false alone is nothing", []EnterpriseFile{{Disabled: &fa}}, func(t *testing.T, e Enterprise) {
			if e.Disabled() || !e.IsZero() {
				t.Fatal("disabled")
			}
		}},
		{"allowPort443 true alone", []EnterpriseFile{{AllowPort443: &tr}, {}}, func(t *testing.T, e Enterprise) {
			if !e.Config().AllowPort443 || e.IsZero() {
				t.Fatal("443 not allowed")
			}
		}},
		{"allowPort443 false wins over true", []EnterpriseFile{{AllowPort443: &tr}, {AllowPort443: &fa}}, func(t *testing.T, e Enterprise) {
			if e.Config().AllowPort443 {
				t.Fatal("443 allowed")
			}
		}},
		{"allowPort443 false wins in either order", []EnterpriseFile{{AllowPort443: &fa}, {AllowPort443: &tr}}, func(t *testing.T, e Enterprise) {
			if e.Config().AllowPort443 {
				t.Fatal("443 allowed")
			}
		}},
		{"allowPrivate false wins", []EnterpriseFile{{AllowPrivate: &tr}, {AllowPrivate: &fa}, {AllowPrivate: &tr}}, func(t *testing.T, e Enterprise) {
			if e.Config().AllowPrivate {
				t.Fatal("private allowed")
			}
		}},
		{"allowPrivate true", []EnterpriseFile{{AllowPrivate: &tr}}, func(t *testing.T, e Enterprise) {
			if !e.Config().AllowPrivate {
				t.Fatal("private not allowed")
			}
		}},
		{"timeout is the minimum", []EnterpriseFile{{PromptTimeoutSeconds: n(30)}, {PromptTimeoutSeconds: n(5)}, {PromptTimeoutSeconds: n(45)}, {}}, func(t *testing.T, e Enterprise) {
			if e.PromptTimeoutSeconds() != 5 {
				t.Fatalf("timeout %d", e.PromptTimeoutSeconds())
			}
		}},
		{"lists are unions", []EnterpriseFile{
			{BlockOrigins: []string{"https://a.example"}, AllowOrigins: []string{"https://x.example"}},
			{BlockOrigins: []string{"https://b.example"}, AllowOrigins: []string{"https://y.example"}},
		}, func(t *testing.T, e Enterprise) {
			for o, want := range map[string]bool{"https://a.example": false, "https://b.example": false,
				"https://x.example": true, "https://y.example": true, "https://z.example": false} {
				if got := e.originAllowed(mustOrigin(t, o)); got != want {
					t.Errorf("originAllowed(%s) = %v, want %v", o, got, want)
				}
			}
		}},
		{"a hand-built invalid file fails closed", []EnterpriseFile{{BlockOrigins: []string{"http://a.example"}}}, func(t *testing.T, e Enterprise) {
			if !e.Disabled() || !e.Config().Disabled || e.IsZero() {
				t.Fatal("an invalid file did not disable the API")
			}
		}},
		{"an invalid timeout fails closed", []EnterpriseFile{{PromptTimeoutSeconds: n(600)}}, func(t *testing.T, e Enterprise) {
			if !e.Disabled() || e.PromptTimeoutSeconds() != 60 {
				t.Fatal("an invalid timeout was used")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, MergeEnterprise(tt.files)) })
	}
}

func mustOrigin(t *testing.T, s string) Origin {
	t.Helper()
	o, err := ParseOrigin(s)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestManagedReasonMessages(t *testing.T) {
	for _, r := range []Reason{ReasonManagedOriginBlocked, ReasonManagedDestinationBlocked,
		ReasonManagedDestinationNotAllowed, ReasonManagedGrant} {
		m := r.Message()
		if !strings.HasPrefix(m, "Your organisation's policy ") || !strings.HasSuffix(m, ".") {
			t.Errorf("reason %q has message %q", r, m)
		}
	}
}

func TestDecideEnterprise(t *testing.T) {
	const origin = "https://app.corp.example"
	pub := addrs("93.184.216.34")
	type tc struct {
		name    string
		files   []string
		cfg     Config // Enterprise is filled in from files
		req     Request
		want    Verdict
		reason  Reason
		local   bool
		managed bool
	}
	req := func(host string, resolved []netip.Addr, port int, mods ...func(*Request)) Request {
		h := mustHost(t, host)
		if resolved == nil && h.IsLiteral() {
			resolved = []netip.Addr{h.IP}
		}
		r := Request{Origin: origin, Protocol: TCP, Mode: Connect, Host: h, Port: port, Addresses: resolved}
		for _, m := range mods {
			m(&r)
		}
		return r
	}
	from := func(o string) func(*Request) { return func(r *Request) { r.Origin = o } }
	udp := func(r *Request) { r.Protocol = UDP }
	granted := func(r *Request) { r.Granted = true }
	typed := func(r *Request) { r.UserTyped = true }
	listen := func(r *Request) { r.Mode = Listen }
	bind := func(r *Request) { r.Protocol, r.Mode = UDP, Bind }

	const blockTen = `{"blockDestinations": [{"cidrs": ["10.0.0.0/8"]}]}`
	const printerGrant = `{"preGrants": [{"origins": ["https://app.corp.example"], "hosts": ["printer.corp.example"], "ports": ["9100"]}]}`
	const printerGrantCIDR = `{"preGrants": [{"origins": ["https://app.corp.example"], "hosts": ["printer.corp.example"], "cidrs": ["10.1.0.0/16"], "ports": ["9100"]}]}`

	tests := []tc{
		// No policy, or an empty one, changes nothing.
		{name: "empty policy asks", files: []string{`{}`}, req: req("echo.example", pub, 7), want: Ask, reason: ReasonNeedsConsent},

		// The switches.
		{name: "disabled", files: []string{`{"disabled": true}`}, req: req("echo.example", pub, 7, granted), want: Deny, reason: ReasonDisabled, managed: true},
		{name: "disabled by the caller is not managed", files: []string{`{}`}, cfg: Config{Disabled: true}, req: req("echo.example", pub, 7), want: Deny, reason: ReasonDisabled},
		{name: "the user cannot re-enable", files: []string{`{"disabled": true}`, `{"disabled": false}`}, req: req("echo.example", pub, 7), want: Deny, reason: ReasonDisabled, managed: true},
		{name: "allowPort443", files: []string{`{"allowPort443": true}`}, req: req("echo.example", pub, 443), want: Ask, reason: ReasonNeedsConsent},
		{name: "allowPort443 false beats the caller", files: []string{`{"allowPort443": false}`}, cfg: Config{AllowPort443: true}, req: req("echo.example", pub, 443), want: Deny, reason: ReasonPort443},
		{name: "allowPrivate", files: []string{`{"allowPrivate": true}`}, req: req("10.1.2.3", nil, 7), want: Ask, reason: ReasonNeedsConsent},
		{name: "allowPrivate false beats the caller", files: []string{`{"allowPrivate": false}`}, cfg: Config{AllowPrivate: true}, req: req("10.1.2.3", nil, 7), want: Ask, reason: ReasonNeedsConsentLocal, local: true},

		// Origins.
		{name: "blocked origin", files: []string{`{"blockOrigins": ["https://*.corp.example"]}`}, req: req("echo.example", pub, 7, granted), want: Deny, reason: ReasonManagedOriginBlocked, managed: true},
		{name: "blocked origin on another port", files: []string{`{"blockOrigins": ["https://app.corp.example"]}`}, req: req("echo.example", pub, 7, from("https://app.corp.example:8443")), want: Deny, reason: ReasonManagedOriginBlocked, managed: true},
		{name: "blocked origin spelled differently", files: []string{`{"blockOrigins": ["https://app.corp.example"]}`}, req: req("echo.example", pub, 7, from("HTTPS://APP.corp.example.:443")), want: Deny, reason: ReasonManagedOriginBlocked, managed: true},
		{name: "origin not in allow list", files: []string{`{"allowOrigins": ["https://*.corp.example"]}`}, req: req("echo.example", pub, 7, from("https://corp.example.evil")), want: Deny, reason: ReasonManagedOriginBlocked, managed: true},
		{name: "lookalike origin not in allow list", files: []string{`{"allowOrigins": ["https://*.corp.example"]}`}, req: req("echo.example", pub, 7, from("https://evilcorp.example")), want: Deny, reason: ReasonManagedOriginBlocked, managed: true},
		{name: "apex not in wildcard allow list", files: []string{`{"allowOrigins": ["https://*.corp.example"]}`}, req: req("echo.example", pub, 7, from("https://corp.example")), want: Deny, reason: ReasonManagedOriginBlocked, managed: true},
		{name: "origin in allow list", files: []string{`{"allowOrigins": ["https://*.corp.example"]}`}, req: req("echo.example", pub, 7), want: Ask, reason: ReasonNeedsConsent},
		{name: "block beats allow", files: []string{`{"allowOrigins": ["https://*.corp.example"]}`, `{"blockOrigins": ["https://app.corp.example"]}`}, req: req("echo.example", pub, 7), want: Deny, reason: ReasonManagedOriginBlocked, managed: true},
		{name: "origin allow list in another file still restricts", files: []string{`{"allowOrigins": ["https://other.example"]}`, `{"allowPort443": true}`}, req: req("echo.example", pub, 7), want: Deny, reason: ReasonManagedOriginBlocked, managed: true},
		{name: "insecure origin is still insecure", files: []string{`{"allowOrigins": ["https://app.corp.example"]}`}, req: req("echo.example", pub, 7, from("http://app.corp.example")), want: Deny, reason: ReasonInsecureOrigin},

		// Blocked destinations.
		{name: "cidr block on a literal", files: []string{blockTen}, req: req("10.1.2.3", nil, 7), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "cidr block on a name resolving inside", files: []string{blockTen}, req: req("db.corp.internal", addrs("10.1.2.3"), 5432), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "cidr block checks every address", files: []string{blockTen}, req: req("db.corp.internal", addrs("192.168.1.1", "10.1.2.3"), 5432), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "cidr block beats a grant", files: []string{blockTen}, req: req("10.1.2.3", nil, 7, granted), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "cidr block beats typing", files: []string{blockTen}, req: req("dev.example", addrs("10.1.2.3"), 7, typed), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "cidr block on mapped literal", files: []string{blockTen}, req: req("::ffff:10.1.2.3", nil, 7), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "cidr block on nat64-wrapped address", files: []string{blockTen}, req: req("64:ff9b::a01:203", nil, 7), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "cidr block on 6to4-wrapped address", files: []string{blockTen}, req: req("2002:a01:203::1", nil, 7), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "cidr block on teredo-wrapped address", files: []string{blockTen}, req: req("2001:0:a00:1::1", nil, 7), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "cidr block on a name resolving to a nat64 wrapper", files: []string{blockTen}, req: req("db.corp.internal", addrs("64:ff9b::a01:203"), 7), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "cidr block does not touch other addresses", files: []string{blockTen}, req: req("192.168.1.1", nil, 7), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "ipv6 cidr block", files: []string{`{"blockDestinations": [{"cidrs": ["fd00::/8"]}]}`}, req: req("fd12::1", nil, 7), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "host block", files: []string{`{"blockDestinations": [{"hosts": ["*.corp.example"]}]}`}, req: req("db.corp.example", pub, 7), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "host block spelled differently", files: []string{`{"blockDestinations": [{"hosts": ["*.corp.example"]}]}`}, req: req("DB.Corp.Example.", pub, 7), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "host block does not cover lookalike suffix", files: []string{`{"blockDestinations": [{"hosts": ["*.corp.example"]}]}`}, req: req("corp.example.evil.com", pub, 7), want: Ask, reason: ReasonNeedsConsent},
		{name: "port range block inclusive low", files: []string{`{"blockDestinations": [{"ports": ["5000-5010"]}]}`}, req: req("echo.example", pub, 5000), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "port range block inclusive high", files: []string{`{"blockDestinations": [{"ports": ["5000-5010"]}]}`}, req: req("echo.example", pub, 5010), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "port range block below", files: []string{`{"blockDestinations": [{"ports": ["5000-5010"]}]}`}, req: req("echo.example", pub, 4999), want: Ask, reason: ReasonNeedsConsent},
		{name: "port range block above", files: []string{`{"blockDestinations": [{"ports": ["5000-5010"]}]}`}, req: req("echo.example", pub, 5011), want: Ask, reason: ReasonNeedsConsent},
		{name: "protocol-limited block spares udp", files: []string{`{"blockDestinations": [{"ports": ["53"], "protocols": ["tcp"]}]}`}, req: req("echo.example", pub, 53, udp), want: Ask, reason: ReasonNeedsConsent},
		{name: "protocol-limited block hits tcp", files: []string{`{"blockDestinations": [{"ports": ["53"], "protocols": ["tcp"]}]}`}, req: req("echo.example", pub, 53), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "origin-limited block spares others", files: []string{`{"blockDestinations": [{"origins": ["https://other.example"], "ports": ["7"]}]}`}, req: req("echo.example", pub, 7), want: Ask, reason: ReasonNeedsConsent},
		{name: "origin-limited block hits its origin", files: []string{`{"blockDestinations": [{"origins": ["https://*.corp.example"], "ports": ["7"]}]}`}, req: req("echo.example", pub, 7), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "block applies to listening", files: []string{`{"blockDestinations": [{"ports": ["8000-8999"]}]}`}, req: req("127.0.0.1", nil, 8080, listen), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},

		// Allow lists.
		{name: "destination not in allow list", files: []string{`{"allowDestinations": [{"hosts": ["*.corp.example"]}]}`}, req: req("echo.example", pub, 7), want: Deny, reason: ReasonManagedDestinationNotAllowed, managed: true},
		{name: "destination not in allow list beats a grant", files: []string{`{"allowDestinations": [{"hosts": ["*.corp.example"]}]}`}, req: req("echo.example", pub, 7, granted), want: Deny, reason: ReasonManagedDestinationNotAllowed, managed: true},
		{name: "destination in allow list by host", files: []string{`{"allowDestinations": [{"hosts": ["*.corp.example"]}]}`}, req: req("wiki.corp.example", pub, 7), want: Ask, reason: ReasonNeedsConsent, managed: true},
		{name: "allowed host still subject to rebinding", files: []string{`{"allowDestinations": [{"hosts": ["*.corp.example"]}]}`}, req: req("wiki.corp.example", addrs("127.0.0.1"), 7), want: Deny, reason: ReasonNonPublicResolution},
		{name: "destination in allow list by cidr", files: []string{`{"allowDestinations": [{"cidrs": ["10.0.0.0/8"]}]}`}, req: req("10.9.9.9", nil, 7), want: Ask, reason: ReasonNeedsConsentLocal, local: true, managed: true},
		{name: "allow cidr needs every address", files: []string{`{"allowDestinations": [{"cidrs": ["10.0.0.0/8"]}]}`}, req: req("nas.lan", addrs("10.9.9.9", "192.168.1.1"), 7), want: Deny, reason: ReasonManagedDestinationNotAllowed, managed: true},
		{name: "allow cidr covers a nat64 wrapper", files: []string{`{"allowDestinations": [{"cidrs": ["10.0.0.0/8"]}]}`}, req: req("64:ff9b::a09:909", nil, 7), want: Ask, reason: ReasonNeedsConsentLocal, local: true, managed: true},
		{name: "allow cidr does not cover a half-inside teredo", files: []string{`{"allowDestinations": [{"cidrs": ["10.0.0.0/8"]}]}`}, req: req("2001:0:a00:1::1", nil, 7, udp), want: Deny, reason: ReasonManagedDestinationNotAllowed, managed: true},
		{name: "allow list port", files: []string{`{"allowDestinations": [{"ports": ["9100"]}]}`}, req: req("echo.example", pub, 9101), want: Deny, reason: ReasonManagedDestinationNotAllowed, managed: true},
		{name: "allow list restricts listening too", files: []string{`{"allowDestinations": [{"hosts": ["*.corp.example"]}]}`}, req: req("127.0.0.1", nil, 8080, listen), want: Deny, reason: ReasonManagedDestinationNotAllowed, managed: true},
		{name: "allow lists are unions", files: []string{`{"allowDestinations": [{"hosts": ["a.example"]}]}`, `{"allowDestinations": [{"hosts": ["echo.example"]}]}`}, req: req("echo.example", pub, 7), want: Ask, reason: ReasonNeedsConsent, managed: true},
		{name: "block beats allow", files: []string{`{"allowDestinations": [{"cidrs": ["10.0.0.0/8"]}]}`, `{"blockDestinations": [{"cidrs": ["10.1.0.0/16"]}]}`}, req: req("10.1.2.3", nil, 7), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},

		// Pre-grants.
		{name: "pre-grant public", files: []string{printerGrant}, req: req("printer.corp.example", pub, 9100), want: Allow, reason: ReasonManagedGrant, managed: true},
		{name: "pre-grant wrong port", files: []string{printerGrant}, req: req("printer.corp.example", pub, 9101), want: Ask, reason: ReasonNeedsConsent},
		{name: "pre-grant wrong origin", files: []string{printerGrant}, req: req("printer.corp.example", pub, 9100, from("https://evil.example")), want: Ask, reason: ReasonNeedsConsent},
		{name: "pre-grant by name does not cover rebinding", files: []string{printerGrant}, req: req("printer.corp.example", addrs("10.1.2.3"), 9100), want: Deny, reason: ReasonNonPublicResolution},
		{name: "pre-grant by name does not cover loopback", files: []string{printerGrant}, req: req("printer.corp.example", addrs("127.0.0.1"), 9100), want: Deny, reason: ReasonNonPublicResolution},
		{name: "pre-grant with cidr covers the named range", files: []string{printerGrantCIDR}, req: req("printer.corp.example", addrs("10.1.2.3"), 9100), want: Allow, reason: ReasonManagedGrant, local: true, managed: true},
		{name: "pre-grant with cidr, name resolving outside it", files: []string{printerGrantCIDR}, req: req("printer.corp.example", addrs("10.2.0.1"), 9100), want: Deny, reason: ReasonNonPublicResolution},
		{name: "pre-grant with cidr, one address outside it", files: []string{printerGrantCIDR}, req: req("printer.corp.example", addrs("10.1.2.3", "127.0.0.1"), 9100), want: Deny, reason: ReasonNonPublicResolution},
		{name: "pre-grant with cidr, public and covered", files: []string{printerGrantCIDR}, req: req("printer.corp.example", addrs("93.184.216.34", "10.1.2.3"), 9100), want: Allow, reason: ReasonManagedGrant, local: true, managed: true},
		{name: "pre-grant with cidr covers a wrapped address", files: []string{printerGrantCIDR}, req: req("printer.corp.example", addrs("64:ff9b::a01:203"), 9100), want: Allow, reason: ReasonManagedGrant, local: true, managed: true},
		{name: "pre-grant by cidr alone for a literal", files: []string{`{"preGrants": [{"origins": ["https://app.corp.example"], "cidrs": ["10.1.0.0/16"]}]}`}, req: req("10.1.2.3", nil, 22), want: Allow, reason: ReasonManagedGrant, local: true, managed: true},
		{name: "pre-grant by cidr alone, literal outside", files: []string{`{"preGrants": [{"origins": ["https://app.corp.example"], "cidrs": ["10.1.0.0/16"]}]}`}, req: req("10.2.0.1", nil, 22), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "pre-grant for a local-only name still needs a cidr", files: []string{`{"preGrants": [{"origins": ["https://app.corp.example"], "hosts": ["printer.local"]}]}`}, req: req("printer.local", addrs("127.0.0.1"), 9100), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "pre-grant for a local-only name with its cidr", files: []string{`{"preGrants": [{"origins": ["https://app.corp.example"], "hosts": ["printer.local"], "cidrs": ["192.168.1.0/24"]}]}`}, req: req("printer.local", addrs("192.168.1.20"), 9100), want: Allow, reason: ReasonManagedGrant, local: true, managed: true},
		{name: "pre-grant does not beat a block", files: []string{printerGrantCIDR, `{"blockDestinations": [{"cidrs": ["10.1.2.0/24"]}]}`}, req: req("printer.corp.example", addrs("10.1.2.3"), 9100), want: Deny, reason: ReasonManagedDestinationBlocked, managed: true},
		{name: "pre-grant does not beat an allow list", files: []string{printerGrant, `{"allowDestinations": [{"hosts": ["wiki.corp.example"]}]}`}, req: req("printer.corp.example", pub, 9100), want: Deny, reason: ReasonManagedDestinationNotAllowed, managed: true},
		{name: "pre-grant does not beat an origin block", files: []string{printerGrant, `{"blockOrigins": ["https://app.corp.example"]}`}, req: req("printer.corp.example", pub, 9100), want: Deny, reason: ReasonManagedOriginBlocked, managed: true},
		{name: "pre-grant does not beat port 443", files: []string{`{"preGrants": [{"origins": ["https://app.corp.example"], "hosts": ["web.corp.example"]}]}`}, req: req("web.corp.example", pub, 443), want: Deny, reason: ReasonPort443},
		{name: "pre-grant does not beat a forbidden address", files: []string{`{"preGrants": [{"origins": ["https://app.corp.example"], "cidrs": ["0.0.0.0/0"]}]}`}, req: req("255.255.255.255", nil, 9, udp), want: Deny, reason: ReasonForbiddenAddress},
		{name: "pre-grant does not cover listening", files: []string{`{"preGrants": [{"origins": ["https://app.corp.example"], "cidrs": ["127.0.0.0/8"]}]}`}, req: req("127.0.0.1", nil, 40080, listen), want: Ask, reason: ReasonNeedsConsentLocal, local: true},
		{name: "allow rule naming a reserved port lets a page bind it", files: []string{`{"allowDestinations": [{"origins": ["https://app.corp.example"], "protocols": ["udp"], "ports": ["161"]}]}`}, req: req("127.0.0.1", nil, 161, bind), want: Ask, reason: ReasonNeedsConsentLocal, local: true, managed: true},
		{name: "allow rule without ports does not open reserved ports", files: []string{`{"allowDestinations": [{"origins": ["https://app.corp.example"]}]}`}, req: req("127.0.0.1", nil, 161, bind), want: Deny, reason: ReasonPrivilegedPort},
		{name: "allow rule for another origin does not open reserved ports", files: []string{`{"allowDestinations": [{"ports": ["161"]}, {"origins": ["https://other.example"], "ports": ["1-65535"]}]}`}, req: req("127.0.0.1", nil, 8080, listen), want: Deny, reason: ReasonManagedDestinationNotAllowed, managed: true},
		{name: "pre-grant does not beat disabled", files: []string{printerGrant, `{"disabled": true}`}, req: req("printer.corp.example", pub, 9100), want: Deny, reason: ReasonDisabled, managed: true},
		{name: "pre-grant wins over a user grant", files: []string{printerGrant}, req: req("printer.corp.example", pub, 9100, granted), want: Allow, reason: ReasonManagedGrant, managed: true},
		{name: "pre-grant protocol", files: []string{`{"preGrants": [{"origins": ["https://app.corp.example"], "hosts": ["printer.corp.example"], "protocols": ["udp"]}]}`}, req: req("printer.corp.example", pub, 9100), want: Ask, reason: ReasonNeedsConsent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEnterprise(t, tt.files...)
			cfg := tt.cfg
			cfg.Enterprise = &e
			got := Decide(tt.req, cfg)
			if got.Verdict != tt.want || got.Reason != tt.reason || got.LocalNetwork != tt.local || got.Managed != tt.managed {
				t.Fatalf("Decide = {%v %q local=%v managed=%v}, want {%v %q local=%v managed=%v}",
					got.Verdict, got.Reason, got.LocalNetwork, got.Managed, tt.want, tt.reason, tt.local, tt.managed)
			}
			if got.Message == "" || got.Message != got.Reason.Message() {
				t.Fatalf("Message %q does not match reason %q", got.Message, got.Reason)
			}
			// Enterprise.Config must give the same answer when the caller sets nothing itself.
			if tt.cfg == (Config{}) {
				if viaConfig := Decide(tt.req, e.Config()); viaConfig != got {
					t.Fatalf("Decide(req, e.Config()) = %+v, want %+v", viaConfig, got)
				}
			}
		})
	}
}

// TestDecideWithoutEnterpriseUnchanged: a nil Enterprise and an empty one decide exactly as before.
func TestDecideWithoutEnterpriseUnchanged(t *testing.T) {
	empty := MergeEnterprise(nil)
	for _, r := range []Request{
		{Origin: "https://a.example", Protocol: TCP, Mode: Connect, Host: mustHost(t, "echo.example"), Port: 7, Addresses: addrs("93.184.216.34")},
		{Origin: "https://a.example", Protocol: TCP, Mode: Connect, Host: mustHost(t, "evil.example"), Port: 7, Addresses: addrs("127.0.0.1")},
		{Origin: "https://a.example", Protocol: UDP, Mode: Bind, Host: mustHost(t, "0.0.0.0"), Port: 5353, Addresses: addrs("0.0.0.0"), Granted: true},
	} {
		want := Decide(r, Config{})
		if got := Decide(r, Config{Enterprise: &empty}); got != want || got.Managed {
			t.Errorf("empty enterprise changed %+v: %+v vs %+v", r, got, want)
		}
	}
}

func FuzzParseEnterpriseFile(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"disabled": true, "allowPort443": false, "allowPrivate": true, "promptTimeoutSeconds": 10}`,
		`{"allowOrigins": ["https://*.corp.example:8443", "https://[::1]"], "blockOrigins": ["https://a.example"]}`,
		`{"blockDestinations": [{"cidrs": ["10.0.0.0/8", "fd00::/8", "192.168.1.1"], "ports": ["1-1024"], "protocols": ["tcp", "udp"]}]}`,
		`{"preGrants": [{"origins": ["https://a.example"], "hosts": ["*.corp.example"], "cidrs": ["10.1.0.0/16"], "ports": ["9100"]}]}`,
		`{"allowDestinations": [{"hosts": ["bücher.example"]}]}`,
		`{"disabled": true, "Disabled": false}`,
		`{"blockDestinations": [{}]}`,
		`{"promptTimeoutSeconds": 1e2}`,
	} {
		f.Add(s)
	}
	reqs := []Request{
		{Origin: "https://a.corp.example", Protocol: TCP, Mode: Connect, Host: Host{Name: "x.corp.example"}, Port: 9100, Addresses: addrs("10.1.2.3")},
		{Origin: "https://a.example", Protocol: UDP, Mode: Connect, Host: Host{Name: "64:ff9b::a01:203", IP: netip.MustParseAddr("64:ff9b::a01:203")}, Port: 53, Addresses: addrs("64:ff9b::a01:203")},
	}
	f.Fuzz(func(t *testing.T, s string) {
		const name = "fuzz.json"
		ef, err := ParseEnterpriseFile(name, []byte(s))
		if err != nil {
			var fe *EnterpriseFileError
			if !errors.As(err, &fe) || fe.File != name || fe.Msg == "" {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		e := MergeEnterprise([]EnterpriseFile{ef})
		if e.invalid {
			t.Fatal("a file that parsed made the merge invalid")
		}
		if ts := e.PromptTimeoutSeconds(); ts < 1 || ts > DefaultPromptTimeoutSeconds {
			t.Fatalf("timeout %d", ts)
		}
		// Merging a file with itself must decide the same as the file alone: every rule is
		// idempotent under union, minimum and deny-wins.
		twice := MergeEnterprise([]EnterpriseFile{ef, ef})
		for _, r := range reqs {
			a, b := Decide(r, e.Config()), Decide(r, twice.Config())
			if a != b {
				t.Fatalf("merge is not idempotent: %+v vs %+v", a, b)
			}
			if a.Verdict == Allow && a.Reason != ReasonManagedGrant {
				t.Fatalf("ungranted request allowed: %+v", a)
			}
		}
	})
}

func TestPreGrantsFor(t *testing.T) {
	f, err := ParseEnterpriseFile("p.json", []byte(`{"preGrants": [
		{"origins": ["https://*.corp.example"], "hosts": ["printer.corp.example"], "ports": ["9100"]},
		{"origins": ["https://other.example"], "cidrs": ["10.0.0.0/8"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := MergeEnterprise([]EnterpriseFile{f})
	if got := e.PreGrantsFor("https://app.corp.example"); len(got) != 1 || got[0].Hosts[0] != "printer.corp.example" {
		t.Errorf("PreGrantsFor(app.corp.example) = %+v", got)
	}
	for _, o := range []string{"https://corp.example.evil", "https://evilcorp.example", "not an origin"} {
		if got := e.PreGrantsFor(o); len(got) != 0 {
			t.Errorf("PreGrantsFor(%q) = %+v, want none", o, got)
		}
	}
}

func TestAllowListMarksAsksManaged(t *testing.T) {
	f, err := ParseEnterpriseFile("p.json", []byte(`{"allowDestinations": [{"cidrs": ["127.0.0.0/8"], "ports": ["9100"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := MergeEnterprise([]EnterpriseFile{f}).Config()
	host, _ := ParseHost("127.0.0.1")
	req := Request{Origin: "https://app.example", Protocol: TCP, Mode: Connect, Host: host, Port: 9100,
		Addresses: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}
	if d := Decide(req, cfg); d.Verdict != Ask || !d.Managed {
		t.Errorf("an allow-listed destination: %+v, want a managed Ask", d)
	}
	if d := Decide(req, Config{}); d.Managed {
		t.Errorf("without a policy the decision is marked managed: %+v", d)
	}
}
