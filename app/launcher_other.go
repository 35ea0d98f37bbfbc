//go:build !linux || !cgo

package app

import "errors"

// runLauncher needs WebKitGTK, like site windows.
func runLauncher() error {
	return errors.New("the launcher needs Linux (WebKitGTK) in this version of Socketeer; see 'socketeer help'")
}
