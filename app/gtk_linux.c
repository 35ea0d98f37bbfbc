//go:build linux && cgo

// The GTK and WebKitGTK side of a site window. Everything here runs on the GTK thread: either from a
// signal handler or from sk_invoke, which Go uses to queue work there (g_idle_add is the one GLib call
// that is safe from any thread).

#include "gtk_linux.h"

#include <string.h>

// Implemented in Go (gtk_linux.go).
extern void skRunInvoked(uintptr_t id);
extern int skDecideNavigation(uintptr_t h, char *uri, int new_window, int user_gesture);
extern void skNoteNavigation(uintptr_t h, char *uri, int user_gesture);
extern void skLoadEvent(uintptr_t h, int event, char *uri);
extern int skTLSError(uintptr_t h, char *uri, char *host, void *der, int der_len);
extern int skLoadFailed(uintptr_t h, char *uri, int cancelled, char *message);
extern void skTitleChanged(uintptr_t h, char *title);
extern void skWebProcessTerminated(uintptr_t h, int reason);
extern void skDialogAnswer(uintptr_t id, int allow, int remember, char *host, char *port);
extern void skDialogArmed(uintptr_t id);

static gboolean run_invoked(gpointer data) {
    skRunInvoked((uintptr_t)data);
    return G_SOURCE_REMOVE;
}

void sk_invoke(uintptr_t id) {
    g_idle_add(run_invoked, (gpointer)id);
}

int sk_display_available(void) {
    return gtk_init_check(NULL, NULL) ? 1 : 0;
}

static WebKitWebView *find_view_in(GtkWidget *w) {
    if (WEBKIT_IS_WEB_VIEW(w)) return WEBKIT_WEB_VIEW(w);
    if (!GTK_IS_CONTAINER(w)) return NULL;
    WebKitWebView *found = NULL;
    GList *children = gtk_container_get_children(GTK_CONTAINER(w));
    for (GList *l = children; l != NULL && found == NULL; l = l->next) {
        found = find_view_in(GTK_WIDGET(l->data));
    }
    g_list_free(children);
    return found;
}

// The web view Wails created is found by walking the toplevel windows: Wails does not expose it.
WebKitWebView *sk_find_view(void) {
    WebKitWebView *found = NULL;
    GList *tops = gtk_window_list_toplevels();
    for (GList *l = tops; l != NULL && found == NULL; l = l->next) {
        found = find_view_in(GTK_WIDGET(l->data));
    }
    g_list_free(tops);
    return found;
}

static GtkWindow *toplevel_of(WebKitWebView *view) {
    GtkWidget *top = gtk_widget_get_toplevel(GTK_WIDGET(view));
    return GTK_IS_WINDOW(top) ? GTK_WINDOW(top) : NULL;
}

static gboolean on_decide_policy(WebKitWebView *view, WebKitPolicyDecision *decision,
                                 WebKitPolicyDecisionType type, gpointer data) {
    if (type == WEBKIT_POLICY_DECISION_TYPE_NAVIGATION_ACTION) {
        // WebKitGTK does not say here whether the main frame or an iframe navigates; load-changed
        // (main frame only) decides, and this only notes whether the user asked for the navigation.
        WebKitNavigationAction *action = webkit_navigation_policy_decision_get_navigation_action(
            WEBKIT_NAVIGATION_POLICY_DECISION(decision));
        WebKitURIRequest *req = webkit_navigation_action_get_request(action);
        skNoteNavigation((uintptr_t)data, (char *)webkit_uri_request_get_uri(req),
                         webkit_navigation_action_is_user_gesture(action) ? 1 : 0);
        return FALSE;
    }
    if (type == WEBKIT_POLICY_DECISION_TYPE_RESPONSE) {
        // The one place WebKitGTK says for sure that the main frame is about to show a document:
        // navigations a page starts itself (links, forms, location) do not update the view's URI
        // before they commit, so this is where the origin lock holds for them, redirects included.
        WebKitResponsePolicyDecision *rd = WEBKIT_RESPONSE_POLICY_DECISION(decision);
        if (!webkit_response_policy_decision_is_main_frame_main_resource(rd)) return FALSE;
        const char *uri = webkit_uri_request_get_uri(webkit_response_policy_decision_get_request(rd));
        if (uri != NULL && !skDecideNavigation((uintptr_t)data, (char *)uri, 0, 0)) {
            webkit_policy_decision_ignore(decision);
            return TRUE;
        }
        return FALSE;
    }
    if (type != WEBKIT_POLICY_DECISION_TYPE_NEW_WINDOW_ACTION) {
        return FALSE;
    }
    // A new window (target=_blank, window.open) never opens inside the app: Go decides whether
    // to hand the address to the system browser.
    WebKitNavigationAction *action = webkit_navigation_policy_decision_get_navigation_action(
        WEBKIT_NAVIGATION_POLICY_DECISION(decision));
    WebKitURIRequest *req = webkit_navigation_action_get_request(action);
    skDecideNavigation((uintptr_t)data, (char *)webkit_uri_request_get_uri(req), 1,
                       webkit_navigation_action_is_user_gesture(action) ? 1 : 0);
    webkit_policy_decision_ignore(decision);
    return TRUE;
}

