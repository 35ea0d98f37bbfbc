//go:build linux && cgo

package app

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/adrg/xdg"
	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/logger"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	wailsruntime "github.com/wailsapp/wails/v2/pkg/runtime"

	"socketeer/frontend"
)

// launcherStart is the address Wails serves the embedded launcher page at; the launcher's web view
// never leaves it.
const launcherStart = "wails://wails/"

// runLauncher shows the launcher window, or brings it to the front when it is open already.
func runLauncher() error {
	l := newLauncher()
	// The launcher's own web view keeps its storage apart from every profile's and from the
	// folders' top level (see runSite for why this is done through the environment); site
	// processes it starts get the user's environment back (Launcher.env).
	os.Setenv("XDG_DATA_HOME", filepath.Join(xdg.DataHome, "socketeer", "launcher"))
	os.Setenv("XDG_CACHE_HOME", filepath.Join(xdg.CacheHome, "socketeer", "launcher"))
	setWindowClass(launcherWMClass)
	if !displayAvailable() {
		return errNoDisplay
	}
	dir := launcherDir()
	inst, err := claimInstance(dir)
	if errors.Is(err, errAlreadyOpen) {
		alog.Info("the launcher is already open; its window was brought to the front")
		return nil
	}
	if err != nil {
		return err
	}
	defer inst.Close()
	inst.serve(func(r controlRequest) controlResponse {
		if r.Op == "focus" {
			presentMainWindow()
			return controlResponse{}
		}
		return controlResponse{Error: "unknown request"}
	})
	if err := offerDemo(dir); err != nil {
		alog.Warn("could not prepare the demo profile", "error", err)
	}
	setProgramClass(launcherWMClass)

	var appCtx atomic.Pointer[context.Context]
	l.pickFile = func() (string, error) {
		return wailsruntime.OpenFileDialog(*appCtx.Load(), wailsruntime.OpenDialogOptions{
			Title:   "Choose an icon",
			Filters: []wailsruntime.FileFilter{{DisplayName: "Images (PNG, JPEG, GIF)", Pattern: "*.png;*.jpg;*.jpeg;*.gif"}},
		})
	}
	assets, err := fs.Sub(frontend.Dist, "dist")
	if err != nil {
		return err
	}
	width, height := 1040, 700
	if ws, ok := loadWindowState(dir); ok {
		width, height = ws.Width, ws.Height
	}
	var tracker atomic.Pointer[windowTracker]
	return wails.Run(&options.App{
		Title:     "Socketeer",
		Width:     width,
		Height:    height,
		MinWidth:  640,
		MinHeight: 440,
		AssetServer: &assetserver.Options{
			Assets:     assets,
			Middleware: launcherHeaders,
		},
		Bind:     []any{l},
		LogLevel: logger.ERROR,
		Linux:    &linux.Options{ProgramName: launcherWMClass, Icon: AppIcon, WebviewGpuPolicy: linux.WebviewGpuPolicyNever},
		OnStartup: func(ctx context.Context) {
			appCtx.Store(&ctx)
			onGTK(func() {
				if !lockLauncherView(launcherStart) {
					alog.Error("could not take over the launcher's web view; closing")
					wailsruntime.Quit(ctx)
					return
				}
				tracker.Store(trackWindow(dir))
				alog.Info("launcher window ready")
			})
		},
		OnShutdown: func(context.Context) { tracker.Load().save() },
	})
}

// launcherDir holds the launcher's own state: its instance lock and window geometry.
func launcherDir() string { return filepath.Join(xdg.ConfigHome, "socketeer", "launcher") }

// launcherHeaders gives every launcher response a strict Content-Security-Policy: the launcher runs
// only its own embedded scripts and styles, shows images only from itself or data: URLs (the icons
// Go re-encoded), and loads nothing from anywhere else (threat: a site's name or icon, or a bug in
// the page, turning into script with access to the launcher's bindings).
func launcherHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", launcherCSP)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}
