package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Enterprise policy
//
// An organisation configures Socketeer with /etc/socketeer/policy.json plus drop-ins in
// /etc/socketeer/policy.d/*.json. The app reads the files; this package parses each one with
// ParseEnterpriseFile, merges them with MergeEnterprise, and applies the result in Decide through
// Config.Enterprise. The user cannot override any of it.
//
// Patterns
//
// Origin patterns name the pages a rule is about:
//
//   - "https://app.example" matches that host on any port;
//   - "https://app.example:8443" matches that host on port 8443 only ("https://app.example:443"
//     matches port 443 only);
//   - "https://*.corp.example" matches every subdomain of corp.example, at any depth, on any port,
//     but not corp.example itself; list the apex separately if it is meant. A port may be added
//     ("https://*.corp.example:8443") with the same meaning as above.
//
// A pattern without a port deliberately covers every port: in a block list the alternative would
// let a blocked site escape by serving its page from another port, and in an allow list the
// administrator already trusts the host. The host part is canonicalised like any origin (case,
// trailing dot, Unicode to punycode), and a wildcard over an IP address is refused.
//
// Host patterns in destination rules are "printer.corp.example" (that name only) or
// "*.corp.example" (every subdomain at any depth, not the apex). They are matched against the
// canonical host name the page asked for. IP addresses are refused as host patterns — a host
// pattern never sees the addresses a name resolves to, so "10.0.0.5" there would block only that
// spelling; addresses belong in "cidrs".
//
// CIDRs ("10.0.0.0/8", "fd00::/8", or a bare address meaning just that address) are matched
// against every address the destination resolved to, after unwrapping (see Unwrap), so a block on
// 10.0.0.0/8 also catches 64:ff9b::a01:203 and 2002:a01:203::. A CIDR with host bits set
// ("10.1.2.3/8") or written as an IPv4-mapped IPv6 range is refused as ambiguous.
//
// Ports are "9100" or an inclusive range "5000-5010". Protocols are "tcp" and "udp".
//
// Destination rules
//
// A rule applies to a request when its origins, protocols and ports (each: empty means any) all
// match, and its destination part matches: the host name matches one of its host patterns, or the
// addresses lie in its CIDRs. For a block rule one address inside is enough; for an allow rule or a
// pre-grant every address must be inside, because the dialer may use any of them. A rule with
// neither hosts nor CIDRs covers every destination. For listen and bind requests, rules are matched
// against the local address and port the page wants to serve on.
//
// Pre-grants let the listed origins connect (never listen or bind) without a prompt. Each
// pre-grant must list origins — one without would let every page on the internet reach the
// destination silently — and must name hosts or CIDRs. A pre-grant never overrides a block rule, an
// allow list it falls outside of, the port-443 rule or the forbidden-address rule, and it never
// lets a connection reach a non-public address (loopback, private, link-local, CGNAT, multicast)
// unless one of the rule's own CIDRs contains that address. That last condition is what keeps a
// pre-grant by name from undoing the DNS rebinding protection: the administrator has to say in
// the rule itself which internal addresses the name may lead to, and a name that resolves anywhere
// else internal is treated as it would be without the pre-grant.

// EnterpriseFile is one policy file. Every field is optional; a missing field leaves the decision
// to the other files or the defaults.
type EnterpriseFile struct {
	// Disabled, when true, turns the API off for every origin.
	Disabled *bool `json:"disabled"`
	// AllowOrigins, when any file has it, limits the API to pages matching one of the patterns.
	AllowOrigins []string `json:"allowOrigins"`
	// BlockOrigins refuses the API to pages matching any pattern.
	BlockOrigins []string `json:"blockOrigins"`
	// AllowDestinations, when any file has it, limits requests to destinations some rule allows.
	AllowDestinations []DestRule `json:"allowDestinations"`
	// BlockDestinations refuses requests to destinations any rule matches.
	BlockDestinations []DestRule `json:"blockDestinations"`
	// PreGrants let their origins connect without a prompt; see the notes at the top of enterprise.go.
	PreGrants []DestRule `json:"preGrants"`
	// AllowPort443 permits TCP connections to port 443 (see ReasonPort443).
	AllowPort443 *bool `json:"allowPort443"`
	// AllowPrivate treats private-range destinations like public ones (see Config.AllowPrivate).
	AllowPrivate *bool `json:"allowPrivate"`
	// PromptTimeoutSeconds shortens the consent dialog's timeout: 1 to 60.
	PromptTimeoutSeconds *int `json:"promptTimeoutSeconds"`
	// CertificatePins trust one certificate for one host in some sites' profiles; see pins.go.
	CertificatePins []CertPin `json:"certificatePins"`
}

