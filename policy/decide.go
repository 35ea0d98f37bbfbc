package policy

import "net/netip"

// Protocol is the transport a page asks for.
type Protocol string

// Protocols.
const (
	TCP Protocol = "tcp"
	UDP Protocol = "udp"
)

// Mode is what the page wants to do with the socket.
type Mode string

// Modes. The valid combinations are TCP+Connect, TCP+Listen (a server socket), UDP+Connect and
// UDP+Bind.
const (
	Connect Mode = "connect"
	Listen  Mode = "listen"
	Bind    Mode = "bind"
)

// Request is everything Decide needs to know. The caller fills it from state it controls: the origin
// comes from the shell, not the page, and the addresses from the caller's own resolution.
type Request struct {
	// Origin is the requesting origin as the shell established it, e.g. "https://example.com:8443".
	Origin   string
	Protocol Protocol
	Mode     Mode
	// Host is the destination for Connect, or the local address for Listen and Bind (which must
	// then be an IP literal). It must come from ParseHost.
	Host Host
	Port int
	// Addresses are every address the name resolved to, and the exact list the caller will
	// connect to; for literals, the literal itself. Empty means not yet resolved.
	Addresses []netip.Addr
	// UserTyped is true when the user typed this host into the consent dialog.
	UserTyped bool
	// Peer marks one datagram's destination from a bound UDP socket the user allowed (Protocol
	// UDP, Mode Connect, Host a literal). That consent covers public peers; non-public ones still
	// need a grant, which the caller sets in Granted for peers the socket has heard from and
	// multicast groups it joined.
	Peer bool
	// Granted is true when a remembered grant matches origin, protocol, host, port and TLS. The
	// store lookup is the caller's job.
	Granted bool
	TLS     bool
}

// Config holds the settings an administrator or the user may change.
type Config struct {
	Disabled     bool // enterprise kill switch: every request is denied
	AllowPort443 bool // permit TCP connections to port 443
	// AllowPrivate is for enterprises whose intranet is the point: destinations in the Private
	// class (RFC 1918, unique local) are then treated like public ones — the user is still asked,
	// but without the local-network warning. It never relaxes the DNS rebinding check, and never
	// covers loopback, link-local (the cloud metadata service), CGNAT or any other class.
	AllowPrivate bool
	// Enterprise is the merged organisation policy (see MergeEnterprise), or nil when there is
	// none. Its switches override the three fields above, and its origin and destination rules
	// apply on top of every other check; Enterprise.Config fills all of this in.
	Enterprise *Enterprise
}

// Verdict is what the shell must do.
type Verdict int

// Verdicts. The zero value is Deny so that an unset Decision fails closed.
const (
	Deny Verdict = iota
	Ask
	Allow
)

// String returns "deny", "ask" or "allow".
func (v Verdict) String() string {
	switch v {
	case Deny:
		return "deny"
	case Ask:
		return "ask"
	case Allow:
		return "allow"
	}
	return "unknown"
}

// Reason is a stable machine code explaining a Decision. Values never change meaning; new ones may
// be added.
type Reason string

// Reasons.
const (
	ReasonDisabled            Reason = "api-disabled"
	ReasonInsecureOrigin      Reason = "insecure-origin"
	ReasonBadRequest          Reason = "bad-request"
	ReasonBadHost             Reason = "bad-host"
	ReasonBadLocalAddress     Reason = "bad-local-address"
	ReasonBadPort             Reason = "bad-port"
	ReasonPrivilegedPort      Reason = "privileged-local-port"
	ReasonPort443             Reason = "port-443"
	ReasonUnresolved          Reason = "unresolved"
	ReasonAddressMismatch     Reason = "address-mismatch"
	ReasonForbiddenAddress    Reason = "forbidden-address"
	ReasonNonPublicResolution Reason = "non-public-resolution"
	ReasonNeedsConsentLocal   Reason = "needs-consent-local"
	ReasonNeedsConsent        Reason = "needs-consent"
	ReasonGranted             Reason = "granted"
	ReasonBoundPeer           Reason = "bound-socket-peer"

	ReasonManagedOriginBlocked         Reason = "managed-origin-blocked"
	ReasonManagedDestinationBlocked    Reason = "managed-destination-blocked"
	ReasonManagedDestinationNotAllowed Reason = "managed-destination-not-allowed"
	ReasonManagedGrant                 Reason = "managed-grant"
)

