package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GrantsVersion is the version of the grants file format that Encode writes and ParseGrants
// accepts. A file with any other version is refused rather than guessed at: reading a future format
// with today's rules could widen a grant the user never gave.
const GrantsVersion = 1

// Grant is one remembered "allow future connections" answer. Every key field is stored in canonical
// form, so that two spellings of the same destination can never become two grants, and so that a
// grant can never be matched by a spelling that means something else.
type Grant struct {
	Origin   string   `json:"origin"`   // canonical: ParseOrigin(...).String()
	Protocol Protocol `json:"protocol"` // "tcp" or "udp"
	Mode     Mode     `json:"mode"`     // "connect", "listen" or "bind"
	Host     string   `json:"host"`     // canonical Host.Name
	Port     int      `json:"port"`
	TLS      bool     `json:"tls"`
	// Created is RFC 3339 text supplied by the caller, because this package reads no clock. It may
	// be empty when the time is unknown.
	Created string `json:"created"`
	// Managed marks a grant that comes from enterprise policy. It is never stored: Encode leaves
	// such grants out and Add refuses them, so that a rule the administrator later withdraws cannot
	// live on as an ordinary user grant.
	Managed bool `json:"-"`
}

// Grants is the content of one profile's grants file.
type Grants struct {
	Version int     `json:"version"`
	Grants  []Grant `json:"grants"`
}

// grantKey is everything a grant is looked up by. Created and Managed are deliberately absent: they
// describe a grant, they do not select a destination.
type grantKey struct {
	origin   string
	protocol Protocol
	mode     Mode
	host     string
	port     int
	tls      bool
}

func (g Grant) key() grantKey {
	return grantKey{g.Origin, g.Protocol, g.Mode, g.Host, g.Port, g.TLS}
}

// Validate reports whether the grant is well formed and canonical. The error describes the first
// problem found and quotes the offending value (escaped, and shortened if long).
func (g Grant) Validate() error {
	// Threat: key confusion — a grant stored under a non-canonical origin or host would either never
	// match (harmless but confusing) or, worse, be matched by a lookup that canonicalises
	// differently. Only the exact canonical text is accepted.
	o, err := ParseOrigin(g.Origin)
	if err != nil {
		return fmt.Errorf("origin %s is not a valid https origin", quote(g.Origin))
	}
	if c := o.String(); c != g.Origin {
		return fmt.Errorf("origin %s is not in canonical form (it should read %s)", quote(g.Origin), quote(c))
	}
	// Threat: a confused caller — an unknown protocol or an impossible protocol and mode pair must
	// not be stored, because Decide would refuse it anyway and its presence means the file was
	// edited or damaged.
	if !validShape(g.Protocol, g.Mode) {
		return fmt.Errorf("protocol %s with mode %s is not a supported kind of socket", quote(string(g.Protocol)), quote(string(g.Mode)))
	}
	h, err := ParseHost(g.Host)
	if err != nil {
		return fmt.Errorf("host %s is not a valid host name or IP address", quote(g.Host))
	}
	if h.Name != g.Host {
		return fmt.Errorf("host %s is not in canonical form (it should read %s)", quote(g.Host), quote(h.Name))
	}
	// Decide only lets a page listen or bind on an IP literal, so a grant for a name in those
	// modes could never apply and can only be the result of damage or hand editing.
	if g.Mode != Connect && !h.IsLiteral() {
		return fmt.Errorf("a %s grant must name an IP address, not %s", g.Mode, quote(g.Host))
	}
	// Threat: port 0 means "any port" to the kernel, and values above 65535 wrap around. Only a
	// serving socket may hold port 0, and there it means what the page asked for: a port the
	// operating system chooses.
	if (g.Port < 1 && !(g.Port == 0 && g.Mode != Connect)) || g.Port > 65535 {
		return fmt.Errorf("port %d is not between 1 and 65535", g.Port)
	}
	// Threat: terminal and log injection — `grants list` prints Created, so it must be a plain
	// timestamp, never arbitrary text with control characters in it.
	if g.Created != "" {
		if _, err := time.Parse(time.RFC3339, g.Created); err != nil {
			return fmt.Errorf("created %s is not an RFC 3339 time", quote(g.Created))
		}
	}
	return nil
}

