package app

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/adrg/xdg"

	"socketeer/bindings"
	"socketeer/policy"
)

// Launcher is what the launcher's own page may ask of Go. Wails binds its exported methods for the
// launcher window only: site windows run in other processes, which bind nothing and remove Wails'
// message handler before a site loads (see gtk_linux.c), so no site page can reach these. Everything
// a site supplied (names, icons, titles) passes through here cleaned or re-encoded, and the page
// inserts text as text.
type Launcher struct {
	// env is the user's environment, for the site processes the launcher starts.
	env []string
	// pickFile asks the user for an image file (a native dialog); nil where there is none.
	pickFile func() (string, error)
	// command makes the command that opens a profile's window (tests replace it).
	command func(*Profile) (*exec.Cmd, error)

	mu      sync.Mutex
	fetched map[string]siteInfo    // by origin: what Preview read, for AddProfile
	icons   map[string]cachedIcon  // by icon file
	opening map[string]*childWatch // by profile ID: the window process OpenProfile started last
}

func newLauncher() *Launcher {
	return &Launcher{env: os.Environ(), command: siteCommand, fetched: map[string]siteInfo{},
		icons: map[string]cachedIcon{}, opening: map[string]*childWatch{}}
}

// ProfileInfo is one profile as the launcher lists it.
type ProfileInfo struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Origin       string `json:"origin"`
	StartURL     string `json:"startURL"`
	Icon         string `json:"icon"` // a data: URL of a PNG Go encoded, or empty
	Demo         bool   `json:"demo"`
	Running      bool   `json:"running"`
	DesktopEntry bool   `json:"desktopEntry"`
}

// ProfileList is the launcher's main list, with a note for every profile folder that cannot be read.
type ProfileList struct {
	Profiles []ProfileInfo    `json:"profiles"`
	Problems []ProfileProblem `json:"problems"`
}

// ProfileProblem is a profile folder that cannot be read, and why.
type ProfileProblem struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

func (l *Launcher) profileInfo(p *Profile) ProfileInfo {
	return ProfileInfo{
		ID: p.ID(), Name: cleanText(p.Name, maxNameRunes), Origin: p.Origin, StartURL: p.StartURL,
		Icon: l.iconURL(p), Demo: p.Demo, Running: profileRunning(p),
		DesktopEntry: hasDesktopEntry(p),
	}
}

// cachedIcon is a profile icon as the page shows it, valid while the file is unchanged.
type cachedIcon struct {
	mod  time.Time
	size int64
	url  string
}

// iconURL returns the profile's icon for the page. The page asks for the list every second or two,
// so an icon is decoded and encoded again only when its file changed.
func (l *Launcher) iconURL(p *Profile) string {
	fi, err := os.Stat(p.iconPath())
	if err != nil {
		return ""
	}
	l.mu.Lock()
	c, ok := l.icons[p.iconPath()]
	l.mu.Unlock()
	if ok && c.mod.Equal(fi.ModTime()) && c.size == fi.Size() {
		return c.url
	}
	c = cachedIcon{mod: fi.ModTime(), size: fi.Size(), url: iconDataURL(profileIconPNG(p))}
	l.mu.Lock()
	l.icons[p.iconPath()] = c
	l.mu.Unlock()
	return c.url
}

