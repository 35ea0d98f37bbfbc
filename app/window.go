package app

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// windowState is a window's remembered size and position, kept in window.json beside the profile
// (or the launcher's settings), so a window comes back where the user left it.
type windowState struct {
	X         int  `json:"x"`
	Y         int  `json:"y"`
	Width     int  `json:"width"`
	Height    int  `json:"height"`
	Maximized bool `json:"maximized,omitempty"`
}

const windowStateName = "window.json"

// Bounds for a remembered size: a damaged or hand-edited file must not make a window vanish or
// swallow the screen.
const (
	minWindowSide = 200
	maxWindowSide = 16384
)

// loadWindowState reads dir's window.json; ok is false when there is none or it makes no sense.
func loadWindowState(dir string) (ws windowState, ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, windowStateName))
	if err != nil || json.Unmarshal(b, &ws) != nil {
		return windowState{}, false
	}
	if ws.Width < minWindowSide || ws.Height < minWindowSide || ws.Width > maxWindowSide || ws.Height > maxWindowSide {
		return windowState{}, false
	}
	return ws, true
}

func saveWindowState(dir string, ws windowState) error {
	b, _ := json.Marshal(ws)
	return writeFileAtomic(filepath.Join(dir, windowStateName), append(b, '\n'))
}

// launcherWMClass is the launcher's window class, which Socketeer's own menu entry names.
const launcherWMClass = "socketeer"
