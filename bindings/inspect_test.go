package bindings

import (
	"encoding/json"
	"net/netip"
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

// TestInspectorUDPAndServers lists bound and connected UDP sockets with their datagram bytes (not
// the bridge's peer headers), and a server socket with the connection it accepted.
func TestInspectorUDPAndServers(t *testing.T) {
	b := startBridge(t, Config{}, true)
	c := b.connect(t)
	bound, _ := c.openOK(t, 1, 0, boundOnLoopback)
	c.openOK(t, 2, bound.LocalPort, map[string]any{"kind": "udp"})
	if err := c.send(OpData, 2, datagramFrame(netip.AddrPort{}, []byte("hello"))); err != nil {
		t.Fatal(err)
	}
	c.expect(t, 1, OpRecv)
	boundAt := "127.0.0.1:" + strconv.Itoa(bound.LocalPort)
	waitUntil(t, "the inspector counts the datagram", func() bool {
		got := map[string]SocketInfo{}
		for _, s := range b.m.Sockets() {
			got[s.Destination] = s
		}
		in, out := got["bound to "+boundAt], got[boundAt]
		return len(got) == 2 && in.Protocol == "udp" && in.BytesIn == 5 && out.Protocol == "udp" && out.BytesOut == 5 && out.Remote == boundAt
	})

	if err := c.open(3, 0, map[string]any{"kind": "tcp-server", "remoteAddress": nil, "remotePort": nil, "localAddress": "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	var srv OpenedInfo
	json.Unmarshal(c.expect(t, 3, OpOpened).Payload, &srv)
	client, _ := c.openOK(t, 4, srv.LocalPort, nil)
	c.expect(t, 3, OpAccepted)
	listening := "listening on 127.0.0.1:" + strconv.Itoa(srv.LocalPort)
	accepted := "127.0.0.1:" + strconv.Itoa(client.LocalPort)
	waitUntil(t, "the inspector lists the server and both ends", func() bool {
		got := map[string]bool{}
		for _, s := range b.m.Sockets() {
			got[s.Destination] = true
		}
		return len(got) == 5 && got[listening] && got[accepted] && got["127.0.0.1:"+strconv.Itoa(srv.LocalPort)]
	})
}
