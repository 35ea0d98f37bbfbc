//go:build linux && cgo

package app

/*
#cgo pkg-config: glib-2.0
#include <stdlib.h>
#include <glib.h>
*/
import "C"

import "unsafe"

// setWindowClass names the program for GTK before GTK starts, which is when GDK takes the window
// class (WM_CLASS) every window will have from it; Wails' own ProgramName option comes after its
// window exists and so too late. Each site gets a class of its own (siteWindowClass), which its
// package's menu entry names, so the desktop shows its windows under the site's name and icon.
func setWindowClass(name string) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	C.g_set_prgname(cs)
}