// Profiles lists the profiles, by name.
func (l *Launcher) Profiles() (ProfileList, error) {
	ps, problems, err := scanProfiles()
	if err != nil {
		return ProfileList{}, err
	}
	out := ProfileList{Profiles: []ProfileInfo{}, Problems: []ProfileProblem{}}
	for _, p := range ps {
		out.Profiles = append(out.Profiles, l.profileInfo(p))
	}
	slices.SortStableFunc(out.Profiles, func(a, b ProfileInfo) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	for _, e := range problems {
		pr := ProfileProblem{Message: e.Error()}
		var de *damagedProfileError
		if errors.As(e, &de) {
			pr.ID = de.id
		}
		out.Problems = append(out.Problems, pr)
	}
	return out, nil
}

// profileByID finds a profile by its ID only (the page always has IDs).
func profileByID(id string) (*Profile, error) {
	ps, err := ListProfiles()
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.ID() == id {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w with the ID %q", ErrNoProfile, id)
}

// SitePreview is what the launcher shows before adding a site.
type SitePreview struct {
	URL    string `json:"url"`
	Origin string `json:"origin"`
	Name   string `json:"name"`
	Icon   string `json:"icon"`
	// ExistingID is set when a profile for this site exists already.
	ExistingID string `json:"existingID"`
	// Untrusted: the certificate could not be verified; SHA256 and Fingerprint name it.
	Untrusted   bool   `json:"untrusted"`
	SHA256      string `json:"sha256"`
	Fingerprint string `json:"fingerprint"`
	// Note says why details are missing (the site could not be reached, say).
	Note string `json:"note"`
}

// Preview reads a site's name and icon for the add form. trustSHA, when the user chose to trust the
// certificate the previous preview named, is accepted for the site's host.
func (l *Launcher) Preview(rawURL, trustSHA string) (SitePreview, error) {
	target, err := parseSiteURL(rawURL)
	if err != nil {
		return SitePreview{}, err
	}
	pv := SitePreview{URL: target.URL, Origin: target.Origin, Name: strings.TrimPrefix(target.Origin, "https://")}
	var pins []Pin
	if p, err := LoadProfile(target.Origin); err == nil {
		pv.ExistingID = p.ID()
		pins = p.Pins
	}
	if trustSHA != "" {
		sha, err := normalizeFingerprint(trustSHA)
		if err != nil {
			return SitePreview{}, err
		}
		pins = append(pins, Pin{Host: target.Host, SHA256: sha})
	}
	info, err := fetchSiteInfo(context.Background(), target, pins)
	var ue *untrustedCertError
	switch {
	case errors.As(err, &ue):
		pv.Untrusted, pv.SHA256, pv.Fingerprint = true, ue.SHA256, displayFingerprint(ue.SHA256)
	case err != nil:
		pv.Note = "Socketeer could not read the site (" + err.Error() + "), so it has no name or icon yet."
	default:
		l.mu.Lock()
		l.fetched[target.Origin] = info
		l.mu.Unlock()
		pv.Name = cmp.Or(info.Name, pv.Name)
		pv.Icon = iconDataURL(info.Icon)
	}
	return pv, nil
}

// NewProfile is the add form as the user submitted it.
type NewProfile struct {
	URL  string `json:"url"`
	Name string `json:"name"`
	// TrustSHA pins the certificate the preview showed, when the user chose to trust it.
	TrustSHA string `json:"trustSHA"`
}

// AddProfile creates a profile for a site, with the icon the preview read.
func (l *Launcher) AddProfile(np NewProfile) (ProfileInfo, error) {
	target, err := parseSiteURL(np.URL)
	if err != nil {
		return ProfileInfo{}, err
	}
	if p, err := LoadProfile(target.Origin); err == nil {
		return ProfileInfo{}, fmt.Errorf("there is a profile for %s already: %q", target.Origin, p.Name)
	}
	name := cleanText(np.Name, maxNameRunes)
	if name == "" {
		name = strings.TrimPrefix(target.Origin, "https://")
	}
	p, err := OpenProfile(target.Origin, target.URL)
	if err != nil {
		return ProfileInfo{}, err
	}
	p.Name = name
	if np.TrustSHA != "" {
		sha, err := normalizeFingerprint(np.TrustSHA)
		if err != nil {
			return ProfileInfo{}, err
		}
		p.AddPin(target.Host, sha)
	}
	if err := p.Save(); err != nil {
		return ProfileInfo{}, err
	}
	l.mu.Lock()
	info, ok := l.fetched[target.Origin]
	l.mu.Unlock()
	if ok && info.Icon != nil {
		if err := p.setIcon(info.Icon); err != nil {
			alog.Warn("could not store the site's icon", "error", err)
		}
	}
	alog.Info("profile added", "profile", p.ID(), "origin", p.Origin)
	return l.profileInfo(p), nil
}

// UpdateProfile renames a profile and changes its start page, which must stay on its site.
func (l *Launcher) UpdateProfile(id, name, startURL string) (ProfileInfo, error) {
	p, err := profileByID(id)
	if err != nil {
		return ProfileInfo{}, err
	}
	name = cleanText(name, maxNameRunes)
	if name == "" {
		return ProfileInfo{}, errors.New("a profile needs a name")
	}
	target, err := parseSiteURL(startURL)
	if err != nil {
		return ProfileInfo{}, err
	}
	if target.Origin != p.Origin {
		return ProfileInfo{}, fmt.Errorf("the start page must be on %s; for another site, add a profile of its own", p.Origin)
	}
	p.Name, p.StartURL = name, target.URL
	if err := p.Save(); err != nil {
		return ProfileInfo{}, err
	}
	alog.Info("profile updated", "profile", p.ID())
	if err := l.refreshDesktopEntry(p); err != nil {
		return ProfileInfo{}, err
	}
	return l.profileInfo(p), nil
}

func (l *Launcher) refreshDesktopEntry(p *Profile) error {
	if !hasDesktopEntry(p) {
		return nil
	}
	_, err := writeDesktopEntry(p)
	return err
}

// ChooseIcon lets the user pick an image file for the profile's icon.
func (l *Launcher) ChooseIcon(id string) (ProfileInfo, error) {
	p, err := profileByID(id)
	if err != nil {
		return ProfileInfo{}, err
	}
	if l.pickFile == nil {
		return ProfileInfo{}, errors.New("choosing a file is not available here")
	}
	path, err := l.pickFile()
	if err != nil || path == "" {
		return l.profileInfo(p), err
	}
	f, err := os.Open(path)
	if err != nil {
		return ProfileInfo{}, fmt.Errorf("open the icon: %w", err)
	}
	defer f.Close()
	b := make([]byte, maxIconBytes+1)
	n, _ := f.Read(b)
	if err := p.setIcon(b[:n]); err != nil {
		return ProfileInfo{}, err
	}
	alog.Info("profile icon changed", "profile", p.ID())
	return l.profileInfo(p), l.refreshDesktopEntry(p)
}

// RemoveProfile deletes a profile with its storage, cookies, grants and desktop entry. The page asks
// the user to confirm first; a profile whose window is open is refused.
func (l *Launcher) RemoveProfile(id string) error {
	p, err := profileByID(id)
	if err != nil {
		return err
	}
	release, idle := lockIdle(p.ConfigDir())
	if !idle {
		alog.Info("profile not removed: its window is open", "profile", p.ID())
		return fmt.Errorf("%s is open: close its window first", p.Name)
	}
	defer release()
	if err := removeDesktopEntry(p); err != nil {
		return err
	}
	for _, d := range []string{p.DataDir(), p.CacheDir(), p.ConfigDir()} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("remove %s: %w", d, err)
		}
	}
	alog.Info("profile removed", "profile", p.ID())
	return nil
}

