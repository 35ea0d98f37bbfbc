package bindings

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net/netip"
	"testing"
)

func FuzzParseFrame(f *testing.F) {
	// The seeds cover every op in a valid shape and the boundaries of each payload rule, so the
	// mutator starts next to every branch of the parser.
	f.Add(frameBytes(0x01, 1, []byte(`{"kind":"tcp","remoteAddress":"h","remotePort":7}`)))
	f.Add(frameBytes(0x02, 2, []byte{0}))
	f.Add(frameBytes(0x02, 2, make([]byte, MaxChunk)))
	f.Add(frameBytes(0x02, 2, make([]byte, MaxChunk+1)))
	f.Add(frameBytes(0x03, 3, nil))
	f.Add(frameBytes(0x04, 4, nil))
	f.Add(frameBytes(0x05, 5, []byte{0, 0, 1, 0}))
	f.Add(frameBytes(0x06, 6, nil))
	f.Add(frameBytes(0x10, 6, []byte{0, 0, 0, 7}))
	f.Add(frameBytes(0x82, 7, []byte{1}))
	f.Add(frameBytes(0x04, 0, nil))
	f.Add([]byte{0x04, 0, 0})
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, in []byte) {
		fr, err := ParseFrame(in)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v does not wrap ErrProtocol", err)
			}
			return
		}
		// An accepted frame is exactly what the encoder would have produced for it: nothing in the
		// input is ignored or reinterpreted.
		if out := AppendFrame(nil, fr.Op, fr.ID, fr.Payload); !bytes.Equal(out, in) {
			t.Fatalf("AppendFrame(%#x, %d, %d bytes) = %x, want %x", byte(fr.Op), fr.ID, len(fr.Payload), head(out), head(in))
		}
		if fr.ID == 0 {
			t.Fatal("accepted socket id 0")
		}
		if len(in) > MaxFrame {
			t.Fatalf("accepted a %d-byte frame, larger than MaxFrame", len(in))
		}
		n := len(fr.Payload)
		switch fr.Op {
		case OpOpen:
			if n > maxControl {
				t.Fatalf("accepted a %d-byte open request", n)
			}
		case OpData:
			if n < 1 || n > MaxChunk {
				t.Fatalf("accepted a %d-byte data frame", n)
			}
		case OpShutdown, OpClose, OpShutdownRead:
			if n != 0 {
				t.Fatalf("accepted op %#x with a payload", byte(fr.Op))
			}
		case OpReadCredit:
			if n != 4 {
				t.Fatalf("accepted a %d-byte credit frame", n)
			}
		case OpStartTLS:
			if n != 4 || binary.BigEndian.Uint32(fr.Payload) == 0 {
				t.Fatalf("accepted a startTls frame with a %d-byte payload", n)
			}
		default:
			t.Fatalf("accepted unknown op %#x", byte(fr.Op))
		}
	})
}

