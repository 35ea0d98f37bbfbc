package bindings

import (
	"strconv"
	"testing"
)

// TestInspectorListsAndCloses checks what the inspector sees of a real socket (destination, byte
// counts both ways) and that closing it from the inspector ends the OS connection and tells the page
// with a NetworkError.
func TestInspectorListsAndCloses(t *testing.T) {
	b := startBridge(t, Config{}, true)
	srv := startTCPServer(t, echo)
	c := b.connect(t)
	if got := b.m.Sockets(); len(got) != 0 {
		t.Fatalf("sockets before any open: %v", got)
	}
	c.openOK(t, 7, srv.port, nil)
	conn := srv.next(t)
	if err := c.send(OpData, 7, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if f := c.expect(t, 7, OpRecv); string(f.Payload) != "hello" {
		t.Fatalf("echo: %q", f.Payload)
	}
	var list []SocketInfo
	waitUntil(t, "the inspector counts both directions", func() bool {
		list = b.m.Sockets()
		return len(list) == 1 && list[0].BytesIn == 5 && list[0].BytesOut == 5
	})
	s := list[0]
	want := "127.0.0.1:" + strconv.Itoa(srv.port)
	if s.Destination != want || s.Remote != want || s.Protocol != "tcp" || s.Origin != testOrigin || s.TLS || s.Opened.IsZero() {
		t.Fatalf("inspected socket: %+v", s)
	}
	if b.m.CloseSocket(s.ID + 1000) {
		t.Fatal("closing an unknown socket reported success")
	}
	if !b.m.CloseSocket(s.ID) {
		t.Fatal("closing the listed socket failed")
	}
	if pe := c.expectError(t, 7); pe.Name != NetworkError {
		t.Fatalf("the page saw %+v", pe)
	}
	conn.waitEnded(t)
	if got := b.m.Sockets(); len(got) != 0 {
		t.Fatalf("sockets after closing: %v", got)
	}
	if b.m.CloseSocket(s.ID) {
		t.Fatal("a closed socket closed twice")
	}
}