static void on_load_changed(WebKitWebView *view, WebKitLoadEvent event, gpointer data) {
    const char *uri = webkit_web_view_get_uri(view);
    if (g_getenv("SOCKETEER_GTK_DEBUG")) g_printerr("load-changed %d %s\n", (int)event, uri ? uri : "(null)");
    // load-changed is emitted for the main frame only, which is what the origin lock is about.
    if (event == WEBKIT_LOAD_STARTED || event == WEBKIT_LOAD_REDIRECTED) {
        if (uri != NULL && uri[0] != '\0' && !skDecideNavigation((uintptr_t)data, (char *)uri, 0, 0)) {
            webkit_web_view_stop_loading(view);
            return;
        }
    }
    if (event == WEBKIT_LOAD_COMMITTED && uri != NULL && uri[0] != '\0' &&
        !skDecideNavigation((uintptr_t)data, (char *)uri, 0, 0)) {
        // A backstop: should a foreign document ever commit, it is replaced at once.
        webkit_web_view_stop_loading(view);
        skLoadEvent((uintptr_t)data, -1, (char *)uri);
        return;
    }
    skLoadEvent((uintptr_t)data, (int)event, (char *)(uri ? uri : ""));
}

static gboolean on_tls_error(WebKitWebView *view, gchar *failing_uri, GTlsCertificate *cert,
                             GTlsCertificateFlags errors, gpointer data) {
    GByteArray *der = NULL;
    g_object_get(cert, "certificate", &der, NULL);
    if (g_getenv("SOCKETEER_GTK_DEBUG")) g_printerr("tls error %s der=%p\n", failing_uri, (void *)der);
    if (der == NULL) return FALSE;
    char *host = NULL;
    GUri *u = g_uri_parse(failing_uri, G_URI_FLAGS_NONE, NULL);
    if (u != NULL) {
        host = g_strdup(g_uri_get_host(u));
        g_uri_unref(u);
    }
    int handled = skTLSError((uintptr_t)data, failing_uri, host ? host : "", der->data, (int)der->len);
    g_free(host);
    g_byte_array_unref(der);
    return handled ? TRUE : FALSE;
}

static gboolean on_load_failed(WebKitWebView *view, WebKitLoadEvent event, gchar *uri, GError *error, gpointer data) {
    if (g_getenv("SOCKETEER_GTK_DEBUG")) g_printerr("load failed %d %s: %s (%d)\n", (int)event, uri, error->message, error->code);
    // WebKit's own cancellation, or GIO's ("Operation was cancelled") passed on from the network.
    int cancelled = g_error_matches(error, WEBKIT_NETWORK_ERROR, WEBKIT_NETWORK_ERROR_CANCELLED) ||
                    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    return skLoadFailed((uintptr_t)data, uri, cancelled, error->message) ? TRUE : FALSE;
}

static void on_title(GObject *obj, GParamSpec *pspec, gpointer data) {
    const char *title = webkit_web_view_get_title(WEBKIT_WEB_VIEW(obj));
    skTitleChanged((uintptr_t)data, (char *)(title ? title : ""));
}

