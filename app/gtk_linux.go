//go:build linux && cgo

package app

/*
#cgo pkg-config: gtk+-3.0 webkit2gtk-4.1
#include <stdlib.h>
#include "gtk_linux.h"
*/
import "C"

import (
	"runtime/cgo"
	"sync"
	"unsafe"
)

// displayAvailable reports whether GTK can open the display. It is asked before Wails starts, since
// Wails calls gtk_init, which aborts the process with a bare GTK message when there is no display.
func displayAvailable() bool {
	return C.sk_display_available() == 1
}

var invoke struct {
	sync.Mutex
	next uintptr
	fns  map[uintptr]func()
}

// onGTK runs fn on the GTK thread. GTK and WebKitGTK may only be used there; signal handlers already
// run there, everything else comes through here.
func onGTK(fn func()) {
	invoke.Lock()
	if invoke.fns == nil {
		invoke.fns = map[uintptr]func(){}
	}
	invoke.next++
	id := invoke.next
	invoke.fns[id] = fn
	invoke.Unlock()
	C.sk_invoke(C.uintptr_t(id))
}

//export skRunInvoked
func skRunInvoked(id C.uintptr_t) {
	invoke.Lock()
	fn := invoke.fns[uintptr(id)]
	delete(invoke.fns, uintptr(id))
	invoke.Unlock()
	if fn != nil {
		fn()
	}
}

// gtkView is the web view of a site window, used only on the GTK thread.
type gtkView struct {
	view   *C.WebKitWebView
	handle cgo.Handle
}

// cstrings frees every C string it made when done.
type cstrings []*C.char

func (cs *cstrings) make(s string) *C.char {
	p := C.CString(s)
	*cs = append(*cs, p)
	return p
}

func (cs *cstrings) free() {
	for _, p := range *cs {
		C.free(unsafe.Pointer(p))
	}
}

// attachView finds the web view Wails created, hardens it and loads the site. It runs on the GTK
// thread once the main loop runs.
func attachView(s *site) bool {
	view := C.sk_find_view()
	if view == nil {
		return false
	}
	v := &gtkView{view: view, handle: cgo.NewHandle(s)}
	s.view = v
	var cs cstrings
	defer cs.free()
	cfg := C.sk_view_config{
		url:           cs.make(s.startURL),
		allow_pattern: cs.make(s.allowPattern()),
		api_js:        cs.make(s.scripts.PageAPI),
		relay_js:      cs.make(s.scripts.Relay),
		relay_world:   cs.make(s.relayWorld),
		bridge_host:   cs.make(s.bridgeHost),
		bridge_pem:    cs.make(string(s.bridgePEM)),
		cookie_path:   cs.make(s.profile.CookiePath()),
	}
	return C.sk_setup_view(view, C.uintptr_t(v.handle), &cfg) == 1
}

func (v *gtkView) setTitle(title string) {
	var cs cstrings
	defer cs.free()
	C.sk_set_title(v.view, cs.make(title))
}

func (v *gtkView) allowCertificate(der []byte, host string) bool {
	if len(der) == 0 {
		return false
	}
	var cs cstrings
	defer cs.free()
	return C.sk_allow_certificate(v.view, unsafe.Pointer(&der[0]), C.int(len(der)), cs.make(host)) == 1
}

func (v *gtkView) loadURI(uri string) {
	var cs cstrings
	defer cs.free()
	C.sk_load_uri(v.view, cs.make(uri))
}

// showHTML shows one of Socketeer's own pages. It is loaded as about:blank, outside the site's
// origin, so the site's scripts and the socket API never run in it.
func (v *gtkView) showHTML(html string) {
	var cs cstrings
	defer cs.free()
	C.sk_show_html(v.view, cs.make(html), cs.make("about:blank"))
}

