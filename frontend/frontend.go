// Package frontend is the launcher's user interface: plain HTML, CSS and JavaScript (no build step,
// no remote content), embedded in the binary and shown by the launcher's Wails window. icon.png is
// the app icon (build/appicon.svg) at 256 pixels, for the page.
package frontend

import "embed"

// Dist holds the files under dist/.
//
//go:embed dist
var Dist embed.FS
