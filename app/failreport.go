package app

import (
	"errors"
	"io"
	"os"
	"runtime/debug"
	"sync"
)

// A command that cannot open its window must say why where the user will see it. Standard error
// always gets the message; a process started from a desktop menu has nobody reading it, so it also
// shows the message in a native dialog, and a process the launcher started hands it to the launcher,
// which shows it in its page (see Launcher.OpenProfile).

// failureKind is what a failed command line was, for deciding where its message goes.
type failureKind int

const (
	// failureNone: the command succeeded (help and version always do).
	failureNone failureKind = iota
	// failureUsage: the command line itself was wrong; only whoever typed it needs the message.
	failureUsage
	// failureCommand: a command-line task (trust, grants, profiles, package) failed. Scripts and
	// terminals run these and read standard error; a dialog would only get in their way.
	failureCommand
	// failureWindow: a command that opens a window (the launcher, open, --profile, demo) failed.
	// Desktop menu entries run these, with nobody reading standard error.
	failureWindow
)

// classifyFailure says what kind of failure err is for the command line args.
func classifyFailure(args []string, err error) failureKind {
	if err == nil {
		return failureNone
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.usage {
		return failureUsage
	}
	if len(args) == 0 {
		return failureWindow
	}
	switch args[0] {
	case "open", "--profile", "-profile", "demo":
		return failureWindow
	}
	return failureCommand
}

// wantErrorDialog decides whether a failure is also shown in a native dialog: only when a window
// could not be opened, nobody sees standard error (it is not a terminal) and there is a display to
// show the dialog on.
func wantErrorDialog(kind failureKind, stderrTerminal, display bool) bool {
	return kind == failureWindow && !stderrTerminal && display
}

// displaySet reports whether the environment names a display (X11 or Wayland).
func displaySet(getenv func(string) string) bool {
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
}

// errorDialogOff is the environment variable that turns the error dialog off (for scripts and test
// harnesses that start window commands with a display and read standard error themselves).
const errorDialogOff = "SOCKETEER_ERROR_DIALOG"

// writesToTerminal reports whether w is a terminal. A writer that is not a file (a test's buffer)
// counts as one: whoever made it reads what is written there.
func writesToTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return true
	}
	return isTerminal(f)
}

// errorDialogHeading words the dialog's heading for the command that failed.
func errorDialogHeading(args []string) string {
	if len(args) > 0 && args[0] == "demo" {
		return "Socketeer could not open the demo"
	}
	if len(args) > 0 {
		return "Socketeer could not open the site"
	}
	return "Socketeer could not start"
}

// maxDialogText bounds the message a dialog or the launcher page shows.
const maxDialogText = 1000

// dialogText cleans a message for a dialog as cleanText does, keeping its line breaks. It is shown
// as plain text, never as markup.
func dialogText(s string) string { return cleanRunes(s, maxDialogText, true) }

// reportFailure sends the message of a failed command where the user will see it besides standard
// error: to the launcher that started this process, else, when wantErrorDialog says so, to a native
// dialog. It returns once the user closed the dialog.
func reportFailure(args []string, err error, stderr io.Writer) {
	kind := classifyFailure(args, err)
	if kind == failureNone {
		return
	}
	if launchReport.fail("socketeer: " + err.Error()) {
		return
	}
	if os.Getenv(errorDialogOff) == "off" || !wantErrorDialog(kind, writesToTerminal(stderr), displaySet(os.Getenv)) {
		return
	}
	showErrorDialog(errorDialogHeading(args), dialogText(err.Error()))
}

// launchReportEnv names the file descriptor on which a process the launcher started reports why it
// failed (see Launcher.OpenProfile). The process takes it out of its environment at once, so that
// nothing it starts inherits it.
const launchReportEnv = "SOCKETEER_REPORT_FD"

// launchReport is this process's report to the launcher that started it, or nil.
var launchReport *failureChannel

// failureChannel is the write end of the launcher's report pipe. The launcher reads it until it
// closes: ready closes it when the window is up; otherwise it closes when the process ends, and the
// launcher judges by the exit status (a process that brought an open window to the front ends
// with success) and shows what was written (a message, or a crash report) for a failure.
type failureChannel struct {
	mu sync.Mutex
	f  *os.File
}

// newFailureChannel reports on f, and sends crash reports (unhandled panics, fatal errors) there too
// until the window is up.
func newFailureChannel(f *os.File) *failureChannel {
	if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
		alog.Debug("crash reports will not reach the launcher", "error", err)
	}
	return &failureChannel{f: f}
}

// fail writes the message to the launcher and reports whether it arrived there (false when no
// launcher is listening any more, so the message must be shown some other way).
func (c *failureChannel) fail(msg string) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil {
		return false
	}
	_, err := io.WriteString(c.f, msg+"\n")
	c.closeLocked()
	return err == nil
}

// ready tells the launcher that the window is up: whatever happens later is this process's to
// report.
func (c *failureChannel) ready() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked()
}

func (c *failureChannel) closeLocked() {
	if c.f == nil {
		return
	}
	// The runtime holds a copy of the descriptor for crash reports; the launcher sees the end of the
	// report only when that copy is closed too.
	debug.SetCrashOutput(nil, debug.CrashOptions{})
	c.f.Close()
	c.f = nil
}