static void on_terminated(WebKitWebView *view, WebKitWebProcessTerminationReason reason, gpointer data) {
    skWebProcessTerminated((uintptr_t)data, (int)reason);
}

// Refuse the "create" signal outright: no page-created window may exist.
static GtkWidget *on_create(WebKitWebView *view, WebKitNavigationAction *action, gpointer data) {
    return NULL;
}

int sk_setup_view(WebKitWebView *view, uintptr_t handle, const sk_view_config *cfg) {
    WebKitUserContentManager *ucm = webkit_web_view_get_user_content_manager(view);

    // Threat: page access to Wails' bridge. Wails registers the "external" message handler in the
    // page's world for every frame and acts on the first character of any message (quit, retitle,
    // call bindings, open URLs). A site window has no use for it, so it is removed before the site
    // loads; posting to it then throws a TypeError in the page and reaches nothing.
    webkit_user_content_manager_unregister_script_message_handler(ucm, "external");
    webkit_user_content_manager_remove_all_scripts(ucm);

    // Both scripts are limited to the profile's origin by an allow-list (WebKit matches scheme and
    // host; the scripts themselves check the exact origin, port included), injected into every frame
    // at document start, before the page's first script.
    const gchar *allow[] = {cfg->allow_pattern, NULL};
    WebKitUserScript *api = webkit_user_script_new(cfg->api_js, WEBKIT_USER_CONTENT_INJECT_ALL_FRAMES,
        WEBKIT_USER_SCRIPT_INJECT_AT_DOCUMENT_START, allow, NULL);
    webkit_user_content_manager_add_script(ucm, api);
    webkit_user_script_unref(api);
    WebKitUserScript *relay = webkit_user_script_new_for_world(cfg->relay_js, WEBKIT_USER_CONTENT_INJECT_ALL_FRAMES,
        WEBKIT_USER_SCRIPT_INJECT_AT_DOCUMENT_START, cfg->relay_world, allow, NULL);
    webkit_user_content_manager_add_script(ucm, relay);
    webkit_user_script_unref(relay);

    WebKitWebContext *ctx = webkit_web_view_get_context(view);
    GError *err = NULL;
    GTlsCertificate *bridge = g_tls_certificate_new_from_pem(cfg->bridge_pem, -1, &err);
    if (bridge == NULL) {
        g_clear_error(&err);
        return 0;
    }
    webkit_web_context_allow_tls_certificate_for_host(ctx, bridge, cfg->bridge_host);
    g_object_unref(bridge);

    // Cookies persist in the profile (WebKit keeps them in memory unless told otherwise).
    WebKitWebsiteDataManager *wdm = webkit_web_context_get_website_data_manager(ctx);
    webkit_cookie_manager_set_persistent_storage(webkit_website_data_manager_get_cookie_manager(wdm),
        cfg->cookie_path, WEBKIT_COOKIE_PERSISTENT_STORAGE_SQLITE);

    WebKitSettings *settings = webkit_web_view_get_settings(view);
    // The back/forward cache would keep a page (and its bridge session) alive after navigation;
    // without it, leaving a page always ends its sockets.
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    webkit_settings_set_enable_page_cache(settings, FALSE);
    G_GNUC_END_IGNORE_DEPRECATIONS
    webkit_settings_set_javascript_can_open_windows_automatically(settings, FALSE);
    webkit_settings_set_enable_developer_extras(settings, FALSE);
    if (g_getenv("SOCKETEER_GTK_DEBUG")) webkit_settings_set_enable_write_console_messages_to_stdout(settings, TRUE);

    g_signal_connect(view, "decide-policy", G_CALLBACK(on_decide_policy), (gpointer)handle);
    g_signal_connect(view, "load-changed", G_CALLBACK(on_load_changed), (gpointer)handle);
    g_signal_connect(view, "load-failed", G_CALLBACK(on_load_failed), (gpointer)handle);
    g_signal_connect(view, "load-failed-with-tls-errors", G_CALLBACK(on_tls_error), (gpointer)handle);
    g_signal_connect(view, "notify::title", G_CALLBACK(on_title), (gpointer)handle);
    g_signal_connect(view, "web-process-terminated", G_CALLBACK(on_terminated), (gpointer)handle);
    g_signal_connect(view, "create", G_CALLBACK(on_create), (gpointer)handle);

    webkit_web_view_load_uri(view, cfg->url);
    return 1;
}