// DestRule is one destination rule in a policy file.
type DestRule struct {
	Origins   []string   `json:"origins,omitempty"`   // origin patterns the rule applies to; empty = all
	Hosts     []string   `json:"hosts,omitempty"`     // host patterns: "printer.corp.example", "*.corp.example"
	CIDRs     []string   `json:"cidrs,omitempty"`     // "10.0.0.0/8", "fd00::/8"
	Ports     []string   `json:"ports,omitempty"`     // "9100", "5000-5010"; empty = all
	Protocols []Protocol `json:"protocols,omitempty"` // empty = all
}

// DefaultPromptTimeoutSeconds is how long the consent dialog waits before it denies.
const DefaultPromptTimeoutSeconds = 60

// enterpriseKeys lists the object keys of the policy format, spelled exactly: those of the file's
// object, then those of a destination rule. See decodeStrict.
var enterpriseKeys = jsonKeys{
	top: map[string]bool{
		"disabled": true, "allowOrigins": true, "blockOrigins": true, "allowDestinations": true,
		"blockDestinations": true, "preGrants": true, "allowPort443": true, "allowPrivate": true,
		"promptTimeoutSeconds": true, "certificatePins": true,
	},
	// "host" and "sha256" are the keys of a certificate pin; a destination rule that has them is
	// still refused, by the decoder.
	inner: map[string]bool{"origins": true, "hosts": true, "cidrs": true, "ports": true, "protocols": true,
		"host": true, "sha256": true},
}

// EnterpriseFileError reports a policy file that cannot be used. The app must then fail closed:
// treat the API as disabled and show Error().
type EnterpriseFileError struct {
	File string // the name passed to ParseEnterpriseFile
	Msg  string // what is wrong, with a line and column or a JSON path where one is known
}

// Error names the file and the problem. The file name is the administrator's path, shown in full
// (strconv.Quote keeps control characters out of the message); only values from the file are shortened.
func (e *EnterpriseFileError) Error() string {
	return "socketeer policy file " + strconv.Quote(e.File) + ": " + e.Msg
}

// ParseEnterpriseFile parses and validates one policy file. name is only used in the error, which
// is an *EnterpriseFileError. An empty file is an error, like every other malformed one.
//
// Threat: a policy that is not what the administrator meant — a typo that was silently ignored
// would leave machines unprotected while the administrator believes otherwise. So the JSON is read
// strictly (see decodeStrict) and every pattern is validated here, and the caller must fail closed
// on an error rather than skip the file.
func ParseEnterpriseFile(name string, b []byte) (EnterpriseFile, error) {
	var f EnterpriseFile
	if err := decodeStrict(b, enterpriseKeys, &f); err != nil {
		return EnterpriseFile{}, &EnterpriseFileError{File: name, Msg: err.Error()}
	}
	if _, err := compileFile(f); err != nil {
		return EnterpriseFile{}, &EnterpriseFileError{File: name, Msg: err.Error()}
	}
	return f, nil
}

// tristate is a setting that several files may set: unset, or explicitly true or false.
type tristate uint8

const (
	unset tristate = iota
	setTrue
	setFalse
)

// merge combines two settings so that false wins over true, and either wins over unset.
func (t tristate) merge(b *bool) tristate {
	switch {
	case b == nil:
		return t
	case !*b:
		return setFalse
	case t == setFalse:
		return setFalse
	}
	return setTrue
}

// Enterprise is the merged policy of every file. The zero value is "no enterprise policy". Build it
// with MergeEnterprise; it is read-only afterwards and safe to share.
type Enterprise struct {
	disabled bool
	// invalid is set when MergeEnterprise was handed a file that does not validate (one built by
	// hand rather than by ParseEnterpriseFile). The policy then fails closed: the API is disabled.
	invalid      bool
	allowPort443 tristate
	allowPrivate tristate
	timeout      int // 0 when no file shortens the timeout
	allowOrigins []originPattern
	blockOrigins []originPattern
	allowDests   []destRule
	blockDests   []destRule
	preGrants    []destRule
	preGrantSrc  []DestRule
	pins         []certPin
}

