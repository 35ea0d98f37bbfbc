#ifndef SOCKETEER_GTK_LINUX_H
#define SOCKETEER_GTK_LINUX_H

#include <stdint.h>
#include <gtk/gtk.h>
#include <webkit2/webkit2.h>

typedef struct {
    const char *url;
    const char *allow_pattern;
    const char *api_js;
    const char *relay_js;
    const char *relay_world;
    const char *bridge_host;
    const char *bridge_pem;
    const char *cookie_path;
} sk_view_config;

typedef struct {
    const char *title;
    const char *heading;
    const char **keys;
    const char **values;
    int n_rows;
    const char *note;
    const char *deny_label;
    const char *allow_label;
    const char *remember_label; /* NULL or "": no "remember" checkbox */
    int editable;               /* show editable host and port fields */
    const char *edit_host;
    const char *edit_port;
    int arm_ms;
} sk_dialog_spec;

void sk_invoke(uintptr_t id);
int sk_display_available(void);
WebKitWebView *sk_find_view(void);
int sk_setup_view(WebKitWebView *view, uintptr_t handle, const sk_view_config *cfg);
void sk_set_title(WebKitWebView *view, const char *title);
int sk_allow_certificate(WebKitWebView *view, const void *der, int len, const char *host);
void sk_load_uri(WebKitWebView *view, const char *uri);
void sk_show_html(WebKitWebView *view, const char *html, const char *content_uri);
void sk_dialog_show(WebKitWebView *view, uintptr_t id, const sk_dialog_spec *spec);
void sk_dialog_cancel(uintptr_t id);

#endif
