//go:build linux && cgo

package app

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/adrg/xdg"
	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/logger"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	wailsruntime "github.com/wailsapp/wails/v2/pkg/runtime"

	"socketeer/bindings"
)

//go:embed blank
var blankFiles embed.FS

// loadEvent mirrors WebKitLoadEvent.
type loadEvent int

// loadForeign is ours: a foreign document committed in spite of the navigation checks.
const loadForeign loadEvent = -1

const (
	loadStarted loadEvent = iota
	loadRedirected
	loadCommitted
	loadFinished
)

// site is one site window: the profile, the bridge that serves its pages and the web view showing
// them. Its methods named after WebKit signals run on the GTK thread.
type site struct {
	profile    *Profile
	origin     string
	startURL   string
	host       string
	mgr        *bindings.Manager
	scripts    bindings.Scripts
	relayWorld string
	bridgeHost string
	bridgePEM  []byte
	parentEnv  []string
	pins       certPins

	// GTK thread only.
	view       *gtkView
	pendingGen uint64
	gestures   map[string]bool
	// pinRetries counts the reloads after a pinned certificate was allowed, per host and pin.
	pinRetries map[string]int
	// shown says a page of the site has committed in this window; loadFailed and cancelRetries
	// are about the load under way (see loadFailed).
	shown         bool
	failedLoad    bool
	cancelRetries int
	lastExternal  time.Time
	trustPrompted map[string]bool
}

// runSite opens the profile's site in a window of its own and blocks until it closes. inst is the
// profile's instance, claimed by the caller (see claimProfile).
func runSite(inst *instance, p *Profile, target siteURL) error {
	parentEnv := os.Environ()
	// Per-profile storage. WebKit keeps the default context's data and cache under XDG_DATA_HOME and
	// XDG_CACHE_HOME, which GLib reads once; pointing them into the profile before GTK starts gives
	// each profile its own storage. Child processes get the user's environment back (parentEnv).
	os.Setenv("XDG_DATA_HOME", filepath.Join(p.DataDir(), "webkit"))
	os.Setenv("XDG_CACHE_HOME", p.CacheDir())
	setWindowClass(siteWindowClass(p))
	if !displayAvailable() {
		return errNoDisplay
	}
	setProgramClass(siteWindowClass(p))

	s := &site{
		profile:       p,
		origin:        p.Origin,
		startURL:      target.URL,
		host:          target.Host,
		relayWorld:    bindings.RelayWorld,
		parentEnv:     parentEnv,
		gestures:      map[string]bool{},
		pinRetries:    map[string]int{},
		trustPrompted: map[string]bool{},
	}
	ent, err := loadEnterprise(enterpriseDir)
	if err != nil {
		// Fail closed: the site still opens, its socket API refuses everything, and the reason is
		// in front of whoever reads the log.
		alog.Error("the organisation's socket policy is invalid, so the socket API is disabled", "error", err)
	}
	s.pins = certPins{origin: p.Origin, ent: ent}
	s.mgr = bindings.NewManager(bindings.Config{
		Origin:   p.Origin,
		Prompter: newConsentPrompter(s, time.Duration(ent.PromptTimeoutSeconds())*time.Second),
		Grants:   newGrantStore(p),
		Audit:    newAuditLog(filepath.Join(xdg.StateHome, "socketeer")),
		Policy:   ent.Config(),
		Log:      alog,
		Pins:     s.pins,
	})
	go logMemory(s.mgr)
	srv, err := bindings.NewServer(s.mgr)
	if err != nil {
		return err
	}
	go srv.Serve()
	defer srv.Close()
	s.scripts = bindings.ScriptsFor(p.Origin, srv)
	s.bridgeHost = srv.Host()
	bridgeAddr := srv.Addr()
	s.bridgePEM = srv.CertPEM()
	inst.serve(siteControl(s.mgr))
	width, height := 1100, 760
	if ws, ok := loadWindowState(p.ConfigDir()); ok {
		width, height = ws.Width, ws.Height
	}
	var tracker atomic.Pointer[windowTracker]

	assets, err := fs.Sub(blankFiles, "blank")
	if err != nil {
		return fmt.Errorf("site window assets: %w", err)
	}
	var noView atomic.Bool
	err = wails.Run(&options.App{
		Title:       windowTitle("", p.Origin),
		Width:       width,
		Height:      height,
		AssetServer: &assetserver.Options{Assets: assets},
		LogLevel:    logger.ERROR,
		// The window's icon, for windows no menu entry claims (see setWindowClass above): the
		// profile's own, else the app's.
		Linux:      &linux.Options{ProgramName: siteWindowClass(p), Icon: windowIcon(p), WebviewGpuPolicy: linux.WebviewGpuPolicyNever},
		OnShutdown: func(context.Context) { tracker.Load().save() },
		OnStartup: func(ctx context.Context) {
			onGTK(func() {
				if !attachView(s) {
					noView.Store(true)
					wailsruntime.Quit(ctx)
					return
				}
				tracker.Store(trackWindow(p.ConfigDir()))
				alog.Info("site window ready", "origin", s.origin, "bridge", bridgeAddr, "profile", p.ID(), "class", siteWindowClass(p))
				// From here on a failure is this process's to report, not the launcher's.
				launchReport.ready()
			})
		},
	})
	if err == nil && noView.Load() {
		// Reported like any other failure to open the window: to the launcher or in a dialog.
		err = errors.New("the site window could not be set up: the web view was not found")
	}
	return err
}