// OpenProfile starts the profile's window in a process of its own (each profile's storage needs its
// own process), or brings it to the front if it is open: the new process finds out and says so. The
// process is in a session of its own, so closing the launcher leaves site windows open. Whether the
// window opened, WaitOpened tells.
func (l *Launcher) OpenProfile(id string) error {
	p, err := profileByID(id)
	if err != nil {
		return err
	}
	cmd, err := l.command(p)
	if err != nil {
		return err
	}
	w, err := startWatched(cmd, l.env)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	alog.Info("profile started", "profile", p.ID(), "pid", cmd.Process.Pid)
	l.mu.Lock()
	l.opening[p.ID()] = w
	l.mu.Unlock()
	go func() {
		<-w.done
		if w.err != nil {
			alog.Warn("profile could not be opened", "profile", p.ID(), "error", w.err)
		}
	}()
	return nil
}

// WaitOpened waits until the process OpenProfile started last for the profile has shown its window
// (or brought the open one to the front), and returns why it could not when it ended with a failure
// instead. The page calls it after OpenProfile, without waiting for it.
func (l *Launcher) WaitOpened(id string) error {
	l.mu.Lock()
	w := l.opening[id]
	l.mu.Unlock()
	if w == nil {
		return nil
	}
	<-w.done
	l.mu.Lock()
	if l.opening[id] == w {
		delete(l.opening, id)
	}
	l.mu.Unlock()
	if w.err != nil {
		name := id
		if p, err := profileByID(id); err == nil {
			name = cleanText(p.Name, maxNameRunes)
		}
		return fmt.Errorf("%s could not be opened: %s", name, w.err)
	}
	return nil
}

// siteCommand is the command that opens p's window: this program with --profile.
func siteCommand(p *Profile) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the socketeer program: %w", err)
	}
	return exec.Command(exe, "--profile", p.ID()), nil
}

// maxChildReport bounds what the launcher keeps of a window process's report (threat: a process that
// writes without end).
const maxChildReport = 4 << 10

// childExitGrace is how long the launcher waits for a window process whose report closed to end:
// if it is still running by then, it closed the report because its window is up.
const childExitGrace = time.Second