// showDialog shows a guarded dialog for spec; the answer arrives through skDialogAnswer.
func (v *gtkView) showDialog(id uint64, spec dialogSpec) {
	var cs cstrings
	defer cs.free()
	n := len(spec.Rows)
	keys := C.malloc(C.size_t(max(n, 1)) * C.size_t(unsafe.Sizeof(uintptr(0))))
	vals := C.malloc(C.size_t(max(n, 1)) * C.size_t(unsafe.Sizeof(uintptr(0))))
	defer C.free(keys)
	defer C.free(vals)
	ks := unsafe.Slice((**C.char)(keys), max(n, 1))
	vs := unsafe.Slice((**C.char)(vals), max(n, 1))
	for i, r := range spec.Rows {
		ks[i] = cs.make(r[0])
		vs[i] = cs.make(r[1])
	}
	cspec := C.sk_dialog_spec{
		title:          cs.make(spec.Title),
		heading:        cs.make(spec.Heading),
		keys:           (**C.char)(keys),
		values:         (**C.char)(vals),
		n_rows:         C.int(n),
		note:           cs.make(spec.Note),
		deny_label:     cs.make(spec.DenyLabel),
		allow_label:    cs.make(spec.AllowLabel),
		remember_label: cs.make(spec.RememberLabel),
		editable:       C.int(boolInt(spec.Editable)),
		edit_host:      cs.make(spec.EditHost),
		edit_port:      cs.make(spec.EditPort),
		arm_ms:         C.int(spec.ArmDelay.Milliseconds()),
	}
	var view *C.WebKitWebView
	if v != nil {
		view = v.view
	}
	C.sk_dialog_show(view, C.uintptr_t(id), &cspec)
}

func cancelDialog(id uint64) {
	C.sk_dialog_cancel(C.uintptr_t(id))
}

func siteOf(h C.uintptr_t) *site {
	return cgo.Handle(h).Value().(*site)
}

//export skDecideNavigation
func skDecideNavigation(h C.uintptr_t, uri *C.char, newWindow, gesture C.int) C.int {
	if siteOf(h).decideNavigation(C.GoString(uri), newWindow == 1, gesture == 1) {
		return 1
	}
	return 0
}

//export skNoteNavigation
func skNoteNavigation(h C.uintptr_t, uri *C.char, gesture C.int) {
	siteOf(h).noteNavigation(C.GoString(uri), gesture == 1)
}

//export skLoadEvent
func skLoadEvent(h C.uintptr_t, event C.int, uri *C.char) {
	siteOf(h).loadEvent(loadEvent(event), C.GoString(uri))
}

//export skLoadFailed
func skLoadFailed(h C.uintptr_t, uri *C.char, cancelled C.int, message *C.char) C.int {
	if siteOf(h).loadFailed(C.GoString(uri), cancelled == 1, C.GoString(message)) {
		return 1
	}
	return 0
}

//export skTLSError
func skTLSError(h C.uintptr_t, uri, host *C.char, der unsafe.Pointer, n C.int) C.int {
	if siteOf(h).tlsError(C.GoString(uri), C.GoString(host), C.GoBytes(der, n)) {
		return 1
	}
	return 0
}

//export skTitleChanged
func skTitleChanged(h C.uintptr_t, title *C.char) {
	siteOf(h).titleChanged(C.GoString(title))
}

//export skWebProcessTerminated
func skWebProcessTerminated(h C.uintptr_t, reason C.int) {
	siteOf(h).webProcessTerminated(int(reason))
}

//export skDialogAnswer
func skDialogAnswer(id C.uintptr_t, allow, remember C.int, host, port *C.char) {
	a := dialogAnswer{Allow: allow == 1, Remember: remember == 1}
	if host != nil {
		a.Host = C.GoString(host)
	}
	if port != nil {
		a.Port = C.GoString(port)
	}
	dialogs.answer(uint64(id), a)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

//export skDialogArmed
func skDialogArmed(id C.uintptr_t) {
	dialogs.armed(uint64(id))
}
