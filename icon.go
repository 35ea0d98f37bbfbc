package main

import (
	_ "embed"

	"socketeer/app"
)

// appIcon is the icon Wails and the packages use (build/appicon.png, Wails' convention), embedded
// so that `socketeer package` can give a site package an icon without any file on the machine.
//
//go:embed build/appicon.png
var appIcon []byte

func init() { app.AppIcon = appIcon }
