package app

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"socketeer/bindings"
	"socketeer/policy"
)

// armDelay keeps the risky button of a guarded dialog insensitive after it appears (threat: a page
// that times a click or key press so that it lands on the dialog the moment it opens).
var armDelay = dialogArmDelay(os.Getenv("SOCKETEER_DIALOG_ARM_MS"))

// minArmDelay is the shortest arming delay; the environment can only make it longer (tests use a
// long one to press keys provably before the dialog arms).
const minArmDelay = 500 * time.Millisecond

func dialogArmDelay(env string) time.Duration {
	ms, err := strconv.Atoi(env)
	if err != nil || time.Duration(ms)*time.Millisecond < minArmDelay {
		return minArmDelay
	}
	return time.Duration(ms) * time.Millisecond
}

// dialogSpec is the content of a guarded native dialog. All of it is shown as plain text.
type dialogSpec struct {
	Title      string
	Heading    string
	Rows       [][2]string
	Note       string
	DenyLabel  string
	AllowLabel string
	// RememberLabel, when set, adds an unchecked checkbox whose state comes back with an Allow.
	RememberLabel string
	// Editable adds host and port fields, filled with EditHost and EditPort, whose text comes back
	// with an Allow.
	Editable           bool
	EditHost, EditPort string
	ArmDelay           time.Duration
}

// dialogAnswer is what the user chose in a guarded dialog.
type dialogAnswer struct {
	Allow      bool
	Remember   bool
	Host, Port string
}

// consentSpec words the consent prompt. Every value comes from Go's view of the request (the
// shell's origin, the policy's canonical host, the resolved addresses), and is cleaned again here
// because it ends up in front of the user.
func consentSpec(p bindings.Prompt) dialogSpec {
	if p.Mode != policy.Connect {
		return servingSpec(p)
	}
	site := cleanText(strings.TrimPrefix(p.Origin, "https://"), maxShownText)
	proto := "TCP, unencrypted"
	if p.TLS {
		proto = "TCP, encrypted (TLS)"
	}
	if p.StartTLS {
		proto = "TCP, unencrypted until the site switches it to TLS (STARTTLS)"
	}
	verb := "open a connection to "
	if p.Protocol == policy.UDP {
		proto, verb = "UDP datagrams, unencrypted", "exchange UDP datagrams with "
	}
	port := ""
	if p.Port > 0 {
		port = strconv.Itoa(p.Port)
	}
	spec := dialogSpec{
		Title:      "Socketeer: connection request",
		Rows:       [][2]string{{"Site", cleanText(p.Origin, maxShownText)}, {"Protocol", proto}},
		DenyLabel:  "_Deny",
		AllowLabel: "_Allow",
		Editable:   true,
		EditHost:   cleanText(p.Host, maxShownText),
		EditPort:   port,
		ArmDelay:   armDelay,
	}
	note := "The site will be able to send and receive anything on this connection. Allow it only if you trust this site with this destination."
	if p.Host == "" {
		// The page left the address to the user (the explainer allows it): the page learns only
		// what the user enters here.
		spec.Heading = site + " wants to open a connection to an address you choose"
		spec.Note = "Enter the host and port to connect to. " + note
		spec.RememberLabel = "_Remember: allow future connections to this address from " + site
		return spec
	}
	dest := cleanText(net.JoinHostPort(p.Host, port), maxShownText)
	spec.Heading = site + " wants to " + verb + dest
	if len(p.Addresses) > 0 {
		spec.Rows = append(spec.Rows, [2]string{"Address", describeAddresses(p.Addresses)})
	}
	if p.Managed {
		spec.Rows = append(spec.Rows, [2]string{"Policy", "Your organisation's policy allows this destination; the choice is yours"})
	}
	if p.LocalNetwork {
		note = "This destination is on your own computer or local network, which websites normally cannot reach. " + note
	}
	spec.Note = note
	// The proposal's wording: the grant is for this address, from this site.
	spec.RememberLabel = "_Remember: allow future connections to " + dest + " from " + site
	return spec
}