func (s *site) allowPattern() string {
	host := s.host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return "https://" + host + "/*"
}

func (s *site) noteNavigation(uri string, gesture bool) {
	// Only the most recent few matter: the next main-frame load looks its own URI up.
	if len(s.gestures) > 32 {
		clear(s.gestures)
	}
	s.gestures[uri] = gesture
}

// decideNavigation keeps the site window on its origin (threat: a page navigating the window to
// another origin, which would then run with this profile's storage and window). Other web addresses
// go to the system browser when the user asked for them, and are dropped otherwise.
func (s *site) decideNavigation(uri string, newWindow, gesture bool) bool {
	if sameOrigin(uri, s.origin) {
		if newWindow {
			s.view.loadURI(uri)
		}
		return true
	}
	if !newWindow {
		if uri == "about:blank" {
			return true
		}
		gesture = s.gestures[uri]
	}
	alog.Info("navigation blocked", "uri", uri, "user", gesture)
	u, err := url.Parse(uri)
	// Threat: pop-up floods. Only user-initiated http(s) navigations reach the browser, one a second.
	if err == nil && (u.Scheme == "https" || u.Scheme == "http") && gesture && time.Since(s.lastExternal) > time.Second {
		s.lastExternal = time.Now()
		s.openExternal(uri)
	}
	return false
}

// openExternal hands a URI to the user's browser ($BROWSER, else xdg-open), with the user's own
// environment rather than the profile's.
func (s *site) openExternal(uri string) {
	browser := "xdg-open"
	for _, kv := range s.parentEnv {
		if v, ok := strings.CutPrefix(kv, "BROWSER="); ok && v != "" {
			browser = strings.Split(v, ":")[0]
		}
	}
	cmd := exec.Command(browser, uri)
	cmd.Env = s.parentEnv
	alog.Info("opening in the system browser", "uri", uri, "browser", browser)
	if err := cmd.Start(); err != nil {
		alog.Warn("could not start the system browser", "error", err)
		return
	}
	go cmd.Wait()
}

func (s *site) loadEvent(ev loadEvent, uri string) {
	alog.Debug("load event", "event", int(ev), "uri", uri)
	switch ev {
	case loadStarted:
		s.pendingGen = s.mgr.BeginNavigation()
		s.failedLoad = false
	case loadCommitted:
		s.shown = true
		// Threat: sockets outliving their page. Whatever the old document opened ends here.
		s.mgr.CloseSessions(s.pendingGen, "navigation")
	case loadForeign:
		alog.Warn("foreign document replaced", "uri", uri)
		s.mgr.CloseSessions(math.MaxUint64, "foreign document")
		s.view.showHTML(errorPage("This address is not part of the site",
			"The page tried to show another site in this window. <a href=\""+html.EscapeString(s.startURL)+"\">Go back to the site</a>."))
	case loadFinished:
		if uri != "" && !s.failedLoad {
			alog.Info("page loaded", "uri", uri)
		}
	}
}