// MergeEnterprise combines policy files. A deny anywhere wins: Disabled true in any file disables
// the API; AllowPort443 and AllowPrivate are on only if some file turns them on and none turns them
// off; block lists, allow lists and pre-grants are unions; the prompt timeout is the shortest set.
// The order of files does not matter.
//
// Note that an allow list restricts as soon as any file has one: a file without AllowOrigins does
// not mean "every origin" when another file lists some.
func MergeEnterprise(files []EnterpriseFile) Enterprise {
	var e Enterprise
	for _, f := range files {
		c, err := compileFile(f)
		if err != nil {
			e.invalid = true
			continue
		}
		if f.Disabled != nil && *f.Disabled {
			e.disabled = true
		}
		e.allowPort443 = e.allowPort443.merge(f.AllowPort443)
		e.allowPrivate = e.allowPrivate.merge(f.AllowPrivate)
		if f.PromptTimeoutSeconds != nil && (e.timeout == 0 || *f.PromptTimeoutSeconds < e.timeout) {
			e.timeout = *f.PromptTimeoutSeconds
		}
		e.allowOrigins = append(e.allowOrigins, c.allowOrigins...)
		e.blockOrigins = append(e.blockOrigins, c.blockOrigins...)
		e.allowDests = append(e.allowDests, c.allowDests...)
		e.blockDests = append(e.blockDests, c.blockDests...)
		e.preGrants = append(e.preGrants, c.preGrants...)
		e.preGrantSrc = append(e.preGrantSrc, copyRules(f.PreGrants)...)
		e.pins = append(e.pins, c.pins...)
	}
	return e
}

// PromptTimeoutSeconds is how long the consent dialog may wait for an answer.
func (e Enterprise) PromptTimeoutSeconds() int {
	if e.timeout == 0 {
		return DefaultPromptTimeoutSeconds
	}
	return e.timeout
}

// Disabled reports whether the policy turns the API off, including because a file was invalid.
func (e Enterprise) Disabled() bool { return e.disabled || e.invalid }

// Config returns the settings for Decide: Disabled, AllowPort443 and AllowPrivate as the policy
// sets them, and Enterprise pointing at a copy of e so that the origin and destination rules apply
// too. Passing only the three flags without Enterprise would drop every block rule.
func (e Enterprise) Config() Config {
	c := e
	return Config{
		Disabled:     e.Disabled(),
		AllowPort443: e.allowPort443 == setTrue,
		AllowPrivate: e.allowPrivate == setTrue,
		Enterprise:   &c,
	}
}

// IsZero reports whether no file set anything.
func (e Enterprise) IsZero() bool {
	return !e.disabled && !e.invalid && e.allowPort443 == unset && e.allowPrivate == unset && e.timeout == 0 &&
		len(e.allowOrigins) == 0 && len(e.blockOrigins) == 0 && len(e.allowDests) == 0 &&
		len(e.blockDests) == 0 && len(e.preGrants) == 0 && len(e.pins) == 0
}

// PreGrantsFor returns, as written, the pre-grant rules whose origins cover origin, for
// `grants list` to show as managed.
func (e Enterprise) PreGrantsFor(origin string) []DestRule {
	o, err := ParseOrigin(origin)
	if err != nil {
		return nil
	}
	var out []DestRule
	for i, r := range e.preGrants {
		for _, p := range r.origins {
			if p.match(o) {
				out = append(out, copyRules(e.preGrantSrc[i:i+1])...)
				break
			}
		}
	}
	return out
}

func copyRules(rs []DestRule) []DestRule {
	out := make([]DestRule, len(rs))
	for i, r := range rs {
		out[i] = DestRule{
			Origins:   append([]string(nil), r.Origins...),
			Hosts:     append([]string(nil), r.Hosts...),
			CIDRs:     append([]string(nil), r.CIDRs...),
			Ports:     append([]string(nil), r.Ports...),
			Protocols: append([]Protocol(nil), r.Protocols...),
		}
	}
	return out
}