// childWatch follows a window process until it has shown its window or ended.
type childWatch struct {
	done chan struct{}
	err  error // set before done closes: why the process ended, when it failed
}

// startWatched starts cmd, detached, with the user's environment env. Its standard output and error
// are the launcher's, as before; the process also gets the write end of a pipe (see
// launchReportEnv), where a Socketeer window process writes its error message, and a crash report,
// before it ends with a failure, and which it closes once its window is up. A pipe of its own rather
// than the process's standard error: the window process outlives the launcher, and its standard
// error must not break (SIGPIPE) when the launcher goes away.
func startWatched(cmd *exec.Cmd, env []string) (*childWatch, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return strings.HasPrefix(kv, launchReportEnv+"=")
	}), launchReportEnv+"="+strconv.Itoa(3+len(cmd.ExtraFiles)))
	cmd.ExtraFiles = append(cmd.ExtraFiles, w)
	err = startDetached(cmd)
	w.Close()
	if err != nil {
		r.Close()
		return nil, err
	}
	cw := &childWatch{done: make(chan struct{})}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	go func() {
		defer close(cw.done)
		report := readHead(r, maxChildReport)
		r.Close()
		select {
		case <-exited:
		case <-time.After(childExitGrace):
			return
		}
		if !cmd.ProcessState.Success() {
			cw.err = childFailure(report, cmd.ProcessState)
		}
	}()
	return cw, nil
}

// readHead reads r to its end and returns the first n bytes.
func readHead(r io.Reader, n int) []byte {
	b, _ := io.ReadAll(io.LimitReader(r, int64(n)))
	io.Copy(io.Discard, r)
	return b
}

// childFailure words why a window process failed: the message it reported, else the start of its
// crash report, else how it ended. The result is plain text for the page.
func childFailure(report []byte, st *os.ProcessState) error {
	lines := strings.Split(string(report), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if msg, ok := strings.CutPrefix(lines[i], "socketeer: "); ok && strings.TrimSpace(msg) != "" {
			// Messages that go on over several lines (a usage hint) keep their first.
			return errors.New(dialogText(msg))
		}
	}
	for _, line := range lines {
		if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
			return errors.New("Socketeer stopped with an internal error (" + cleanText(line, maxShownText) + ")")
		}
	}
	return errors.New("Socketeer's window process ended at once (" + st.String() + ")")
}

// RestoreDemo brings the built-in demo's profile back.
func (l *Launcher) RestoreDemo() error {
	_, _, _, err := demoProfile(demoSitePort)
	return err
}

// CreateDesktopEntry adds the profile to the desktop's menu and returns the entry's path.
func (l *Launcher) CreateDesktopEntry(id string) (string, error) {
	p, err := profileByID(id)
	if err != nil {
		return "", err
	}
	path, err := writeDesktopEntry(p)
	if err == nil {
		alog.Info("desktop entry written", "profile", p.ID(), "path", path)
	}
	return path, err
}

// RemoveDesktopEntry takes the profile out of the desktop's menu.
func (l *Launcher) RemoveDesktopEntry(id string) error {
	p, err := profileByID(id)
	if err != nil {
		return err
	}
	return removeDesktopEntry(p)
}

