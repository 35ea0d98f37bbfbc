//go:build linux && cgo

package app

import "socketeer/bindings"

// siteControl answers the requests a site process gets on its control socket: another start of the
// same profile asks it to show its window, and the launcher's inspector lists and closes sockets.
func siteControl(mgr *bindings.Manager) func(controlRequest) controlResponse {
	return func(r controlRequest) controlResponse {
		switch r.Op {
		case "focus":
			presentMainWindow()
			return controlResponse{}
		case "sockets":
			return controlResponse{Sockets: mgr.Sockets()}
		case "close":
			return controlResponse{Closed: mgr.CloseSocket(r.Socket)}
		}
		return controlResponse{Error: "unknown request"}
	}
}