// apply folds the policy's switches into cfg so that the policy always wins: it can turn the API
// off and turn AllowPort443 and AllowPrivate on or off, whatever cfg says.
func (e *Enterprise) apply(cfg Config) Config {
	if e.Disabled() {
		cfg.Disabled = true
	}
	switch e.allowPort443 {
	case setTrue:
		cfg.AllowPort443 = true
	case setFalse:
		cfg.AllowPort443 = false
	}
	switch e.allowPrivate {
	case setTrue:
		cfg.AllowPrivate = true
	case setFalse:
		cfg.AllowPrivate = false
	}
	return cfg
}

// originAllowed applies BlockOrigins and AllowOrigins.
//
// Threat: an organisation's users visiting a site the organisation does not trust with sockets —
// the block list wins over the allow list, and an allow list, once present, admits nothing else.
func (e *Enterprise) originAllowed(o Origin) bool {
	if anyOrigin(e.blockOrigins, o) {
		return false
	}
	return len(e.allowOrigins) == 0 || anyOrigin(e.allowOrigins, o)
}

// destination is what the destination rules look at.
type destination struct {
	origin   Origin
	protocol Protocol
	mode     Mode
	host     Host
	port     int
	addrs    []netip.Addr
}

// decideDestination applies the destination rules and pre-grants. It is called by Decide after the
// structural and address checks, and before the DNS rebinding check, and returns ok=false when the
// rules have nothing to say. local is what Decide would report as LocalNetwork.
func (e *Enterprise) decideDestination(d destination, local bool) (Decision, bool) {
	// Threat: destinations the organisation has ruled out (production databases, management
	// interfaces) — a matching block rule refuses the request whatever else matches, grants and
	// pre-grants included.
	for _, r := range e.blockDests {
		if r.blocks(d) {
			return managed(Deny, ReasonManagedDestinationBlocked, false), true
		}
	}
	// Threat: the same, stated as an allow list — once any file has one, a destination no allow
	// rule covers is refused, grants and pre-grants included.
	if len(e.allowDests) > 0 {
		allowed := false
		for _, r := range e.allowDests {
			if r.allows(d) {
				allowed = true
				break
			}
		}
		if !allowed {
			return managed(Deny, ReasonManagedDestinationNotAllowed, false), true
		}
	}
	// A pre-grant is an administrator's standing "allow" for connections only: serving sockets
	// accept traffic from anywhere, which is not what a destination rule describes.
	if d.mode == Connect {
		for _, r := range e.preGrants {
			if r.preGrants(d) {
				return managed(Allow, ReasonManagedGrant, local), true
			}
		}
	}
	return Decision{}, false
}

// allowListCovers reports whether the policy has destination allow rules and one covers req.
func (e *Enterprise) allowListCovers(req Request) bool {
	if len(e.allowDests) == 0 {
		return false
	}
	origin, err := ParseOrigin(req.Origin)
	if err != nil {
		return false
	}
	d := destination{origin: origin, protocol: req.Protocol, mode: req.Mode, host: req.Host,
		port: req.Port, addrs: req.Addresses}
	for _, r := range e.allowDests {
		if r.allows(d) {
			return true
		}
	}
	return false
}

// allowsServingPort reports whether an allow rule for this origin and protocol names the serving
// port explicitly. A rule without ports covers "any destination port" for connections; it is not
// read as permission to take a reserved local port, which an administrator must name.
func (e *Enterprise) allowsServingPort(origin Origin, req Request) bool {
	d := destination{origin: origin, protocol: req.Protocol, mode: req.Mode, host: req.Host,
		port: req.Port, addrs: req.Addresses}
	for _, r := range e.allowDests {
		if len(r.ports) > 0 && r.allows(d) {
			return true
		}
	}
	return false
}

func managed(v Verdict, r Reason, local bool) Decision {
	d := decision(v, r, local)
	d.Managed = true
	return d
}

// originPattern is a compiled origin pattern; see the notes at the top of enterprise.go.
type originPattern struct {
	host     string // canonical host name, or the suffix after "*." for a wildcard
	wildcard bool
	port     int // 0 matches any port
}

