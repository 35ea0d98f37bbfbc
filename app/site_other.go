//go:build !linux || !cgo

package app

import "errors"

// runSite needs WebKitGTK; other platforms get the shell's command line only, for now, and say so
// (on Windows also at start, see platform_windows.go).
func runSite(*Profile, siteURL) error {
	return errors.New("site windows and the socket bridge need Linux (WebKitGTK) in this version of Socketeer")
}
