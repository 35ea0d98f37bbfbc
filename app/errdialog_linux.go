//go:build linux && cgo

package app

/*
#cgo pkg-config: gtk+-3.0
#include <stdlib.h>
#include <gtk/gtk.h>

// sk_error_dialog shows a modal error message and returns when the user closes it, or returns 0 at
// once when GTK cannot open the display. Both texts are plain text: no markup is parsed.
static int sk_error_dialog(const char *title, const char *heading, const char *text) {
    if (!gtk_init_check(NULL, NULL)) return 0;
    GtkWidget *d = gtk_message_dialog_new(NULL, GTK_DIALOG_MODAL, GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s", heading);
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", text);
    gtk_window_set_title(GTK_WINDOW(d), title);
    gtk_window_set_position(GTK_WINDOW(d), GTK_WIN_POS_CENTER);
    gtk_window_set_keep_above(GTK_WINDOW(d), TRUE);
    gtk_window_set_urgency_hint(GTK_WINDOW(d), TRUE);
    gtk_window_present(GTK_WINDOW(d));
    gtk_dialog_run(GTK_DIALOG(d));
    gtk_widget_destroy(d);
    // Let the window go away before the process ends.
    while (gtk_events_pending()) gtk_main_iteration();
    return 1;
}
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// The main goroutine stays on the process's main thread from the start: GTK must be used on the
// thread that initialised it, which is this one for displayAvailable, for Wails (which locks the
// goroutine it runs on) and for the error dialog Main shows after a failure.
func init() { runtime.LockOSThread() }

// showErrorDialog shows a failure in a modal GTK message dialog and returns when the user closes it.
// It runs on the main goroutine (from Main), before Wails started or after it ended: never while a
// GTK main loop runs on another thread.
func showErrorDialog(heading, text string) {
	title := C.CString("Socketeer")
	h := C.CString(heading)
	t := C.CString(text)
	defer C.free(unsafe.Pointer(title))
	defer C.free(unsafe.Pointer(h))
	defer C.free(unsafe.Pointer(t))
	if C.sk_error_dialog(title, h, t) == 0 {
		alog.Debug("no error dialog: the display cannot be opened")
	}
}