func parseOriginPattern(s string) (originPattern, error) {
	const scheme = "https://"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return originPattern{}, fmt.Errorf("origin pattern %s must start with %q", quote(s), scheme)
	}
	rest := s[len(scheme):]
	var p originPattern
	if strings.HasPrefix(rest, "*.") {
		p.wildcard = true
		rest = rest[2:]
	}
	// ParseOrigin does all the host and port validation; the pattern only adds the wildcard and
	// remembers whether a port was written, which ParseOrigin's canonical form forgets for 443.
	o, err := ParseOrigin(scheme + rest)
	if err != nil {
		return originPattern{}, fmt.Errorf("origin pattern %s is not valid: %s", quote(s), err)
	}
	if p.wildcard && o.Host.IsLiteral() {
		return originPattern{}, fmt.Errorf("origin pattern %s puts a wildcard in front of an IP address", quote(s))
	}
	if strings.LastIndexByte(rest, ':') > strings.LastIndexByte(rest, ']') {
		p.port = o.Port
	}
	p.host = o.Host.Name
	return p, nil
}

// match reports whether o matches. A wildcard matches only when the origin's host ends in "." plus
// the suffix, so "*.corp.example" matches neither "corp.example.evil" nor "evilcorp.example".
func (p originPattern) match(o Origin) bool {
	if p.port != 0 && o.Port != p.port {
		return false
	}
	if p.wildcard {
		return !o.Host.IsLiteral() && strings.HasSuffix(o.Host.Name, "."+p.host)
	}
	return o.Host.Name == p.host
}

// hostPattern is a compiled host pattern; see the notes at the top of enterprise.go.
type hostPattern struct {
	name     string // canonical name, or the suffix after "*." for a wildcard
	wildcard bool
}

func parseHostPattern(s string) (hostPattern, error) {
	var p hostPattern
	rest := s
	if strings.HasPrefix(rest, "*.") {
		p.wildcard = true
		rest = rest[2:]
	}
	h, err := ParseHost(rest)
	if err != nil {
		return hostPattern{}, fmt.Errorf("host pattern %s is not valid: %s", quote(s), err)
	}
	if h.IsLiteral() {
		return hostPattern{}, fmt.Errorf("host pattern %s is an IP address; put addresses in \"cidrs\"", quote(s))
	}
	p.name = h.Name
	return p, nil
}

func (p hostPattern) match(h Host) bool {
	if h.IsLiteral() {
		return false
	}
	if p.wildcard {
		return strings.HasSuffix(h.Name, "."+p.name)
	}
	return h.Name == p.name
}

// parseCIDR accepts a canonical prefix or a bare address.
func parseCIDR(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		p, err = netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("CIDR %s is not valid", quote(s))
		}
		// Threat: a typo that changes the meaning — "10.1.2.3/8" could mean the /8 or the one
		// host; refusing it makes the administrator say which.
		if p.Masked() != p {
			return netip.Prefix{}, fmt.Errorf("CIDR %s has bits set after the prefix length; write %s", quote(s), quote(p.Masked().String()))
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("CIDR %s is not valid", quote(s))
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	// Addresses are unmapped before matching, so an IPv4-mapped range would never match anything
	// and would give a false sense of protection.
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("CIDR %s is an IPv4-mapped IPv6 range; write the IPv4 range instead", quote(s))
	}
	return p, nil
}

// portRange is an inclusive range of ports.
type portRange struct{ lo, hi int }

func parsePortRange(s string) (portRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, okA := parsePortNumber(lo)
	b, okB := a, okA
	if isRange {
		b, okB = parsePortNumber(hi)
	}
	if !okA || !okB {
		return portRange{}, fmt.Errorf("port %s is not a port (1 to 65535) or a range such as \"5000-5010\"", quote(s))
	}
	if a > b {
		return portRange{}, fmt.Errorf("port range %s runs backwards", quote(s))
	}
	return portRange{a, b}, nil
}

// parsePortNumber accepts 1 to 5 decimal digits with a value from 1 to 65535; signs, spaces and
// other bases are refused so that every spelling means one thing.
func parsePortNumber(s string) (int, bool) {
	if len(s) == 0 || len(s) > 5 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, false
	}
	return n, true
}

// destRule is a compiled DestRule.
type destRule struct {
	origins   []originPattern
	hosts     []hostPattern
	cidrs     []netip.Prefix
	ports     []portRange
	protocols []Protocol
	src       DestRule // the rule as written, for showing it (see ForSite)
}

// compiledFile is an EnterpriseFile with every pattern parsed.
type compiledFile struct {
	allowOrigins, blockOrigins        []originPattern
	allowDests, blockDests, preGrants []destRule
	pins                              []certPin
}