// messages are user-safe English sentences, one per Reason. They are constants on purpose: they never
// include resolved addresses, because a denial message reaches the page, and a page that could read
// which private address a name resolved to would learn the layout of the user's internal network.
var messages = map[Reason]string{
	ReasonDisabled:            "Socket access has been turned off by your administrator.",
	ReasonInsecureOrigin:      "Only pages loaded over HTTPS may open sockets.",
	ReasonBadRequest:          "This combination of protocol and mode is not supported.",
	ReasonBadHost:             "The host is not a valid host name or IP address.",
	ReasonBadLocalAddress:     "A local address must be an IP address.",
	ReasonBadPort:             "The port must be between 1 and 65535.",
	ReasonPrivilegedPort:      "This local port is reserved for system services (UDP below 1024, TCP servers below 32768) unless your organisation's policy allows it.",
	ReasonPort443:             "Connections to port 443 are refused: they would let a page bypass the web's cross-origin protections.",
	ReasonUnresolved:          "The host name has not been resolved.",
	ReasonAddressMismatch:     "The addresses to connect to do not match the requested IP address.",
	ReasonForbiddenAddress:    "Broadcast, multicast, unspecified and reserved addresses cannot be used.",
	ReasonNonPublicResolution: "The host name points into your own computer or local network, so the connection is refused to protect it.",
	ReasonNeedsConsentLocal:   "This page wants to reach your own computer or a device on your local network. Allow it only if you trust this page.",
	ReasonNeedsConsent:        "This page wants to open a direct connection to another server.",
	ReasonGranted:             "You have already allowed this connection.",
	ReasonBoundPeer:           "You allowed this socket to exchange datagrams with public addresses.",

	ReasonManagedOriginBlocked:         "Your organisation's policy does not allow this site to open sockets.",
	ReasonManagedDestinationBlocked:    "Your organisation's policy blocks connections to this destination.",
	ReasonManagedDestinationNotAllowed: "Your organisation's policy does not allow connections to this destination.",
	ReasonManagedGrant:                 "Your organisation's policy allows this connection.",
}

// Message returns the user-safe sentence for a Reason, or "" for an unknown one.
func (r Reason) Message() string { return messages[r] }

// Decision is the outcome of Decide.
type Decision struct {
	Verdict Verdict
	Reason  Reason
	// Message is a user-safe English sentence for the page or the dialog. It never contains
	// addresses; the dialog takes those from the Request.
	Message string
	// LocalNetwork means the destination is on the user's own machine or network: the consent
	// dialog must show the IP address and say so.
	LocalNetwork bool
	// Managed means the organisation's policy made this decision (Config.Enterprise); the dialog,
	// the page's error and `grants list` say so, and the user cannot change it.
	Managed bool
}

func decision(v Verdict, r Reason, local bool) Decision {
	return Decision{Verdict: v, Reason: r, Message: messages[r], LocalNetwork: local}
}

func deny(r Reason) Decision { return decision(Deny, r, false) }

// minServingPort is the lowest port a page may explicitly bind (UDP) or listen on (TCP).
func minServingPort(p Protocol) int {
	if p == UDP {
		return 1024
	}
	return 32768
}

// validShape reports whether the protocol and mode form one of the four supported socket kinds.
func validShape(p Protocol, m Mode) bool {
	switch p {
	case TCP:
		return m == Connect || m == Listen
	case UDP:
		return m == Connect || m == Bind
	}
	return false
}

// Decide applies the policy to one request. It is a pure function of its arguments.
//
// The order of the checks matters and is part of the contract: cheap structural refusals first, then
// address checks, and grants last, so that no grant can ever override a safety check.
func Decide(req Request, cfg Config) Decision {
	dec := decide(req, cfg)
	// The dialog says when the organisation's allow list is what lets this destination be asked
	// about at all, so the user knows a managed rule is involved.
	if dec.Verdict != Deny && !dec.Managed && cfg.Enterprise != nil && cfg.Enterprise.allowListCovers(req) {
		dec.Managed = true
	}
	return dec
}

