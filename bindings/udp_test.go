package bindings

import (
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"testing"
)

// datagramFrame is a page's OpData payload for one datagram (see putPeer).
func datagramFrame(peer netip.AddrPort, data []byte) []byte {
	text := ""
	var port uint16
	if peer.IsValid() {
		text, port = peer.Addr().String(), peer.Port()
	}
	b := append([]byte{byte(len(text))}, text...)
	b = binary.BigEndian.AppendUint16(b, port)
	return append(b, data...)
}

// TestUDPConnectedToBound sends datagrams from a connected socket to a bound one through the bridge;
// the bound socket sees the sender's address and echoes to it without a new prompt.
func TestUDPConnectedToBound(t *testing.T) {
	b := startBridge(t, Config{}, true)
	c := b.connect(t)
	bound, _ := c.openOK(t, 1, 0, map[string]any{"kind": "udp", "remoteAddress": nil, "remotePort": nil, "localAddress": "127.0.0.1"})
	if bound.RemoteAddress != "" || bound.LocalAddress != "127.0.0.1" || bound.LocalPort == 0 {
		t.Fatalf("bound opened = %+v", bound)
	}
	conn, _ := c.openOK(t, 2, bound.LocalPort, map[string]any{"kind": "udp"})
	if conn.RemotePort != bound.LocalPort {
		t.Fatalf("connected opened = %+v", conn)
	}
	prompts := b.prompter.calls()
	for i := range 20 {
		msg := []byte{byte(i), 1, 2, 3}
		if err := c.send(OpData, 2, datagramFrame(netip.AddrPort{}, msg)); err != nil {
			t.Fatal(err)
		}
		f := c.expect(t, 1, OpRecv)
		peer, data, err := parsePeer(f.Payload)
		if err != nil || string(data) != string(msg) || peer.Addr().String() != "127.0.0.1" || int(peer.Port()) != conn.LocalPort {
			t.Fatalf("bound socket got %v %q %v", peer, data, err)
		}
		if err := c.send(OpData, 1, datagramFrame(peer, data)); err != nil {
			t.Fatal(err)
		}
		f = c.expect(t, 2, OpRecv)
		if peer, data, err := parsePeer(f.Payload); err != nil || peer.IsValid() || string(data) != string(msg) {
			t.Fatalf("connected socket got %v %q %v", peer, data, err)
		}
	}
	if n := b.prompter.calls(); n != prompts {
		t.Errorf("replying to a peer that wrote first asked the user %d times", n-prompts)
	}
	// A connected socket's datagram with a peer is refused; so is a bound socket's without one.
	c.send(OpData, 2, datagramFrame(netip.MustParseAddrPort("127.0.0.1:9"), []byte("x")))
	if pe := c.expectError(t, 2); pe.Name != TypeError {
		t.Errorf("connected datagram with a peer: %+v", pe)
	}
	c.send(OpData, 1, datagramFrame(netip.AddrPort{}, []byte("x")))
	if pe := c.expectError(t, 1); pe.Name != TypeError {
		t.Errorf("bound datagram without a peer: %+v", pe)
	}
}

// TestServerSocketAccepts opens a server socket and a client to it through the bridge.
func TestServerSocketAccepts(t *testing.T) {
	b := startBridge(t, Config{}, true)
	c := b.connect(t)
	if err := c.open(1, 0, map[string]any{"kind": "tcp-server", "remoteAddress": nil, "remotePort": nil, "localAddress": "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	f := c.expect(t, 1, OpOpened)
	var srv OpenedInfo
	json.Unmarshal(f.Payload, &srv)
	if b.prompter.last().Mode != "listen" || srv.LocalPort == 0 {
		t.Fatalf("server opened %+v after prompt %+v", srv, b.prompter.last())
	}
	client, _ := c.openOK(t, 2, srv.LocalPort, nil)
	f = c.expect(t, 1, OpAccepted)
	var acc AcceptedInfo
	if err := json.Unmarshal(f.Payload, &acc); err != nil || acc.ID < FirstAcceptedID || acc.RemotePort != client.LocalPort {
		t.Fatalf("accepted %+v (%v), client %+v", acc, err, client)
	}
	c.expect(t, acc.ID, OpWriteCredit)
	c.send(OpData, 2, []byte("ping"))
	if f := c.expect(t, acc.ID, OpRecv); string(f.Payload) != "ping" {
		t.Fatalf("server side got %q", f.Payload)
	}
	c.send(OpData, acc.ID, []byte("pong"))
	if f := c.expect(t, 2, OpRecv); string(f.Payload) != "pong" {
		t.Fatalf("client side got %q", f.Payload)
	}
	// A page may not open a socket under an id from Go's half: the bridge drops it.
	c.open(FirstAcceptedID+7, srv.LocalPort, nil)
	if err := c.waitDropped(); err != nil {
		t.Fatal(err)
	}
}