void sk_set_title(WebKitWebView *view, const char *title) {
    GtkWindow *w = toplevel_of(view);
    if (w != NULL) gtk_window_set_title(w, title);
}

int sk_allow_certificate(WebKitWebView *view, const void *der, int len, const char *host) {
    GByteArray *bytes = g_byte_array_new();
    g_byte_array_append(bytes, der, (guint)len);
    GTlsCertificate *cert = g_initable_new(g_tls_backend_get_certificate_type(g_tls_backend_get_default()),
        NULL, NULL, "certificate", bytes, NULL);
    g_byte_array_unref(bytes);
    if (cert == NULL) return 0;
    webkit_web_context_allow_tls_certificate_for_host(webkit_web_view_get_context(view), cert, host);
    g_object_unref(cert);
    return 1;
}

void sk_load_uri(WebKitWebView *view, const char *uri) {
    webkit_web_view_load_uri(view, uri);
}

void sk_show_html(WebKitWebView *view, const char *html, const char *content_uri) {
    webkit_web_view_load_alternate_html(view, html, content_uri, NULL);
}

// Guarded dialogs: the consent prompt and the certificate prompt. They are native windows, transient
// for and modal to the site window, so page script can neither draw, cover nor click them. Their text
// is set with gtk_label_set_text, never as markup. The safe answer is the default button, Escape and
// closing the window give it too, and the risky button stays insensitive for the first arm_ms
// milliseconds (threat: a page that times a click or key press to land on a dialog as it appears).

static GHashTable *dialogs;

typedef struct {
    uintptr_t id;
    GtkWidget *allow;
} arm_data;

static gboolean arm_dialog(gpointer p) {
    arm_data *a = p;
    if (dialogs != NULL && g_hash_table_contains(dialogs, (gpointer)a->id)) {
        gtk_widget_set_sensitive(a->allow, TRUE);
        skDialogArmed(a->id);
    }
    g_object_unref(a->allow);
    g_free(a);
    return G_SOURCE_REMOVE;
}

static void on_dialog_response(GtkDialog *d, gint response, gpointer data) {
    uintptr_t id = (uintptr_t)data;
    if (dialogs == NULL || !g_hash_table_remove(dialogs, (gpointer)id)) return;
    GtkWidget *remember = g_object_get_data(G_OBJECT(d), "sk-remember");
    int allow = response == GTK_RESPONSE_ACCEPT ? 1 : 0;
    int keep = allow && remember != NULL && gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(remember)) ? 1 : 0;
    GtkWidget *host = g_object_get_data(G_OBJECT(d), "sk-host");
    GtkWidget *port = g_object_get_data(G_OBJECT(d), "sk-port");
    char *h = host ? g_strdup(gtk_entry_get_text(GTK_ENTRY(host))) : NULL;
    char *p = port ? g_strdup(gtk_entry_get_text(GTK_ENTRY(port))) : NULL;
    gtk_widget_destroy(GTK_WIDGET(d));
    skDialogAnswer(id, allow, keep, h, p);
    g_free(h);
    g_free(p);
}

// A dialog that goes away without an answer (its window destroyed from outside, or its parent
// closing) is a denial, like closing it.
static void on_dialog_destroy(GtkWidget *d, gpointer data) {
    uintptr_t id = (uintptr_t)data;
    if (dialogs == NULL || !g_hash_table_remove(dialogs, (gpointer)id)) return;
    skDialogAnswer(id, 0, 0, NULL, NULL);
}

// The safe button has the focus when the dialog appears, so that keys typed into the page by
// habit (or by a page timing its prompt) neither edit the address nor press Allow.
static gboolean focus_safe_button_later(gpointer deny) {
    gtk_widget_grab_focus(GTK_WIDGET(deny));
    g_object_unref(deny);
    return G_SOURCE_REMOVE;
}