func compileFile(f EnterpriseFile) (compiledFile, error) {
	var c compiledFile
	var err error
	if c.allowOrigins, err = compileOrigins("allowOrigins", f.AllowOrigins); err != nil {
		return c, err
	}
	if c.blockOrigins, err = compileOrigins("blockOrigins", f.BlockOrigins); err != nil {
		return c, err
	}
	if c.allowDests, err = compileRules("allowDestinations", f.AllowDestinations, false); err != nil {
		return c, err
	}
	if c.blockDests, err = compileRules("blockDestinations", f.BlockDestinations, false); err != nil {
		return c, err
	}
	if c.preGrants, err = compileRules("preGrants", f.PreGrants, true); err != nil {
		return c, err
	}
	if c.pins, err = compilePins(f.CertificatePins); err != nil {
		return c, err
	}
	// Threat: a policy that lengthens the prompt — the 60-second default bounds how long a page
	// can keep a dialog up, so the policy may only shorten it; zero would deny every prompt at
	// once, which "disabled" says more clearly.
	if t := f.PromptTimeoutSeconds; t != nil && (*t < 1 || *t > DefaultPromptTimeoutSeconds) {
		return c, fmt.Errorf("promptTimeoutSeconds is %d; it must be from 1 to %d (it can only shorten the default)", *t, DefaultPromptTimeoutSeconds)
	}
	return c, nil
}