// servingSpec words the prompt for a server socket or a bound UDP socket: what the site will be
// able to do on this computer, on which port, and who else can then reach it. Nothing is editable:
// the user decides on what the page asked for.
func servingSpec(p bindings.Prompt) dialogSpec {
	site := cleanText(strings.TrimPrefix(p.Origin, "https://"), maxShownText)
	port := "a port the system chooses"
	if p.Port > 0 {
		port = "port " + strconv.Itoa(p.Port)
	}
	local := netip.Addr{}
	if len(p.Addresses) > 0 {
		local = p.Addresses[0]
	}
	// Binding beyond loopback is the part of the consent that opens the computer to others, so
	// the dialog says it in words, not just as an address.
	reach := "Only programs on this computer can reach it."
	switch {
	case local.IsUnspecified():
		reach = "Other computers on your networks can reach it too (all network interfaces)."
	case !local.IsLoopback():
		reach = "Other computers that can reach " + local.String() + " can reach it too."
	}
	spec := dialogSpec{
		Title:      "Socketeer: connection request",
		DenyLabel:  "_Deny",
		AllowLabel: "_Allow",
		ArmDelay:   armDelay,
		Rows: [][2]string{
			{"Site", cleanText(p.Origin, maxShownText)},
			{"Local address", describeAddresses(p.Addresses)},
			{"Network", reach},
		},
	}
	if p.Protocol == policy.UDP {
		spec.Heading = site + " wants to send and receive UDP datagrams on " + port
		spec.Rows = append(spec.Rows, [2]string{"Protocol", "UDP datagrams, unencrypted"})
		spec.Note = "The site will be able to exchange datagrams with servers on the internet and join multicast groups (local network discovery). " +
			"Devices on your own computer or local network that have not written to it first still need your permission. Allow it only if you trust this site."
		spec.RememberLabel = "_Remember: allow " + site + " to use UDP on " + port + " again"
	} else {
		spec.Heading = site + " wants to receive connections on " + port
		spec.Rows = append(spec.Rows, [2]string{"Protocol", "TCP server, unencrypted"})
		spec.Note = "The site will be able to accept connections and exchange anything over them. Allow it only if you trust this site."
		spec.RememberLabel = "_Remember: allow " + site + " to receive connections on " + port + " again"
	}
	if p.Managed {
		spec.Rows = append(spec.Rows, [2]string{"Policy", "Your organisation's policy allows this; the choice is yours"})
	}
	return spec
}

// describeAddresses lists resolved addresses with where they are.
func describeAddresses(addrs []netip.Addr) string {
	parts := make([]string, 0, len(addrs))
	for i, a := range addrs {
		if i == 4 {
			parts = append(parts, "and "+strconv.Itoa(len(addrs)-4)+" more")
			break
		}
		where := ""
		switch policy.Classify(a) {
		case policy.Public:
		case policy.Loopback:
			where = " (this computer)"
		default:
			where = " (your local network)"
		}
		parts = append(parts, a.String()+where)
	}
	return strings.Join(parts, ", ")
}

// trustSpec words the prompt that pins a certificate a site window could not verify.
func trustSpec(origin, host, sha string) dialogSpec {
	return dialogSpec{
		Title:   "Socketeer: untrusted certificate",
		Heading: "The certificate of " + cleanText(host, maxShownText) + " is not trusted",
		Rows: [][2]string{
			{"Site", cleanText(origin, maxShownText)},
			{"SHA-256", displayFingerprint(sha)},
		},
		Note: "Trust it only if this is your own device and the fingerprint matches the one it shows. " +
			"Socketeer will then accept exactly this certificate for exactly this host in this site's profile.",
		DenyLabel:  "_Cancel",
		AllowLabel: "_Trust this certificate",
		ArmDelay:   armDelay,
	}
}

// promptLine lets one prompt show at a time with at most one more waiting (threat: a page burying
// the user in prompts until one is allowed by mistake); further requests are refused at once.
type promptLine struct {
	places  chan struct{} // the one showing and the one waiting
	showing chan struct{}
}

func newPromptLine() *promptLine {
	return &promptLine{places: make(chan struct{}, 2), showing: make(chan struct{}, 1)}
}

var errPromptBusy = &bindings.PageError{Name: bindings.NotAllowedError,
	Message: "another connection request is already waiting for the user"}

// enter waits for the prompt's turn and returns the function that ends it, or errPromptBusy when
// the line is full, or ctx's error when the request goes away while waiting.
func (l *promptLine) enter(ctx context.Context) (func(), error) {
	select {
	case l.places <- struct{}{}:
	default:
		return nil, errPromptBusy
	}
	select {
	case l.showing <- struct{}{}:
		return func() { <-l.showing; <-l.places }, nil
	case <-ctx.Done():
		<-l.places
		return nil, ctx.Err()
	}
}