// GrantInfo is one remembered connection.
type GrantInfo struct {
	Protocol string `json:"protocol"`
	Mode     string `json:"mode"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	TLS      bool   `json:"tls"`
	Created  string `json:"created"`
}

// ManagedRule is one rule of the organisation's policy, worded for people.
type ManagedRule struct {
	Effect string `json:"effect"` // "pre-granted", "allowed" or "blocked"
	Text   string `json:"text"`
}

// Permissions is a profile's permissions page.
type Permissions struct {
	Grants  []GrantInfo   `json:"grants"`
	Managed []ManagedRule `json:"managed"`
	// Notes are sentences about the organisation's policy as a whole (the API is off, say).
	Notes []string `json:"notes"`
	// Warning reports a grants file that had to be moved aside.
	Warning string `json:"warning"`
}

// Permissions returns the profile's remembered connections and the organisation's rules for it.
func (l *Launcher) Permissions(id string) (Permissions, error) {
	p, err := profileByID(id)
	if err != nil {
		return Permissions{}, err
	}
	out := Permissions{Grants: []GrantInfo{}, Managed: []ManagedRule{}, Notes: []string{}}
	g, err := newGrantStore(p).load()
	if err != nil {
		out.Warning = err.Error()
	}
	for _, gr := range g.ForOrigin(p.Origin) {
		out.Grants = append(out.Grants, GrantInfo{Protocol: string(gr.Protocol), Mode: string(gr.Mode),
			Host: gr.Host, Port: gr.Port, TLS: gr.TLS, Created: gr.Created})
	}
	ent, entErr := loadEnterprise(enterpriseDir)
	if entErr != nil {
		out.Notes = append(out.Notes, "Your organisation's socket policy cannot be read, so no site may open sockets: "+entErr.Error())
	}
	sp := ent.ForSite(p.Origin)
	if sp.Disabled && entErr == nil {
		out.Notes = append(out.Notes, "Your organisation has turned sockets off for every site.")
	}
	if sp.OriginBlocked {
		out.Notes = append(out.Notes, "Your organisation does not allow this site to open sockets.")
	}
	for _, set := range []struct {
		effect string
		rules  []policy.DestRule
	}{{"pre-granted", sp.PreGrants}, {"allowed", sp.Allowed}, {"blocked", sp.Blocked}} {
		for _, r := range set.rules {
			out.Managed = append(out.Managed, ManagedRule{Effect: set.effect, Text: describeRule(r)})
		}
	}
	return out, nil
}

// RevokeGrant forgets one remembered connection: the site must ask again.
func (l *Launcher) RevokeGrant(id string, g GrantInfo) error {
	p, err := profileByID(id)
	if err != nil {
		return err
	}
	removed, err := newGrantStore(p).revoke(p.Origin, policy.Protocol(g.Protocol), policy.Mode(g.Mode), g.Host, g.Port, g.TLS)
	if err != nil {
		return err
	}
	if !removed {
		return errors.New("that connection was not remembered any more")
	}
	alog.Info("grant revoked", "profile", p.ID(), "destination", net.JoinHostPort(g.Host, strconv.Itoa(g.Port)))
	return nil
}

// Decision is one line of the audit log, for the inspector.
type Decision struct {
	Time        string `json:"time"`
	Destination string `json:"destination"`
	Protocol    string `json:"protocol"`
	Verdict     string `json:"verdict"`
	Reason      string `json:"reason"`
	Answer      string `json:"answer"`
	Remember    bool   `json:"remember"`
	// Outcome ("allowed" or "refused") and Summary and Why word the decision for people.
	Outcome string `json:"outcome"`
	Summary string `json:"summary"`
	Why     string `json:"why"`
}

// reasonWords words the policy's reasons for the inspector.
var reasonWords = map[string]string{
	string(policy.ReasonDisabled):                     "Sockets are turned off",
	string(policy.ReasonInsecureOrigin):               "The site is not secure (not https)",
	string(policy.ReasonBadRequest):                   "The request was malformed",
	string(policy.ReasonBadHost):                      "The host name is not valid",
	string(policy.ReasonBadLocalAddress):              "The local address is not valid",
	string(policy.ReasonBadPort):                      "The port is not allowed",
	string(policy.ReasonPort443):                      "Port 443 is reserved for the web",
	string(policy.ReasonUnresolved):                   "The host name could not be resolved",
	string(policy.ReasonAddressMismatch):              "The address changed while deciding",
	string(policy.ReasonForbiddenAddress):             "The address is never reachable",
	string(policy.ReasonNonPublicResolution):          "A public name pointed to a private address",
	string(policy.ReasonNeedsConsentLocal):            "A device on your computer or network",
	string(policy.ReasonNeedsConsent):                 "A new destination",
	string(policy.ReasonGranted):                      "Remembered connection",
	string(policy.ReasonManagedOriginBlocked):         "Your organisation blocks this site",
	string(policy.ReasonManagedDestinationBlocked):    "Your organisation blocks this destination",
	string(policy.ReasonManagedDestinationNotAllowed): "Not on your organisation's allow list",
	string(policy.ReasonManagedGrant):                 "Allowed by your organisation",
	"needs-address":                                   "The site let you choose the destination",
}

// worded fills in the Outcome, Summary and Why of d.
func (d Decision) worded() Decision {
	d.Why = cmp.Or(reasonWords[d.Reason], d.Reason)
	switch {
	case d.Verdict == "allow":
		d.Outcome, d.Summary = "allowed", "Allowed"
	case d.Verdict == "ask" && d.Answer == "allow" && d.Remember:
		d.Outcome, d.Summary = "allowed", "You allowed it and chose to remember it"
	case d.Verdict == "ask" && d.Answer == "allow":
		d.Outcome, d.Summary = "allowed", "You allowed it"
	case d.Verdict == "ask" && d.Answer == "deny":
		d.Outcome, d.Summary = "refused", "You denied it"
	case d.Verdict == "ask":
		d.Outcome, d.Summary = "refused", "Refused before asking you"
	default:
		d.Outcome, d.Summary = "refused", "Refused"
	}
	return d
}

// Inspection is the inspector's view of one profile.
type Inspection struct {
	Running   bool                  `json:"running"`
	Sockets   []bindings.SocketInfo `json:"sockets"`
	Decisions []Decision            `json:"decisions"`
	Error     string                `json:"error"`
}

// recentDecisions is how many decisions the inspector shows.
const recentDecisions = 50

// Inspect lists the profile's open sockets (asking its process) and its recent decisions.
func (l *Launcher) Inspect(id string) (Inspection, error) {
	p, err := profileByID(id)
	if err != nil {
		return Inspection{}, err
	}
	out := Inspection{Sockets: []bindings.SocketInfo{}, Decisions: recentAudit(p.Origin, recentDecisions)}
	resp, err := askInstance(p.ConfigDir(), controlRequest{Op: "sockets"}, 0)
	switch {
	case errors.Is(err, errNotRunning):
	case err != nil:
		out.Running, out.Error = true, "The site's window did not answer: "+err.Error()
	default:
		out.Running = true
		if resp.Sockets != nil {
			out.Sockets = resp.Sockets
		}
	}
	return out, nil
}

// CloseSocket closes one of the profile's open sockets.
func (l *Launcher) CloseSocket(id string, socket uint64) error {
	p, err := profileByID(id)
	if err != nil {
		return err
	}
	resp, err := askInstance(p.ConfigDir(), controlRequest{Op: "close", Socket: socket}, 0)
	if errors.Is(err, errNotRunning) {
		return errors.New("the site's window is closed, and its sockets with it")
	}
	if err != nil {
		return err
	}
	if !resp.Closed {
		return errors.New("that socket is closed already")
	}
	return nil
}

// recentAudit returns the newest decisions for origin, newest first, from the audit log and its
// most recent rotated file.
func recentAudit(origin string, n int) []Decision {
	dir := filepath.Join(xdg.StateHome, "socketeer")
	var out []Decision
	for _, name := range []string{"audit.log", "audit.log.1"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		var file []Decision
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 64<<10)
		for sc.Scan() {
			var line auditLine
			if json.Unmarshal(sc.Bytes(), &line) != nil || line.Origin != origin {
				continue
			}
			file = append(file, Decision{Time: line.Time, Protocol: line.Protocol,
				Destination: net.JoinHostPort(line.Host, strconv.Itoa(line.Port)), Verdict: line.Verdict,
				Reason: line.Reason, Answer: line.Answer, Remember: line.Remember}.worded())
		}
		f.Close()
		slices.Reverse(file)
		out = append(out, file...)
		if len(out) >= n {
			break
		}
	}
	if len(out) > n {
		out = out[:n]
	}
	if out == nil {
		out = []Decision{}
	}
	return out
}

// launcherCSP is the launcher page's Content-Security-Policy (see launcherHeaders).
const launcherCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-src 'none'; frame-ancestors 'none'"

// launcherViews are the views the page reports when it has shown them, for the log.
var launcherViews = []string{"list", "empty", "permissions", "managed", "activity", "add-form", "add-preview", "edit", "remove", "status"}

// Shown logs that the page has shown a view with n items, which is when a person (or a test) can
// act on it.
func (l *Launcher) Shown(view string, n int) {
	if slices.Contains(launcherViews, view) {
		alog.Info("launcher view shown", "view", view, "items", n)
	}
}

// offerDemo makes the built-in demo a ready profile on the launcher's first run, so that the
// launcher is never empty the first time. A demo the user removed later stays removed (the page
// offers to bring it back).
func offerDemo(dir string) error {
	marker := filepath.Join(dir, "demo-offered")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	if _, _, _, err := demoProfile(demoSitePort); err != nil {
		return err
	}
	return writeFileAtomic(marker, []byte("The launcher's first run added the demo profile.\n"))
}
