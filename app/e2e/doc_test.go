// Package e2e runs the real Socketeer desktop app under a private Xvfb
// server and drives it the way a user would, through xdotool.
//
// The tests live here rather than next to the app code because they treat
// the app as a black box: they build the production binary once (see
// Binary), start it with an isolated home and XDG directories, and observe
// it only through its log lines, its windows and the loopback servers the
// harness provides (an HTTPS site, see StartSite, and a TCP echo server, see
// StartEchoServer). Everything a test starts is killed, as a whole process
// group, in t.Cleanup, and every file it writes lives under t.TempDir, so
// tests can run side by side and leave nothing behind.
//
// Waiting is always on a condition (a log line, a window, a result posted by
// the page) with a deadline, never on a fixed sleep, because the time a
// WebKit window needs to appear varies a lot between a warm laptop and a
// loaded CI machine.
//
// Environment:
//
//   - SOCKETEER_BIN names an already built binary to test instead of building
//     one, which saves the build time when iterating.
//   - SOCKETEER_E2E=off skips the whole package, for machines without X tools;
//     otherwise missing Xvfb, xdotool, xwininfo or import fail the run loudly,
//     so a CI machine that lost a package cannot pass by skipping.
//   - SOCKETEER_E2E_ARTIFACTS names a directory where a failing test that
//     started an app leaves a screenshot of its display.
package e2e