// NewGrant builds the canonical grant that covers req, for storing after the user chose "remember".
// The origin is canonicalised here, so the caller may pass the request exactly as it gave it to
// Decide.
func NewGrant(req Request, created string) (Grant, error) {
	o, err := ParseOrigin(req.Origin)
	if err != nil {
		return Grant{}, fmt.Errorf("origin %s is not a valid https origin", quote(req.Origin))
	}
	g := Grant{
		Origin:   o.String(),
		Protocol: req.Protocol,
		Mode:     req.Mode,
		Host:     req.Host.Name,
		Port:     req.Port,
		TLS:      req.TLS,
		Created:  created,
	}
	if err := g.Validate(); err != nil {
		return Grant{}, err
	}
	return g, nil
}

// grantsKeys lists the object keys of the grants format, spelled exactly: those of the top-level
// object, then those of a grant. See decodeStrict.
var grantsKeys = jsonKeys{
	top:   map[string]bool{"version": true, "grants": true},
	inner: map[string]bool{"origin": true, "protocol": true, "mode": true, "host": true, "port": true, "tls": true, "created": true},
}

// grantsFile and grantJSON mirror the stored format with pointers, so that a missing field can be
// told apart from a zero one.
type grantsFile struct {
	Version *int         `json:"version"`
	Grants  *[]grantJSON `json:"grants"`
}

type grantJSON struct {
	Origin   *string   `json:"origin"`
	Protocol *Protocol `json:"protocol"`
	Mode     *Mode     `json:"mode"`
	Host     *string   `json:"host"`
	Port     *int      `json:"port"`
	TLS      *bool     `json:"tls"`
	Created  *string   `json:"created"`
}

// ParseGrants reads a grants file. It is strict on purpose: the version must be GrantsVersion, every
// field of every grant must be present, unknown or duplicated keys are refused, and every grant must
// pass Validate. Any problem makes the whole file an error that says which grant is bad.
//
// Threat: silent loss or silent widening — a damaged file must be reported (the app moves it aside
// and tells the user) rather than partly loaded. Loading what looks valid and skipping the rest
// would make grants vanish without explanation, and a lenient reader that filled in missing fields
// with defaults could turn a TLS grant into a plaintext one.
func ParseGrants(b []byte) (Grants, error) {
	var f grantsFile
	if err := decodeStrict(b, grantsKeys, &f); err != nil {
		return Grants{}, err
	}
	if f.Version == nil {
		return Grants{}, errors.New(`the file has no "version"`)
	}
	if *f.Version != GrantsVersion {
		return Grants{}, fmt.Errorf("version %d is not supported (this program reads version %d)", *f.Version, GrantsVersion)
	}
	if f.Grants == nil {
		return Grants{}, errors.New(`the file has no "grants" list`)
	}
	out := Grants{Version: GrantsVersion, Grants: make([]Grant, 0, len(*f.Grants))}
	seen := make(map[grantKey]int, len(*f.Grants))
	for i, raw := range *f.Grants {
		g, err := raw.grant()
		if err == nil {
			err = g.Validate()
		}
		if err != nil {
			return Grants{}, fmt.Errorf("grant %d: %w", i, err)
		}
		// A duplicate cannot come from Add, so it means the file was edited or damaged; keeping
		// one copy would silently drop the other, which might differ in Created.
		if j, dup := seen[g.key()]; dup {
			return Grants{}, fmt.Errorf("grant %d: repeats grant %d", i, j)
		}
		seen[g.key()] = i
		out.Grants = append(out.Grants, g)
	}
	return out, nil
}

func (r grantJSON) grant() (Grant, error) {
	missing := func(field string) error { return fmt.Errorf("the %q field is missing", field) }
	switch {
	case r.Origin == nil:
		return Grant{}, missing("origin")
	case r.Protocol == nil:
		return Grant{}, missing("protocol")
	case r.Mode == nil:
		return Grant{}, missing("mode")
	case r.Host == nil:
		return Grant{}, missing("host")
	case r.Port == nil:
		return Grant{}, missing("port")
	case r.TLS == nil:
		return Grant{}, missing("tls")
	case r.Created == nil:
		return Grant{}, missing("created")
	}
	return Grant{Origin: *r.Origin, Protocol: *r.Protocol, Mode: *r.Mode, Host: *r.Host, Port: *r.Port,
		TLS: *r.TLS, Created: *r.Created}, nil
}

