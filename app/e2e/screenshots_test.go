package e2e

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestLauncherScreenshots makes the README's pictures of the launcher (its list and permissions
// page, the socket inspector, and adding a site) from real runs of the app. It runs only when
// SOCKETEER_SCREENSHOTS names a folder to write them to.
func TestLauncherScreenshots(t *testing.T) {
	out := os.Getenv("SOCKETEER_SCREENSHOTS")
	if out == "" {
		t.Skip("set SOCKETEER_SCREENSHOTS to a folder to make the README's screenshots")
	}
	echo, _ := StartEchoServer(t)
	lab := screenSite(t, "Lab console", color.NRGBA{R: 0x1f, G: 0x9d, B: 0x8a, A: 255}, echo.Port)
	printer := screenSite(t, "Printer admin", color.NRGBA{R: 0xe0, G: 0x7a, B: 0x1f, A: 255}, 0)
	weather := screenSite(t, "Weather station", color.NRGBA{R: 0x6a, G: 0x4c, B: 0xd6, A: 255}, 0)
	dirs := NewAppDirs(t)
	d := StartXvfb(t)
	l := startWithPolicy(t, d, dirs, map[string]string{"policy.json": fmt.Sprintf(`{
  "preGrants": [{"origins": [%q], "hosts": ["plc.corp.example"], "ports": ["502"]}],
  "blockDestinations": [{"cidrs": ["10.66.0.0/16"]}]
}`, lab.Origin)})
	l.WaitLog(t, reShown("list", 1), pageTimeout)
	win := d.WaitWindow(t, "^Socketeer$", pageTimeout)
	addSite(t, d, l, win, printer)
	addSite(t, d, l, win, lab)

	// Open the lab console, let it connect (remembering the destination) and echo some bytes.
	mark := l.Mark()
	d.Key(t, win, "Return")
	l.WaitLogAfter(t, mark, regexp.MustCompile(`msg="page loaded"`), pageTimeout)
	clickSite(t, d, 40, 40)
	l.WaitLogAfter(t, mark, reDialogArmed, dialogTimeout)
	dialog := d.WaitWindow(t, "^Socketeer: connection request$", dialogTimeout)
	d.Key(t, dialog, "alt+r")
	d.Key(t, dialog, "alt+a")
	lab.WaitResult(t, resultTimeout)

	// Back in the launcher: moving down and up again shows the new grant.
	d.run("xdotool", "windowraise", win)
	mark = l.Mark()
	d.Key(t, win, "Down", "Up")
	l.WaitLogAfter(t, mark, reShown("permissions", 1), pageTimeout)
	// The "Opening…" note has gone.
	l.WaitLogAfter(t, mark, reShown("status", 0), pageTimeout)
	shoot(t, d, win, filepath.Join(out, "launcher-permissions.png"))

	mark = l.Mark()
	d.Key(t, win, "Tab", "Tab", "Tab", "Tab", "Tab", "Right")
	l.WaitLogAfter(t, mark, reShown("activity", 1), pageTimeout)
	shoot(t, d, win, filepath.Join(out, "launcher-connections.png"))

	mark = l.Mark()
	d.Key(t, win, "ctrl+n")
	l.WaitLogAfter(t, mark, reShown("add-form", 0), pageTimeout)
	d.Type(t, win, weather.URL+"/")
	d.Key(t, win, "Return")
	l.WaitLogAfter(t, mark, reShown("add-preview", 0), pageTimeout)
	shoot(t, d, win, filepath.Join(out, "launcher-add.png"))
}

// screenSite serves a site for the screenshots with a manifest naming it and an icon of its own;
// with an echo port, it runs the page that connects there.
func screenSite(t *testing.T, name string, c color.NRGBA, echoPort int) *SiteServer {
	t.Helper()
	files := map[string]string{"/index.html": `<!doctype html><html><head><meta charset="utf-8"><title>` + name +
		`</title><link rel="manifest" href="app.webmanifest"></head><body><h1>` + name + `</h1></body></html>`}
	if echoPort != 0 {
		files = testdataFiles(t, "screens")
		files["/port.json"] = strconv.Itoa(echoPort)
	}
	files["/app.webmanifest"] = `{"name": "` + name + `", "icons": [{"src": "/icon.png", "sizes": "192x192", "type": "image/png"}]}`
	files["/icon.png"] = string(screenIcon(t, c))
	return StartSite(t, files, strictCSP)
}

// screenIcon draws a rounded square in c with a white ring, antialiased.
func screenIcon(t *testing.T, c color.NRGBA) []byte {
	t.Helper()
	const n = 192
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			// Distance outside a rounded square of radius 36.
			qx := math.Max(math.Abs(fx-n/2)-(n/2-36), 0)
			qy := math.Max(math.Abs(fy-n/2)-(n/2-36), 0)
			outside := math.Hypot(qx, qy) - 36
			a := math.Max(0, math.Min(1, 0.5-outside))
			if a == 0 {
				continue
			}
			r := math.Hypot(fx-n/2, fy-n/2)
			ring := math.Max(0, math.Min(1, 6.5-math.Abs(r-44)))
			shade := 1 - 0.18*fy/n
			px := color.NRGBA{
				R: uint8(float64(c.R)*shade*(1-ring) + 255*ring),
				G: uint8(float64(c.G)*shade*(1-ring) + 255*ring),
				B: uint8(float64(c.B)*shade*(1-ring) + 255*ring),
				A: uint8(255 * a),
			}
			img.SetNRGBA(x, y, px)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// shoot saves one window as a PNG.
func shoot(t *testing.T, d *Display, win, path string) {
	t.Helper()
	d.run("xdotool", "windowraise", win)
	if _, _, err := d.run("import", "-window", win, path); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	t.Logf("screenshot %s", path)
}
