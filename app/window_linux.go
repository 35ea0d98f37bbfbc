//go:build linux && cgo

package app

/*
#cgo pkg-config: gtk+-3.0 webkit2gtk-4.1
#include <stdlib.h>
#include "window_linux.h"
*/
import "C"

import (
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"
)

// setProgramClass sets the class half of WM_CLASS to name exactly; GDK would otherwise take the
// program name (setWindowClass) with its first letter in upper case, which a desktop entry's
// StartupWMClass then does not match. Call it after GTK starts and before Wails shows a window.
func setProgramClass(name string) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	C.sk_set_program_class(cs)
}

// windowSaveDelay gathers the configure events of one move or resize into one write.
const windowSaveDelay = 400 * time.Millisecond

// windowTracker remembers the main window's geometry in dir as the user changes it.
type windowTracker struct {
	dir string

	mu    sync.Mutex
	state windowState
	timer *time.Timer
}

// trackWindow restores the window's remembered geometry and starts remembering changes. It runs on
// the GTK thread once the window exists.
func trackWindow(dir string) *windowTracker {
	w := C.sk_main_window()
	if w == nil {
		return nil
	}
	t := &windowTracker{dir: dir}
	if ws, ok := loadWindowState(dir); ok {
		t.state = ws
		// Wails centres the window from an idle callback it queued as it showed the window, before
		// this one ran; restoring from the next one lets the remembered place win.
		onGTK(func() {
			C.sk_restore_geometry(w, C.int(ws.X), C.int(ws.Y), C.int(ws.Width), C.int(ws.Height), C.int(boolInt(ws.Maximized)))
		})
	}
	C.sk_track_geometry(w, C.uintptr_t(cgo.NewHandle(t)))
	return t
}

//export skWindowConfigured
func skWindowConfigured(h C.uintptr_t, x, y, width, height, maximized C.int) {
	cgo.Handle(h).Value().(*windowTracker).changed(windowState{
		X: int(x), Y: int(y), Width: int(width), Height: int(height), Maximized: maximized == 1,
	})
}

func (t *windowTracker) changed(ws windowState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ws.Maximized {
		// A maximised window keeps the size and place it had before, to return to them.
		ws.X, ws.Y, ws.Width, ws.Height = t.state.X, t.state.Y, t.state.Width, t.state.Height
	}
	if ws == t.state {
		return
	}
	t.state = ws
	if t.timer == nil {
		t.timer = time.AfterFunc(windowSaveDelay, t.save)
	} else {
		t.timer.Reset(windowSaveDelay)
	}
}

// save writes the geometry; the site may close right after, so it is also called at shutdown.
func (t *windowTracker) save() {
	if t == nil {
		return
	}
	t.mu.Lock()
	ws := t.state
	t.mu.Unlock()
	if ws.Width == 0 {
		return
	}
	if err := saveWindowState(t.dir, ws); err != nil {
		alog.Warn("could not remember the window's size and position", "error", err)
		return
	}
	alog.Info("window geometry saved", "x", ws.X, "y", ws.Y, "width", ws.Width, "height", ws.Height)
}

// presentMainWindow brings the process's window to the front, on the GTK thread.
func presentMainWindow() {
	onGTK(func() {
		if w := C.sk_main_window(); w != nil {
			C.sk_present(w)
			alog.Info("window brought to the front")
		}
	})
}

// lockLauncherView keeps the launcher's web view on its own pages.
func lockLauncherView(prefix string) bool {
	cs := C.CString(prefix)
	defer C.free(unsafe.Pointer(cs))
	return C.sk_lock_launcher(cs) == 1
}