// decide is Decide without the managed-rule marking.
func decide(req Request, cfg Config) Decision {
	// Threat: a user or app setting that loosens what the organisation decided — the enterprise
	// policy's switches replace the caller's, so nothing the user controls can override them.
	ent := cfg.Enterprise
	if ent != nil {
		cfg = ent.apply(cfg)
	}

	// 1. Threat: a compromised or unwanted feature — administrators must be able to switch the
	// whole API off, and the switch must win over everything, including existing grants.
	if cfg.Disabled {
		d := deny(ReasonDisabled)
		d.Managed = ent != nil && ent.Disabled()
		return d
	}

	// 2. Threat: man-in-the-middle — see ParseOrigin. A plain-HTTP or opaque origin is refused
	// before anything about the destination is even looked at.
	origin, err := ParseOrigin(req.Origin)
	if err != nil {
		return deny(ReasonInsecureOrigin)
	}

	// Threat: sites the organisation does not trust with sockets — see Enterprise.originAllowed.
	// This runs before anything else about the request, so a blocked origin learns nothing more.
	if ent != nil && !ent.originAllowed(origin) {
		return managed(Deny, ReasonManagedOriginBlocked, false)
	}

	// Threat: confused caller — an unknown protocol or mode must not fall through to a permissive
	// branch further down.
	if !validShape(req.Protocol, req.Mode) {
		return deny(ReasonBadRequest)
	}

	// Threat: a hand-built Host — LocalOnly and IP are only trustworthy if they are exactly what
	// ParseHost derives from Name. Re-deriving them costs microseconds and means a caller that
	// forgot ParseHost, or edited a field, cannot mislabel a destination.
	if h, err := ParseHost(req.Host.Name); err != nil || h != req.Host {
		return deny(ReasonBadHost)
	}

	// Listening and binding happen on the user's own machine, so every such request is a
	// local-network request. The local address must be a literal: resolving a name to pick an
	// interface would make the bound interface depend on DNS.
	serving := req.Mode != Connect
	if serving && !req.Host.IsLiteral() {
		return deny(ReasonBadLocalAddress)
	}

	// 3. Threat: malformed input reaching the operating system — port 0 means "any port" to the
	// kernel, and out-of-range values wrap around when truncated to 16 bits. A serving socket may
	// ask for port 0: the page left the port out, and the operating system chooses one.
	if (req.Port < 1 && !(serving && req.Port == 0)) || req.Port > 65535 {
		return deny(ReasonBadPort)
	}
	if req.Peer && (req.Protocol != UDP || req.Mode != Connect || !req.Host.IsLiteral()) {
		return deny(ReasonBadRequest)
	}

	// 4. Threat: cross-origin bypass — a page that speaks its own TLS to port 443 receives HTTPS
	// responses that the browser's CORS rules would hide from it, sent with the user's network
	// position (and so with any IP-based trust the server extends to the user).
	if req.Protocol == TCP && req.Mode == Connect && req.Port == 443 && !cfg.AllowPort443 {
		return deny(ReasonPort443)
	}

	// 5. Threat: time-of-check/time-of-use — the policy must see every address the caller will
	// actually use. Deciding on a name alone and letting the dialer resolve it again later would
	// let DNS change the answer in between.
	if len(req.Addresses) == 0 {
		return deny(ReasonUnresolved)
	}

	// Threat: time-of-check/time-of-use for literals — the literal is the destination, so the
	// address list must be that literal and nothing else. (IPv4-mapped and plain IPv4 forms of the
	// same address are accepted as equal, since callers commonly unmap.)
	if req.Host.IsLiteral() {
		want := req.Host.IP.Unmap()
		for _, a := range req.Addresses {
			if a.WithZone("").Unmap() != want {
				return deny(ReasonAddressMismatch)
			}
		}
	}

	// 6. Threat: addresses that are not destinations — 0.0.0.0 and :: reach the local machine on
	// Linux when connected to; broadcast reaches every host on the network; TCP cannot multicast;
	// reserved ranges have no legitimate use and some stacks route them in surprising ways.
	// Every resolved address is checked, not just the first, because the dialer may fall back to
	// any of them.
	nonPublic, flagged := false, false
	for _, a := range req.Addresses {
		c := Classify(a)
		switch c {
		case Invalid, Broadcast, Reserved:
			return deny(ReasonForbiddenAddress)
		case Unspecified:
			// Binding or listening on the unspecified address is the normal way to accept on
			// every interface; only connecting to it is an attack.
			if !serving {
				return deny(ReasonForbiddenAddress)
			}
		case Multicast:
			// Multicast UDP is how local discovery works, so it stays possible (as a
			// local-network request below); TCP has no multicast, so the request is nonsense.
			if req.Protocol == TCP {
				return deny(ReasonForbiddenAddress)
			}
		}
		if !c.IsPublic() {
			nonPublic = true
			if !(cfg.AllowPrivate && c == Private) {
				flagged = true
			}
		}
	}

	// Threat: destinations the organisation blocks, allows or pre-grants — see
	// Enterprise.decideDestination. This runs after every check above, so a pre-grant can never
	// override a forbidden address, port 443 or a malformed request, and before the DNS rebinding
	// check below, which a pre-grant passes only for addresses its own CIDRs name.
	if ent != nil {
		d := destination{origin: origin, protocol: req.Protocol, mode: req.Mode, host: req.Host,
			port: req.Port, addrs: req.Addresses}
		if dec, ok := ent.decideDestination(d, flagged || (req.Host.LocalOnly && !cfg.AllowPrivate)); ok {
			return dec
		}
	}

	// Threat: impersonating system services — a page that binds UDP 53, 67 or 123, or listens on
	// a well-known TCP port, could answer for the machine's own DNS, DHCP, time or mail service.
	// Chrome allows bound UDP from 1024 and servers from 32768; so do we, unless an organisation
	// rule names the port explicitly. Organisation blocks come first, so they
	// stay managed refusals.
	if serving && req.Port != 0 && req.Port < minServingPort(req.Protocol) && !(ent != nil && ent.allowsServingPort(origin, req)) {
		return deny(ReasonPrivilegedPort)
	}

	// 7. Threat: DNS rebinding — a page's own public name can be made to resolve to 127.0.0.1 or a
	// router's address, turning the user's browser into a proxy into their network. A name that is
	// not local by construction must resolve only to public addresses. The one exception is a name
	// the user typed into the dialog themselves: the page did not choose it, and the dialog still
	// shows the address and asks.
	//
	// This check deliberately runs before the grant check below. Grants are keyed by host name,
	// so a grant given while the name resolved publicly must never cover a later non-public
	// resolution; running this first is what guarantees it.
	if !req.Host.IsLiteral() && !req.Host.LocalOnly && nonPublic {
		if req.UserTyped {
			return decision(Ask, ReasonNeedsConsentLocal, true)
		}
		return deny(ReasonNonPublicResolution)
	}

	// 8. Threat: attacks on the user's own network and machine — printers, routers, development
	// servers and the cloud metadata service at 169.254.169.254 trust anything that can reach
	// them. Such destinations are flagged so the dialog shows the address and says where it leads;
	// they are never allowed without a grant. With AllowPrivate, a local-only name is judged by
	// the addresses it resolved to instead of by its suffix.
	if flagged || serving || (req.Host.LocalOnly && !cfg.AllowPrivate) {
		if req.Granted {
			return decision(Allow, ReasonGranted, true)
		}
		return decision(Ask, ReasonNeedsConsentLocal, true)
	}

	// 9. A public destination: allowed if the user already agreed, otherwise ask. A bound UDP
	// socket's consent is that agreement for every public peer (P2P, DHTs): asking per peer would
	// make such protocols unusable, and the send rate per peer is limited by the caller.
	if req.Granted {
		return decision(Allow, ReasonGranted, false)
	}
	if req.Peer {
		return decision(Allow, ReasonBoundPeer, false)
	}
	return decision(Ask, ReasonNeedsConsent, false)
}