// Encode returns the file content for g: indented JSON with a trailing newline, version
// GrantsVersion, grants sorted by origin, protocol, mode, host, port and TLS. The same set of grants
// always encodes to the same bytes, so the file diffs cleanly and a rewrite that changes nothing
// changes no byte. Managed grants are left out (see Grant.Managed).
func (g Grants) Encode() []byte {
	list := make([]Grant, 0, len(g.Grants))
	for _, gr := range g.Grants {
		if !gr.Managed {
			list = append(list, gr)
		}
	}
	sortGrants(list)
	out, err := json.MarshalIndent(Grants{Version: GrantsVersion, Grants: list}, "", "  ")
	if err != nil {
		// Marshalling strings, ints and bools cannot fail; reaching this is a programming error.
		panic("policy: encoding grants: " + err.Error())
	}
	return append(out, '\n')
}

func sortGrants(list []Grant) {
	slices.SortStableFunc(list, func(a, b Grant) int {
		if c := strings.Compare(a.Origin, b.Origin); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.Protocol), string(b.Protocol)); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.Mode), string(b.Mode)); c != 0 {
			return c
		}
		if c := strings.Compare(a.Host, b.Host); c != 0 {
			return c
		}
		if a.Port != b.Port {
			if a.Port < b.Port {
				return -1
			}
			return 1
		}
		if a.TLS != b.TLS {
			if !a.TLS {
				return -1
			}
			return 1
		}
		return 0
	})
}

// Find returns the grant whose keys all equal the arguments exactly. Callers pass the canonical
// origin (Origin.String()) and host (Host.Name); no canonicalisation happens here, so a
// non-canonical spelling finds nothing and the user is asked again, which is the safe direction.
//
// Threat: downgrade — TLS is part of the key, so a grant given for an encrypted connection never
// covers a plaintext one to the same host and port, or the reverse.
func (g Grants) Find(origin string, p Protocol, m Mode, host string, port int, tls bool) (Grant, bool) {
	k := grantKey{origin, p, m, host, port, tls}
	for _, gr := range g.Grants {
		if gr.key() == k {
			return gr, true
		}
	}
	return Grant{}, false
}

// Covers reports whether a grant matches req, canonicalising the origin first. The result is what
// the caller should put in Request.Granted.
func (g Grants) Covers(req Request) bool {
	o, err := ParseOrigin(req.Origin)
	if err != nil {
		return false
	}
	_, ok := g.Find(o.String(), req.Protocol, req.Mode, req.Host.Name, req.Port, req.TLS)
	return ok
}

// Add records gr and reports whether it did. It returns false when a grant with the same keys is
// already present, and also when gr fails Validate or is Managed: storing either would produce a
// file that ParseGrants refuses or a managed rule that outlives the policy. Callers that want the
// reason should call Validate first.
func (g *Grants) Add(gr Grant) bool {
	if gr.Managed || gr.Validate() != nil {
		return false
	}
	if _, ok := g.Find(gr.Origin, gr.Protocol, gr.Mode, gr.Host, gr.Port, gr.TLS); ok {
		return false
	}
	if g.Version == 0 {
		g.Version = GrantsVersion
	}
	g.Grants = append(g.Grants, gr)
	return true
}

// Remove deletes the grant with exactly these keys and reports whether there was one.
func (g *Grants) Remove(origin string, p Protocol, m Mode, host string, port int, tls bool) bool {
	k := grantKey{origin, p, m, host, port, tls}
	n := len(g.Grants)
	g.Grants = slices.DeleteFunc(g.Grants, func(gr Grant) bool { return gr.key() == k })
	return len(g.Grants) != n
}

// ForOrigin returns a sorted copy of the grants for one canonical origin.
func (g Grants) ForOrigin(origin string) []Grant {
	var out []Grant
	for _, gr := range g.Grants {
		if gr.Origin == origin {
			out = append(out, gr)
		}
	}
	sortGrants(out)
	return out
}

// maxJSONDepth bounds nesting in the files this package reads. The deepest legitimate value is a
// string inside a list inside a rule inside a list inside the top-level object.
const maxJSONDepth = 8

// jsonKeys lists the keys a format allows: in the top-level object, and in the objects nested in
// it. Both formats this package reads have exactly one kind of nested object (a grant, a rule).
type jsonKeys struct{ top, inner map[string]bool }

