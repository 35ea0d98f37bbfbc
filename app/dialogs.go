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
	site := cleanText(strings.TrimPrefix(p.Origin, "https://"), maxShownText)
	proto := "TCP, unencrypted"
	if p.TLS {
		proto = "TCP, encrypted (TLS)"
	}
	if p.StartTLS {
		proto = "TCP, unencrypted until the site switches it to TLS (STARTTLS)"
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
	spec.Heading = site + " wants to open a connection to " + dest
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
