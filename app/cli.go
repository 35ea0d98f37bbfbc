// Package app is Socketeer's desktop shell: the command line, the launcher, site profiles, site
// windows and their web views, the native dialogs, and the built-in demo. It hands the socket
// bindings what they need (the origin it established, a prompter) and never lets a page reach
// anything else.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"socketeer/policy"
)

// Version is set at build time with -ldflags "-X socketeer/app.Version=…".
var Version = "0.1.0-dev"

// alog is the app's log: one line per event on standard error, which tests read.
// SOCKETEER_LOG=debug adds detail.
var alog = newLogger()

func newLogger() *slog.Logger {
	level := slog.LevelInfo
	if os.Getenv("SOCKETEER_LOG") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

const usage = `Socketeer gives web apps you choose raw TCP and UDP sockets, with your consent.

Usage:
  socketeer                         open the launcher: your site profiles, their permissions and sockets
  socketeer open <https-url>        open a web app in its own window and profile
  socketeer --profile NAME          open a site profile by its ID or name (as 'profiles' lists them)
  socketeer demo                    open the built-in demo (a socket console and an echo service)
  socketeer trust add <site-url> <sha256> [--host HOST]
                                    trust one certificate (by SHA-256 fingerprint) for one host
                                    in the site's profile (HOST defaults to the site's host)
  socketeer trust list [<site-url>] list trusted certificates
  socketeer trust remove <site-url> <sha256> [--host HOST]
                                    stop trusting a certificate
  socketeer grants list [<site-url>] list remembered connections ("allow future connections")
  socketeer grants revoke <site-url> <host:port> [--tls | --udp | --listen | --bind]
                                    forget one (a TCP connection unless a flag says
                                    otherwise; a local address for --listen and --bind,
                                    port 0 for "a port the system chooses"); the site must
                                    ask again
  socketeer profiles                list site profiles
  socketeer package --profile NAME [--grant HOST:PORT]... [--icon PNG] [--output DIR]
                                    build a Debian package that installs a site profile as an
                                    app, optionally with pre-granted destinations
  socketeer version                 print the version
  socketeer help                    show this help
`

// exitError carries an exit status with a message for the user.
type exitError struct {
	code int
	msg  string
	// usage: the command line itself was wrong (see classifyFailure).
	usage bool
}

func (e *exitError) Error() string { return e.msg }

func usageErr(format string, a ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, a...) + "\nRun 'socketeer help' for usage.", usage: true}
}

// Main runs the command line and returns the process exit status. A failure goes to stderr, and
// where nobody may read that (a window command started from a menu or by the launcher) also to the
// user (see reportFailure).
func Main(args []string, stdout, stderr io.Writer) int {
	launchReport = takeLaunchReport()
	err := run(args, stdout)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "socketeer: "+err.Error())
	reportFailure(args, err, stderr)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return runLauncher()
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return nil
	case "version", "--version":
		fmt.Fprintln(stdout, "socketeer "+Version)
		return nil
	case "open":
		if len(args) != 2 {
			return usageErr("open takes one https:// address")
		}
		return openSite(args[1])
	case "--profile", "-profile":
		if len(args) != 2 {
			return usageErr("--profile takes one profile ID or name")
		}
		return openProfile(args[1])
	case "demo":
		if len(args) != 1 {
			return usageErr("demo takes no arguments")
		}
		return runDemo()
	case "trust":
		return trustCommand(args[1:], stdout)
	case "grants":
		return grantsCommand(args[1:], stdout)
	case "profiles":
		return listProfiles(stdout)
	case "package":
		return packageCommand(args[1:], stdout)
	default:
		return usageErr("unknown command %q", args[0])
	}
}

func openSite(raw string) error {
	target, err := parseSiteURL(raw)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	if err := checkHost(target.Host); err != nil {
		return err
	}
	p, err := OpenProfile(target.Origin, target.URL)
	if err != nil {
		return err
	}
	return showProfile(p, target)
}

// openProfile opens an existing profile at its start page.
func openProfile(name string) error {
	p, err := FindProfile(name)
	if err != nil {
		return err
	}
	if p.Demo {
		return runDemo()
	}
	target, err := parseSiteURL(p.StartURL)
	if err != nil || target.Origin != p.Origin {
		return fmt.Errorf("profile %s has a damaged start address %q; open the site with 'socketeer open <https-url>'", p.ID(), p.StartURL)
	}
	if err := checkHost(target.Host); err != nil {
		return err
	}
	return showProfile(p, target)
}