func compileOrigins(path string, in []string) ([]originPattern, error) {
	var out []originPattern
	for i, s := range in {
		p, err := parseOriginPattern(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", path, i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func compileRules(path string, in []DestRule, preGrant bool) ([]destRule, error) {
	var out []destRule
	for i, r := range in {
		c, err := compileRule(r, preGrant)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", path, i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func compileRule(r DestRule, preGrant bool) (destRule, error) {
	c := destRule{src: copyRules([]DestRule{r})[0]}
	var err error
	if c.origins, err = compileOrigins("origins", r.Origins); err != nil {
		return c, err
	}
	for i, s := range r.Hosts {
		p, err := parseHostPattern(s)
		if err != nil {
			return c, fmt.Errorf("hosts[%d]: %w", i, err)
		}
		c.hosts = append(c.hosts, p)
	}
	for i, s := range r.CIDRs {
		p, err := parseCIDR(s)
		if err != nil {
			return c, fmt.Errorf("cidrs[%d]: %w", i, err)
		}
		c.cidrs = append(c.cidrs, p)
	}
	for i, s := range r.Ports {
		p, err := parsePortRange(s)
		if err != nil {
			return c, fmt.Errorf("ports[%d]: %w", i, err)
		}
		c.ports = append(c.ports, p)
	}
	for i, p := range r.Protocols {
		if p != TCP && p != UDP {
			return c, fmt.Errorf("protocols[%d]: protocol %s is not \"tcp\" or \"udp\"", i, quote(string(p)))
		}
		c.protocols = append(c.protocols, p)
	}
	// Threat: a rule that means more than it says — "{}" would match every request, which in a
	// block list silently disables the API and in an allow list silently allows everything.
	if len(r.Origins)+len(r.Hosts)+len(r.CIDRs)+len(r.Ports)+len(r.Protocols) == 0 {
		return c, errors.New("the rule is empty, so it would match every request; use \"disabled\" to turn the API off")
	}
	if preGrant {
		// Threat: a blanket pre-grant — without origins every page on the internet could reach
		// the destination without a prompt, and without hosts or CIDRs every destination would be
		// reachable without one.
		if len(r.Origins) == 0 {
			return c, errors.New("a pre-grant must list the origins it is for")
		}
		if len(r.Hosts)+len(r.CIDRs) == 0 {
			return c, errors.New("a pre-grant must name hosts or CIDRs")
		}
	}
	return c, nil
}

// scope reports whether the rule's origins, protocols and ports cover the request.
func (r destRule) scope(d destination) bool {
	if len(r.origins) > 0 {
		ok := false
		for _, p := range r.origins {
			if p.match(d.origin) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(r.protocols) > 0 {
		ok := false
		for _, p := range r.protocols {
			if p == d.protocol {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(r.ports) > 0 {
		ok := false
		for _, p := range r.ports {
			if d.port >= p.lo && d.port <= p.hi {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (r destRule) hostMatch(h Host) bool {
	for _, p := range r.hosts {
		if p.match(h) {
			return true
		}
	}
	return false
}

// blocks reports whether a block rule matches: one address inside is enough.
//
// Threat: address wrapping and mixed answers — every resolved address is checked, each with every
// IPv4 address it wraps, so neither a NAT64 or 6to4 spelling nor a public address listed first
// hides a blocked one from the rule.
func (r destRule) blocks(d destination) bool {
	if !r.scope(d) {
		return false
	}
	if len(r.hosts) == 0 && len(r.cidrs) == 0 {
		return true
	}
	if r.hostMatch(d.host) {
		return true
	}
	for _, a := range d.addrs {
		for _, u := range Unwrap(a) {
			if prefixesContain(r.cidrs, u) {
				return true
			}
		}
	}
	return false
}

// allows reports whether an allow rule matches: the name matches a host pattern, or every address
// is covered by the rule's CIDRs.
func (r destRule) allows(d destination) bool {
	if !r.scope(d) {
		return false
	}
	if len(r.hosts) == 0 && len(r.cidrs) == 0 {
		return true
	}
	return r.hostMatch(d.host) || (len(r.cidrs) > 0 && coversAll(r.cidrs, d.addrs, false))
}

// preGrants reports whether a pre-grant rule lets the request connect without a prompt.
//
// Threat: DNS rebinding through a pre-grant — a pre-grant for a name must not carry over to an
// internal address the name happens to resolve to, or whoever controls (or spoofs) that name's DNS
// could reach the user's network silently. Every non-public address must therefore lie inside one
// of the rule's own CIDRs, whatever kind of name or literal was asked for.
func (r destRule) preGrants(d destination) bool {
	if !r.scope(d) || len(d.addrs) == 0 {
		return false
	}
	if !r.hostMatch(d.host) && !(len(r.cidrs) > 0 && coversAll(r.cidrs, d.addrs, false)) {
		return false
	}
	return coversAll(r.cidrs, d.addrs, true)
}

// coversAll reports whether every address (or, with nonPublicOnly, every non-public address) is
// covered by the prefixes, as covered defines it.
func coversAll(ps []netip.Prefix, addrs []netip.Addr, nonPublicOnly bool) bool {
	for _, a := range addrs {
		if nonPublicOnly && Classify(a).IsPublic() {
			continue
		}
		if !covered(ps, a) {
			return false
		}
	}
	return true
}

// covered reports whether a lies inside the prefixes: either the address itself does, or it wraps
// IPv4 addresses and every one of them does. Requiring all wrapped addresses keeps a Teredo
// address, which wraps two, from being allowed because only one of them is inside.
func covered(ps []netip.Prefix, a netip.Addr) bool {
	u := Unwrap(a)
	if len(u) == 0 {
		return false
	}
	if prefixesContain(ps, u[0]) {
		return true
	}
	if len(u) == 1 {
		return false
	}
	for _, w := range u[1:] {
		if !prefixesContain(ps, w) {
			return false
		}
	}
	return true
}

func prefixesContain(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Unwrap returns the addresses a packet sent to a may really be delivered to: first a itself, with
// any zone removed and an IPv4-mapped address turned into plain IPv4, then every IPv4 address a
// wraps — IPv4-compatible (::a.b.c.d), well-known NAT64 (64:ff9b::/96), 6to4 (2002::/16) and
// Teredo (2001::/32: the server, then the inverted client address). It is the same unwrapping
// Classify does, exposed so that CIDR rules match a wrapped address by the address it wraps. An
// invalid address yields nil.
func Unwrap(a netip.Addr) []netip.Addr {
	if !a.IsValid() {
		return nil
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return []netip.Addr{a}
	}
	b := a.As16()
	v4 := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{b[i], b[i+1], b[i+2], b[i+3]}) }
	switch {
	case ipv4Compatible.Contains(a) && a != netip.IPv6Unspecified() && a != netip.IPv6Loopback():
		return []netip.Addr{a, v4(12)}
	case nat64WellKnown.Contains(a):
		return []netip.Addr{a, v4(12)}
	case sixToFour.Contains(a):
		return []netip.Addr{a, v4(2)}
	case teredo.Contains(a):
		client := netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
		return []netip.Addr{a, v4(4), client}
	}
	return []netip.Addr{a}
}
