#ifndef SOCKETEER_WINDOW_LINUX_H
#define SOCKETEER_WINDOW_LINUX_H

#include <stdint.h>
#include <gtk/gtk.h>

void sk_set_program_class(const char *name);
GtkWindow *sk_main_window(void);
void sk_track_geometry(GtkWindow *w, uintptr_t handle);
void sk_restore_geometry(GtkWindow *w, int x, int y, int width, int height, int maximized);
void sk_present(GtkWindow *w);
int sk_lock_launcher(const char *prefix);

#endif