// retryCancelledLoad says whether a failed main-frame load is started again (see loadFailed): only
// a cancelled load of the site's own address, before any page of it showed, a few times at most.
func retryCancelledLoad(cancelled, shown bool, retries int, uri, origin string) bool {
	return cancelled && !shown && retries < maxCancelRetries && sameOrigin(uri, origin)
}

// maxCancelRetries bounds how often a window's first load is started again after WebKit cancelled
// it (see loadFailed).
const maxCancelRetries = 3

// loadFailed notes a main-frame load that failed, and reports whether it took care of it; else
// WebKit shows its error page. WebKitGTK now and then cancels a window's very first load while the
// view is still being set up ("Operation was cancelled"); a site window has no reload button, so
// until a page of the site has shown, a cancelled load of the site's own address is started again,
// a few times at most. A load cancelled later was replaced by another navigation, which goes on.
func (s *site) loadFailed(uri string, cancelled bool, message string) bool {
	s.failedLoad = true
	if retryCancelledLoad(cancelled, s.shown, s.cancelRetries, uri, s.origin) {
		s.cancelRetries++
		alog.Info("page load cancelled before the site showed; loading it again", "uri", uri)
		onGTK(func() { s.view.loadURI(uri) })
		return true
	}
	alog.Info("page did not load", "uri", uri, "error", message)
	return false
}

// tlsError handles a certificate failure of the main frame: a pinned certificate is allowed for its
// host and the load retried (at most maxPinRetries times); anything else shows the fingerprint and asks the user once.
const maxPinRetries = 3

func (s *site) tlsError(uri, host string, der []byte) bool {
	sha := fingerprint(der)
	alog.Info("certificate not trusted", "host", host, "sha256", sha)
	if s.pins.Pinned(host, sha) {
		// A load that was already under way when the certificate was allowed fails once more, so
		// a few retries are normal; a pin that keeps failing cannot help, and the error shows.
		if s.pinRetries[host+" "+sha] >= maxPinRetries {
			s.view.showHTML(tlsErrorPage(host, s.origin, sha))
			return true
		}
		s.pinRetries[host+" "+sha]++
		if s.view.allowCertificate(der, host) {
			alog.Info("pinned certificate accepted", "host", host)
			onGTK(func() { s.view.loadURI(uri) })
			return true
		}
	}
	s.view.showHTML(tlsErrorPage(host, s.origin, sha))
	// Only the site's own host can be pinned from here; the window never loads any other host.
	if host != s.host || s.trustPrompted[sha] {
		return true
	}
	s.trustPrompted[sha] = true
	go func() {
		if !dialogs.ask(context.Background(), s, "certificate", trustSpec(s.origin, host, sha)).Allow {
			return
		}
		if err := s.pin(host, sha); err != nil {
			alog.Error("could not save the pin", "error", err)
			return
		}
		onGTK(func() {
			s.pinRetries[host+" "+sha]++
			if s.view.allowCertificate(der, host) {
				s.view.loadURI(uri)
			}
		})
	}()
	return true
}

// pin adds a pin to the profile file, re-reading it first so pins added meanwhile from the command
// line are kept.
func (s *site) pin(host, sha string) error {
	p, err := LoadProfile(s.origin)
	if err != nil {
		return err
	}
	if p.AddPin(host, sha) {
		if err := p.Save(); err != nil {
			return err
		}
	}
	onGTK(func() { s.profile = p }) // s.profile belongs to the GTK thread
	return nil
}

func (s *site) titleChanged(title string) {
	s.view.setTitle(windowTitle(title, s.origin))
}

func (s *site) webProcessTerminated(reason int) {
	alog.Warn("web process terminated", "reason", reason)
	s.mgr.CloseSessions(math.MaxUint64, "web process terminated")
	s.view.showHTML(errorPage("This page stopped unexpectedly",
		"Its connections were closed. <a href=\""+html.EscapeString(s.startURL)+"\">Load it again</a>."))
}

var errNoDisplay = errors.New("no graphical display: Socketeer needs a desktop session (DISPLAY or WAYLAND_DISPLAY); on a server, run it under Xvfb, for example with `make run`")
