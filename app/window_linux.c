//go:build linux && cgo

// Window chores shared by site windows and the launcher: the WM class, remembering the window's
// size and position, bringing the window to the front, and keeping the launcher on its own pages.
// Everything here runs on the GTK thread.

#include "window_linux.h"
#include "gtk_linux.h"

#include <string.h>
#ifdef GDK_WINDOWING_X11
#include <gdk/gdkx.h>
#endif

// Implemented in Go (window_linux.go).
extern void skWindowConfigured(uintptr_t h, int x, int y, int width, int height, int maximized);

// The class half of WM_CLASS, which docks group windows by and a desktop entry's StartupWMClass
// names. GTK takes it when a window is realised, which Wails does while it creates the window.
void sk_set_program_class(const char *name) {
    gdk_set_program_class(name);
}

GtkWindow *sk_main_window(void) {
    WebKitWebView *view = sk_find_view();
    if (view == NULL) return NULL;
    GtkWidget *top = gtk_widget_get_toplevel(GTK_WIDGET(view));
    return GTK_IS_WINDOW(top) ? GTK_WINDOW(top) : NULL;
}

static void report_geometry(GtkWindow *w, uintptr_t h) {
    int x, y, width, height;
    gtk_window_get_position(w, &x, &y);
    gtk_window_get_size(w, &width, &height);
    GdkWindow *gw = gtk_widget_get_window(GTK_WIDGET(w));
    int maximized = gw != NULL && (gdk_window_get_state(gw) & GDK_WINDOW_STATE_MAXIMIZED) ? 1 : 0;
    skWindowConfigured(h, x, y, width, height, maximized);
}

static gboolean on_configure(GtkWidget *w, GdkEvent *event, gpointer data) {
    report_geometry(GTK_WINDOW(w), (uintptr_t)data);
    return FALSE;
}

static gboolean on_state(GtkWidget *w, GdkEventWindowState *event, gpointer data) {
    report_geometry(GTK_WINDOW(w), (uintptr_t)data);
    return FALSE;
}

void sk_track_geometry(GtkWindow *w, uintptr_t handle) {
    g_signal_connect(w, "configure-event", G_CALLBACK(on_configure), (gpointer)handle);
    g_signal_connect(w, "window-state-event", G_CALLBACK(on_state), (gpointer)handle);
}

// A remembered position is used only when the window would still be on a monitor: a monitor that
// has gone since must not leave the window out of sight.
void sk_restore_geometry(GtkWindow *w, int x, int y, int width, int height, int maximized) {
    if (width > 0 && height > 0) gtk_window_resize(w, width, height);
    GdkDisplay *display = gtk_widget_get_display(GTK_WIDGET(w));
    int n = gdk_display_get_n_monitors(display);
    for (int i = 0; i < n; i++) {
        GdkRectangle r;
        gdk_monitor_get_workarea(gdk_display_get_monitor(display, i), &r);
        if (x + 64 <= r.x + r.width && x + width - 64 >= r.x && y >= r.y && y + 32 <= r.y + r.height) {
            gtk_window_move(w, x, y);
            break;
        }
    }
    if (maximized) gtk_window_maximize(w);
}

// The user asked for this window by starting Socketeer again, so it takes the focus. On X11 the
// request carries the server's current time: GTK would otherwise use the time of this window's
// last input, and the X server ignores a focus change older than the last one.
void sk_present(GtkWindow *w) {
    guint32 when = GDK_CURRENT_TIME;
    GdkWindow *gw = gtk_widget_get_window(GTK_WIDGET(w));
#ifdef GDK_WINDOWING_X11
    if (gw != NULL && GDK_IS_X11_WINDOW(gw)) when = gdk_x11_get_server_time(gw);
#endif
    gtk_window_deiconify(w);
    gtk_window_present_with_time(w, when);
}

// The launcher shows only its own embedded pages (threat: a link or a script in the launcher's page
// taking the trusted window, and with it the launcher's bindings, to remote content). Navigations
// outside prefix are refused and no page-made window may open.
static gboolean on_launcher_policy(WebKitWebView *view, WebKitPolicyDecision *decision,
                                   WebKitPolicyDecisionType type, gpointer data) {
    const char *prefix = data;
    if (type == WEBKIT_POLICY_DECISION_TYPE_NEW_WINDOW_ACTION) {
        webkit_policy_decision_ignore(decision);
        return TRUE;
    }
    if (type == WEBKIT_POLICY_DECISION_TYPE_NAVIGATION_ACTION) {
        WebKitNavigationAction *action = webkit_navigation_policy_decision_get_navigation_action(
            WEBKIT_NAVIGATION_POLICY_DECISION(decision));
        const char *uri = webkit_uri_request_get_uri(webkit_navigation_action_get_request(action));
        if (uri == NULL || strncmp(uri, prefix, strlen(prefix)) != 0) {
            webkit_policy_decision_ignore(decision);
            return TRUE;
        }
    }
    return FALSE;
}

static GtkWidget *on_launcher_create(WebKitWebView *view, WebKitNavigationAction *action, gpointer data) {
    return NULL;
}

int sk_lock_launcher(const char *prefix) {
    WebKitWebView *view = sk_find_view();
    if (view == NULL) return 0;
    g_signal_connect(view, "decide-policy", G_CALLBACK(on_launcher_policy), g_strdup(prefix));
    g_signal_connect(view, "create", G_CALLBACK(on_launcher_create), NULL);
    WebKitSettings *settings = webkit_web_view_get_settings(view);
    webkit_settings_set_javascript_can_open_windows_automatically(settings, FALSE);
    webkit_settings_set_enable_developer_extras(settings, FALSE);
    return 1;
}