// decodeStrict decodes the single JSON object in b into v, refusing everything a lenient reader
// would quietly accept. keys lists the object keys the format uses, spelled exactly.
//
// Threat: parser differentials — encoding/json on its own matches keys case-insensitively, lets a
// repeated key silently override an earlier one, treats null as "absent" and ignores unknown keys.
// An administrator's validator, a text search or a reviewer reading the file could then see a
// different policy from the one enforced ("disabled": true followed by "Disabled": false). So keys
// must be spelled exactly and appear once per object, null is refused, unknown keys are refused
// and nothing may follow the object.
func decodeStrict(b []byte, keys jsonKeys, v any) error {
	if len(bytes.Trim(b, jsonSpace)) == 0 {
		return errors.New("the file is empty")
	}
	if err := checkJSONShape(b, keys); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	// checkJSONShape already refused unknown keys with a position; this is a second line of
	// defence should the two lists ever drift apart.
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeJSONError(b, err)
	}
	return nil
}

// jsonSpace is the whitespace JSON allows between tokens (RFC 8259); nothing else is skipped.
const jsonSpace = " \t\r\n"

type jsonFrame struct {
	object  bool
	wantKey bool
	seen    map[string]bool
}

// checkJSONShape walks the token stream of b and enforces the rules decodeStrict describes that
// encoding/json's decoder does not.
func checkJSONShape(b []byte, keys jsonKeys) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var stack []*jsonFrame
	// valueDone records that a complete value was read in the current container: in an object the
	// next token is then a key again.
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].wantKey = true
		}
	}
	for started := false; !started || len(stack) > 0; started = true {
		tok, err := dec.Token()
		if err != nil {
			return describeJSONError(b, err)
		}
		at := dec.InputOffset()
		if !started {
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return errors.New("the file must contain a JSON object")
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= maxJSONDepth {
					return fmt.Errorf("%s: the JSON is nested too deeply", position(b, at))
				}
				stack = append(stack, &jsonFrame{object: t == '{', wantKey: t == '{', seen: map[string]bool{}})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if top := stack[len(stack)-1]; top.object && top.wantKey {
				allowed := keys.inner
				if len(stack) == 1 {
					allowed = keys.top
				}
				if !allowed[t] {
					return fmt.Errorf("%s: unknown key %s", position(b, at), quote(t))
				}
				// Keys are compared case-folded so that a key encoding/json would treat as the
				// same field counts as a repeat too.
				folded := strings.ToLower(t)
				if top.seen[folded] {
					return fmt.Errorf("%s: key %s appears twice in the same object", position(b, at), quote(t))
				}
				top.seen[folded] = true
				top.wantKey = false
				continue
			}
			valueDone()
		case nil:
			return fmt.Errorf("%s: null is not allowed; leave the key out instead", position(b, at))
		default:
			valueDone()
		}
	}
	if rest := bytes.Trim(b[dec.InputOffset():], jsonSpace); len(rest) != 0 {
		return fmt.Errorf("%s: unexpected text after the JSON object", position(b, len(b)-len(rest)))
	}
	return nil
}

// describeJSONError turns an encoding/json error into a sentence with a line and column, without
// the Go type names an administrator cannot act on.
func describeJSONError(b []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("%s: invalid JSON: %s", position(b, se.Offset), strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "value"
		}
		return fmt.Errorf("%s: %s must be %s, not a JSON %s", position(b, te.Offset), quote(field), jsonTypeName(te.Type.Kind().String()), te.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if msg == "EOF" || msg == "unexpected EOF" {
		// Token and Decode report running out of input this way; the usual cause is a write that
		// was cut short.
		return errors.New("the JSON ends too early; the file looks truncated")
	}
	return errors.New(msg)
}

func jsonTypeName(kind string) string {
	switch kind {
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "slice", "array":
		return "a list"
	case "struct", "map":
		return "an object"
	case "int", "int64", "int32":
		return "a whole number"
	}
	return "of another type"
}

// position renders a byte offset as "line L, column C" (both from 1).
func position[T int | int64](b []byte, off T) string {
	o := int(off)
	if o > len(b) {
		o = len(b)
	}
	if o < 0 {
		o = 0
	}
	line := 1 + bytes.Count(b[:o], []byte{'\n'})
	col := o - bytes.LastIndexByte(b[:o], '\n')
	return "line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col)
}

// maxQuoted bounds how much of an offending value an error message repeats.
const maxQuoted = 80

// quote renders a value from a file for an error message: Go-quoted so that control characters and
// invisible formatting characters show up escaped instead of corrupting a terminal or a log line,
// and shortened so that a huge value cannot flood the message.
func quote(s string) string {
	if len(s) > maxQuoted {
		cut := maxQuoted
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		return strconv.QuoteToASCII(s[:cut]) + "..."
	}
	return strconv.QuoteToASCII(s)
}

func isRuneStart(c byte) bool { return c&0xC0 != 0x80 }