static gboolean focus_safe_button(GtkWidget *d, GdkEvent *event, gpointer deny) {
    // Only the first time the dialog gets the focus: later, the user may have moved it on purpose.
    if (g_object_get_data(G_OBJECT(d), "sk-focused") != NULL) return FALSE;
    g_object_set_data(G_OBJECT(d), "sk-focused", GINT_TO_POINTER(1));
    g_idle_add(focus_safe_button_later, g_object_ref(deny));
    return FALSE;
}

void sk_dialog_show(WebKitWebView *view, uintptr_t id, const sk_dialog_spec *spec) {
    if (dialogs == NULL) dialogs = g_hash_table_new(g_direct_hash, g_direct_equal);
    GtkWindow *parent = view ? toplevel_of(view) : NULL;
    GtkWidget *d = gtk_dialog_new();
    gtk_window_set_title(GTK_WINDOW(d), spec->title);
    if (parent != NULL) gtk_window_set_transient_for(GTK_WINDOW(d), parent);
    gtk_window_set_modal(GTK_WINDOW(d), TRUE);
    gtk_window_set_destroy_with_parent(GTK_WINDOW(d), TRUE);
    gtk_window_set_resizable(GTK_WINDOW(d), FALSE);
    gtk_window_set_keep_above(GTK_WINDOW(d), TRUE);

    GtkWidget *box = gtk_dialog_get_content_area(GTK_DIALOG(d));
    gtk_container_set_border_width(GTK_CONTAINER(box), 18);
    gtk_box_set_spacing(GTK_BOX(box), 8);
    GtkWidget *heading = gtk_label_new(NULL);
    gtk_label_set_text(GTK_LABEL(heading), spec->heading);
    gtk_label_set_line_wrap(GTK_LABEL(heading), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(heading), 60);
    gtk_label_set_xalign(GTK_LABEL(heading), 0);
    PangoAttrList *bold = pango_attr_list_new();
    pango_attr_list_insert(bold, pango_attr_weight_new(PANGO_WEIGHT_BOLD));
    gtk_label_set_attributes(GTK_LABEL(heading), bold);
    pango_attr_list_unref(bold);
    gtk_box_pack_start(GTK_BOX(box), heading, FALSE, FALSE, 0);

    GtkWidget *grid = gtk_grid_new();
    gtk_grid_set_row_spacing(GTK_GRID(grid), 4);
    gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
    for (int i = 0; i < spec->n_rows; i++) {
        GtkWidget *k = gtk_label_new(NULL);
        gtk_label_set_text(GTK_LABEL(k), spec->keys[i]);
        gtk_label_set_xalign(GTK_LABEL(k), 1);
        gtk_widget_set_valign(k, GTK_ALIGN_START);
        GtkWidget *v = gtk_label_new(NULL);
        gtk_label_set_text(GTK_LABEL(v), spec->values[i]);
        gtk_label_set_xalign(GTK_LABEL(v), 0);
        gtk_label_set_selectable(GTK_LABEL(v), TRUE);
        gtk_label_set_line_wrap(GTK_LABEL(v), TRUE);
        gtk_label_set_line_wrap_mode(GTK_LABEL(v), PANGO_WRAP_CHAR);
        gtk_label_set_max_width_chars(GTK_LABEL(v), 48);
        gtk_grid_attach(GTK_GRID(grid), k, 0, i, 1, 1);
        gtk_grid_attach(GTK_GRID(grid), v, 1, i, 1, 1);
    }
    if (spec->editable) {
        // The user may correct the destination, or supply it when the page left it out; Go decides
        // on what the user typed again before anything connects.
        GtkWidget *host = gtk_entry_new();
        gtk_entry_set_text(GTK_ENTRY(host), spec->edit_host ? spec->edit_host : "");
        gtk_entry_set_max_length(GTK_ENTRY(host), 253);
        gtk_entry_set_width_chars(GTK_ENTRY(host), 32);
        GtkWidget *port = gtk_entry_new();
        gtk_entry_set_text(GTK_ENTRY(port), spec->edit_port ? spec->edit_port : "");
        gtk_entry_set_max_length(GTK_ENTRY(port), 5);
        gtk_entry_set_width_chars(GTK_ENTRY(port), 6);
        gtk_entry_set_input_purpose(GTK_ENTRY(port), GTK_INPUT_PURPOSE_DIGITS);
        GtkWidget *hl = gtk_label_new_with_mnemonic("_Host");
        GtkWidget *pl = gtk_label_new_with_mnemonic("P_ort");
        gtk_label_set_mnemonic_widget(GTK_LABEL(hl), host);
        gtk_label_set_mnemonic_widget(GTK_LABEL(pl), port);
        gtk_label_set_xalign(GTK_LABEL(hl), 1);
        gtk_label_set_xalign(GTK_LABEL(pl), 1);
        gtk_widget_set_halign(port, GTK_ALIGN_START);
        gtk_grid_attach(GTK_GRID(grid), hl, 0, spec->n_rows, 1, 1);
        gtk_grid_attach(GTK_GRID(grid), host, 1, spec->n_rows, 1, 1);
        gtk_grid_attach(GTK_GRID(grid), pl, 0, spec->n_rows + 1, 1, 1);
        gtk_grid_attach(GTK_GRID(grid), port, 1, spec->n_rows + 1, 1, 1);
        g_object_set_data(G_OBJECT(d), "sk-host", host);
        g_object_set_data(G_OBJECT(d), "sk-port", port);
    }
    gtk_box_pack_start(GTK_BOX(box), grid, FALSE, FALSE, 0);
    if (spec->note != NULL && spec->note[0] != '\0') {
        GtkWidget *note = gtk_label_new(NULL);
        gtk_label_set_text(GTK_LABEL(note), spec->note);
        gtk_label_set_line_wrap(GTK_LABEL(note), TRUE);
        gtk_label_set_max_width_chars(GTK_LABEL(note), 60);
        gtk_label_set_xalign(GTK_LABEL(note), 0);
        gtk_box_pack_start(GTK_BOX(box), note, FALSE, FALSE, 0);
    }

    if (spec->remember_label != NULL && spec->remember_label[0] != '\0') {
        // Unchecked by default: remembering is a choice the user makes, never the page.
        GtkWidget *remember = gtk_check_button_new_with_mnemonic(spec->remember_label);
        gtk_box_pack_start(GTK_BOX(box), remember, FALSE, FALSE, 0);
        g_object_set_data(G_OBJECT(d), "sk-remember", remember);
    }

    GtkWidget *deny = gtk_dialog_add_button(GTK_DIALOG(d), spec->deny_label, GTK_RESPONSE_REJECT);
    GtkWidget *allow = gtk_dialog_add_button(GTK_DIALOG(d), spec->allow_label, GTK_RESPONSE_ACCEPT);
    gtk_widget_set_sensitive(allow, FALSE);
    gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_REJECT);
    gtk_widget_set_can_default(deny, TRUE);
    gtk_widget_grab_default(deny);

    g_hash_table_insert(dialogs, (gpointer)id, d);
    g_signal_connect(d, "response", G_CALLBACK(on_dialog_response), (gpointer)id);
    g_signal_connect(d, "destroy", G_CALLBACK(on_dialog_destroy), (gpointer)id);
    g_signal_connect(d, "focus-in-event", G_CALLBACK(focus_safe_button), deny);
    gtk_widget_show_all(d);
    gtk_widget_grab_focus(deny);
    gtk_window_present(GTK_WINDOW(d));


    arm_data *a = g_new0(arm_data, 1);
    a->id = id;
    a->allow = g_object_ref(allow);
    g_timeout_add(spec->arm_ms, arm_dialog, a);
}

// sk_dialog_cancel closes a dialog that is still open (the request timed out or went away); it is
// answered as a denial.
void sk_dialog_cancel(uintptr_t id) {
    if (dialogs == NULL) return;
    GtkWidget *d = g_hash_table_lookup(dialogs, (gpointer)id);
    if (d != NULL) gtk_dialog_response(GTK_DIALOG(d), GTK_RESPONSE_DELETE_EVENT);
}