// lookupHost resolves a site's host before its window opens; tests replace it so that they never
// send a DNS query off the machine.
var lookupHost = net.DefaultResolver.LookupHost

// checkHost gives an unknown host a clear message up front, instead of an empty window.
func checkHost(host string) error {
	if net.ParseIP(host) != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := lookupHost(ctx, host); err != nil {
		return fmt.Errorf("cannot find the host %q: check the address and your network", host)
	}
	return nil
}

func trustCommand(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageErr("trust needs add, list or remove")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("trust "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	hostFlag := fs.String("host", "", "host the certificate is trusted for")
	// Flags may come before or after the positional arguments.
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return usageErr("trust %s: %v", sub, err)
		}
		args = fs.Args()
		if len(args) > 0 {
			pos = append(pos, args[0])
			args = args[1:]
		}
	}
	switch sub {
	case "list":
		if len(pos) > 1 {
			return usageErr("trust list takes at most one site address")
		}
		return trustList(pos, stdout)
	case "add", "remove":
		if len(pos) != 2 {
			return usageErr("trust %s takes a site address and a SHA-256 fingerprint", sub)
		}
		target, err := parseSiteURL(pos[0])
		if err != nil {
			return &exitError{code: 2, msg: err.Error()}
		}
		sha, err := normalizeFingerprint(pos[1])
		if err != nil {
			return &exitError{code: 2, msg: err.Error()}
		}
		host := target.Host
		if *hostFlag != "" {
			h, err := parseSiteURL("https://" + *hostFlag + "/")
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			host = h.Host
		}
		if sub == "add" {
			p, err := OpenProfile(target.Origin, target.URL)
			if err != nil {
				return err
			}
			if p.AddPin(host, sha) {
				if err := p.Save(); err != nil {
					return err
				}
			}
			fmt.Fprintf(stdout, "trusted %s for %s in the profile of %s\n", displayFingerprint(sha), host, p.Origin)
			return nil
		}
		p, err := LoadProfile(target.Origin)
		if err != nil {
			return err
		}
		if !p.RemovePin(host, sha) {
			return fmt.Errorf("that certificate is not trusted for %s in the profile of %s", host, p.Origin)
		}
		if err := p.Save(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "no longer trusting %s for %s in the profile of %s\n", displayFingerprint(sha), host, p.Origin)
		return nil
	default:
		return usageErr("unknown trust command %q", sub)
	}
}

func trustList(pos []string, stdout io.Writer) error {
	profiles, err := profilesFor(pos)
	if err != nil {
		return err
	}
	ent, entErr := loadEnterprise(enterpriseDir)
	if entErr != nil {
		fmt.Fprintln(stdout, "warning: "+entErr.Error())
	}
	n := 0
	for _, p := range profiles {
		// The organisation's pins are marked as managed: the user cannot remove them.
		for _, pin := range ent.PinsFor(p.Origin) {
			fmt.Fprintf(stdout, "%s\t%s\t%s\tmanaged\n", p.Origin, pin.Host, pin.SHA256)
			n++
		}
		for _, pin := range p.Pins {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", p.Origin, pin.Host, pin.SHA256)
			n++
		}
	}
	if n == 0 {
		fmt.Fprintln(stdout, "no trusted certificates")
	}
	return nil
}

func listProfiles(stdout io.Writer) error {
	profiles, err := ListProfiles()
	if err != nil {
		return err
	}
	if len(profiles) == 0 {
		fmt.Fprintln(stdout, "no profiles yet: open a site with 'socketeer open <https-url>'")
	}
	for _, p := range profiles {
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", p.ID(), p.Name, p.Origin, strings.TrimSpace(p.StartURL))
	}
	return nil
}

// profilesFor returns the profile of one site address, or every profile when none is given.
func profilesFor(pos []string) ([]*Profile, error) {
	if len(pos) == 0 {
		return ListProfiles()
	}
	target, err := parseSiteURL(pos[0])
	if err != nil {
		return nil, &exitError{code: 2, msg: err.Error()}
	}
	p, err := LoadProfile(target.Origin)
	if err != nil {
		return nil, err
	}
	return []*Profile{p}, nil
}