func FuzzDecodeOpen(f *testing.F) {
	for _, s := range []string{
		`{"kind":"tcp","remoteAddress":"example.com","remotePort":7}`,
		`{"kind":"tcp","remoteAddress":"::1","remotePort":65535,"noDelay":true,"keepAlive":true,` +
			`"keepAliveDelay":1000,"sendBufferSize":1,"receiveBufferSize":33554433,"dnsQueryType":"ipv6"}`,
		`{"kind":"tcp","remoteAddress":"h","remotePort":1.5}`,
		`{"kind":"tcp","remoteAddress":"h","remotePort":0}`,
		`{"kind":"tcp","remoteAddress":"h","remotePort":7,"keepAliveDelay":999}`,
		`{"kind":"tcp","remoteAddress":"h","remotePort":7,"sendBufferSize":0}`,
		`{"kind":"tcp","remoteAddress":"h","remotePort":7,"dnsQueryType":"any"}`,
		`{"kind":"tcp","remoteAddress":"h","remotePort":7} {}`,
		"{\"kind\":\"tcp\",\"remoteAddress\":\"h\",\"remotePort\":7}\n",
		`{"kind":"udp","remoteAddress":"h","remotePort":7}`,
		`{"kind":"tcp","remotePort":7}`,
		`null`,
		``,
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := DecodeOpen(in)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T %v is not an *InputError", err, err)
			}
			return
		}
		// Success must imply every rule Go enforces on behalf of the page API, checked here
		// independently of how DecodeOpen arrives at them.
		if !json.Valid(in) {
			t.Fatalf("accepted %q, which is not exactly one JSON value", in)
		}
		switch r.Kind {
		case KindTCP, KindUDP, KindTCPServer:
		default:
			t.Fatalf("accepted kind %q", r.Kind)
		}
		if r.LocalAddress != nil {
			// A serving socket: a literal local address, an explicit port never 0, no remote end.
			if a, err := netip.ParseAddr(*r.LocalAddress); err != nil || a.Zone() != "" {
				t.Fatalf("accepted localAddress %q", *r.LocalAddress)
			}
			if r.LocalPort != nil && (*r.LocalPort < 1 || *r.LocalPort > 65535 || *r.LocalPort != math.Trunc(*r.LocalPort)) {
				t.Fatalf("accepted localPort %v", *r.LocalPort)
			}
			if r.RemoteAddress != "" || r.RemotePort != 0 {
				t.Fatalf("accepted a serving socket with a remote end: %s", describeOpen(r))
			}
			return
		}
		if r.Kind == KindTCPServer {
			t.Fatalf("accepted a server socket without localAddress")
		}
		// Without an address the user chooses the destination, and the port may be left out (0);
		// only TCP sockets may ask that.
		if r.RemoteAddress == "" && r.RemotePort == 0 {
			if r.Kind != KindTCP {
				t.Fatalf("accepted %s without a destination", r.Kind)
			}
			return
		}
		if r.RemotePort < 1 || r.RemotePort > 65535 || r.RemotePort != math.Trunc(r.RemotePort) {
			t.Fatalf("accepted remotePort %v", r.RemotePort)
		}
		if p := uint16(r.RemotePort); float64(p) != r.RemotePort {
			t.Fatalf("remotePort %v does not survive conversion to a port number", r.RemotePort)
		}
		if r.KeepAliveDelay != nil && *r.KeepAliveDelay < 1000 {
			t.Fatalf("accepted keepAliveDelay %d", *r.KeepAliveDelay)
		}
		for _, size := range []*uint64{r.SendBufferSize, r.ReceiveBufferSize} {
			if size != nil && (*size == 0 || *size > maxBufferSize) {
				t.Fatalf("accepted buffer size %d", *size)
			}
		}
		switch r.DNSQueryType {
		case "", "ipv4", "ipv6":
		default:
			t.Fatalf("accepted dnsQueryType %q", r.DNSQueryType)
		}
		// Decoding is deterministic: the same bytes give the same request.
		r2, err := DecodeOpen(in)
		if err != nil || !sameOpen(r, r2) {
			t.Fatalf("second decode differs: %s vs %s (%v)", describeOpen(r), describeOpen(r2), err)
		}
	})
}

// FuzzParsePeer feeds arbitrary datagram frames to the peer-header parser: it must never panic, and
// what it accepts must be a valid address and port (or none) whose header re-encodes to the input.
func FuzzParsePeer(f *testing.F) {
	for _, s := range []string{"\x00\x00\x00hi", "\x09127.0.0.1\x00\x35q", "\x03::1\xff\xff", "\x02", "", "\x05zzzzz\x00\x01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		peer, data, err := parsePeer(in)
		if err != nil {
			return
		}
		if !peer.IsValid() {
			if len(in) < 3 || in[0] != 0 || string(data) != string(in[3:]) {
				t.Fatalf("accepted %q as a connected datagram", in)
			}
			return
		}
		if peer.Port() == 0 || peer.Addr().Zone() != "" || peer.Addr().Is4In6() {
			t.Fatalf("accepted peer %v from %q", peer, in)
		}
		if want := len(in) - len(data); want < 4 {
			t.Fatalf("header of %d bytes", want)
		}
	})
}
