package e2e

import (
	"net"
	"net/http"

	"github.com/gorilla/websocket"
)

// wsRelay is the alternative users weigh Socketeer against: a websockify-style proxy that carries
// a page's WebSocket messages to a TCP server and the server's bytes back as messages. The
// benchmark page reaches it on its own origin, so the relay rows show what a plain WebSocket in the
// same web view achieves on the same machine, in the same run.
func wsRelay(dest string) http.Handler {
	up := websocket.Upgrader{ReadBufferSize: 64 << 10, WriteBufferSize: 64 << 10}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		conn, err := net.Dial("tcp", dest)
		if err != nil {
			return
		}
		defer conn.Close()
		go func() {
			// Server → page: whatever one read returns leaves as one message.
			buf := make([]byte, 64<<10)
			for {
				n, err := conn.Read(buf)
				if n > 0 && ws.WriteMessage(websocket.BinaryMessage, buf[:n]) != nil {
					return
				}
				if err != nil {
					ws.Close()
					return
				}
			}
		}()
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if _, err := conn.Write(msg); err != nil {
				return
			}
		}
	})
}