func grantsCommand(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageErr("grants needs list or revoke")
	}
	sub, args := args[0], args[1:]
	tls := false
	proto, mode := policy.TCP, policy.Connect
	kinds := 0
	var pos []string
	for _, a := range args {
		switch a {
		case "--tls":
			tls = true
		case "--udp":
			proto, mode = policy.UDP, policy.Connect
			kinds++
		case "--listen":
			proto, mode = policy.TCP, policy.Listen
			kinds++
		case "--bind":
			proto, mode = policy.UDP, policy.Bind
			kinds++
		default:
			pos = append(pos, a)
		}
	}
	if kinds > 1 {
		return usageErr("grants %s takes at most one of --udp, --listen and --bind", sub)
	}
	switch sub {
	case "list":
		if len(pos) > 1 || tls || kinds > 0 {
			return usageErr("grants list takes at most one site address")
		}
		profiles, err := profilesFor(pos)
		if err != nil {
			return err
		}
		ent, entErr := loadEnterprise(enterpriseDir)
		if entErr != nil {
			fmt.Fprintln(stdout, "warning: "+entErr.Error())
		}
		n := 0
		for _, p := range profiles {
			// The organisation's pre-grants come first, marked as managed: the user cannot revoke them.
			for _, r := range ent.PreGrantsFor(p.Origin) {
				fmt.Fprintf(stdout, "%s\tmanaged\t%s (set by your organisation's policy)\n", p.Origin, describeRule(r))
				n++
			}
			g, err := newGrantStore(p).load()
			if err != nil {
				fmt.Fprintln(stdout, "warning: "+err.Error())
			}
			for _, gr := range g.ForOrigin(p.Origin) {
				mode := "plaintext"
				if gr.TLS {
					mode = "tls"
				}
				fmt.Fprintf(stdout, "%s\t%s %s\t%s\t%s\t%s\n", gr.Origin, gr.Protocol, gr.Mode,
					net.JoinHostPort(gr.Host, strconv.Itoa(gr.Port)), mode, gr.Created)
				n++
			}
		}
		if n == 0 {
			fmt.Fprintln(stdout, "no remembered connections")
		}
		return nil
	case "revoke":
		if len(pos) != 2 {
			return usageErr("grants revoke takes a site address and a host:port")
		}
		profiles, err := profilesFor(pos[:1])
		if err != nil {
			return err
		}
		hostText, portText, err := net.SplitHostPort(pos[1])
		port, perr := strconv.Atoi(portText)
		if err != nil || perr != nil {
			return usageErr("%q is not host:port", pos[1])
		}
		host, err := policy.ParseHost(hostText)
		if err != nil {
			return usageErr("%q is not a valid host", hostText)
		}
		p := profiles[0]
		removed, err := newGrantStore(p).revoke(p.Origin, proto, mode, host.Name, port, tls)
		if err != nil {
			return err
		}
		if !removed {
			return fmt.Errorf("%s has no remembered connection to %s", p.Origin, pos[1])
		}
		fmt.Fprintf(stdout, "%s must ask again before using %s %s %s\n", p.Origin, proto, mode, pos[1])
		return nil
	default:
		return usageErr("unknown grants command %q", sub)
	}
}

// describeRule words an enterprise destination rule for a listing (the listing says that it is the
// organisation's).
func describeRule(r policy.DestRule) string {
	var parts []string
	if len(r.Protocols) > 0 {
		ps := make([]string, len(r.Protocols))
		for i, p := range r.Protocols {
			ps[i] = string(p)
		}
		parts = append(parts, strings.Join(ps, ","))
	}
	if len(r.Hosts) > 0 {
		parts = append(parts, "hosts "+strings.Join(r.Hosts, ","))
	}
	if len(r.CIDRs) > 0 {
		parts = append(parts, "addresses "+strings.Join(r.CIDRs, ","))
	}
	if len(r.Ports) > 0 {
		parts = append(parts, "ports "+strings.Join(r.Ports, ","))
	} else {
		parts = append(parts, "any port")
	}
	return strings.Join(parts, " ")
}
