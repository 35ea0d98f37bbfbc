package bindings

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// frameBytes builds a raw frame by hand rather than with AppendFrame, so that the parser tests do not
// depend on the encoder they are meant to cross-check.
func frameBytes(op byte, id uint32, payload []byte) []byte {
	b := make([]byte, 5, 5+len(payload))
	b[0] = op
	binary.BigEndian.PutUint32(b[1:5], id)
	return append(b, payload...)
}

func TestParseFrame(t *testing.T) {
	openJSON := []byte(`{"kind":"tcp","remoteAddress":"127.0.0.1","remotePort":7}`)
	type tc struct {
		name string
		in   []byte
		ok   bool
		want Frame
	}
	cases := []tc{
		// Every page-to-Go op in its valid shape.
		{"open", frameBytes(0x01, 1, openJSON), true, Frame{OpOpen, 1, openJSON}},
		// ParseFrame checks framing only; an empty open request is DecodeOpen's to refuse.
		{"open empty payload", frameBytes(0x01, 2, nil), true, Frame{OpOpen, 2, []byte{}}},
		{"open at control limit", frameBytes(0x01, 3, bytes.Repeat([]byte{' '}, maxControl)), true,
			Frame{OpOpen, 3, bytes.Repeat([]byte{' '}, maxControl)}},
		{"data one byte", frameBytes(0x02, 4, []byte{9}), true, Frame{OpData, 4, []byte{9}}},
		{"data max chunk", frameBytes(0x02, 5, make([]byte, MaxChunk)), true, Frame{OpData, 5, make([]byte, MaxChunk)}},
		{"shutdown", frameBytes(0x03, 6, nil), true, Frame{OpShutdown, 6, []byte{}}},
		{"close", frameBytes(0x04, 7, nil), true, Frame{OpClose, 7, []byte{}}},
		{"read credit", frameBytes(0x05, 8, []byte{0, 1, 0, 0}), true, Frame{OpReadCredit, 8, []byte{0, 1, 0, 0}}},
		// A zero grant is pointless but harmless, so the framing layer lets it through.
		{"read credit zero", frameBytes(0x05, 8, []byte{0, 0, 0, 0}), true, Frame{OpReadCredit, 8, []byte{0, 0, 0, 0}}},
		{"shutdown read", frameBytes(0x06, 9, nil), true, Frame{OpShutdownRead, 9, []byte{}}},
		{"largest id", frameBytes(0x04, 0xffffffff, nil), true, Frame{OpClose, 0xffffffff, []byte{}}},
		{"start tls", frameBytes(0x10, 3, []byte{0, 0, 0, 4}), true, Frame{OpStartTLS, 3, []byte{0, 0, 0, 4}}},

		// Frames shorter than the header.
		{"empty", nil, false, Frame{}},
		{"one byte", []byte{0x04}, false, Frame{}},
		{"four bytes", []byte{0x04, 0, 0, 0}, false, Frame{}},

		// Socket id 0 is reserved for every op, including ones that are otherwise well formed.
		{"id 0 open", frameBytes(0x01, 0, openJSON), false, Frame{}},
		{"id 0 data", frameBytes(0x02, 0, []byte{1}), false, Frame{}},
		{"id 0 close", frameBytes(0x04, 0, nil), false, Frame{}},
		{"id 0 credit", frameBytes(0x05, 0, []byte{0, 0, 0, 1}), false, Frame{}},

		// Oversized payloads.
		{"open over control limit", frameBytes(0x01, 1, bytes.Repeat([]byte{' '}, maxControl+1)), false, Frame{}},
		{"data over max chunk", frameBytes(0x02, 1, make([]byte, MaxChunk+1)), false, Frame{}},
		{"data empty", frameBytes(0x02, 1, nil), false, Frame{}},
		{"credit short", frameBytes(0x05, 1, []byte{0, 0, 1}), false, Frame{}},
		{"credit long", frameBytes(0x05, 1, []byte{0, 0, 0, 0, 1}), false, Frame{}},
		{"credit empty", frameBytes(0x05, 1, nil), false, Frame{}},

		// Payloads on ops that carry none.
		{"shutdown with payload", frameBytes(0x03, 1, []byte{0}), false, Frame{}},
		{"close with payload", frameBytes(0x04, 1, []byte{0}), false, Frame{}},
		{"shutdown read with payload", frameBytes(0x06, 1, []byte{0}), false, Frame{}},

		// A STARTTLS upgrade names the new socket's id, which is never 0.
		{"start tls without new id", frameBytes(0x10, 1, nil), false, Frame{}},
		{"start tls new id 0", frameBytes(0x10, 1, []byte{0, 0, 0, 0}), false, Frame{}},
		{"start tls long", frameBytes(0x10, 1, []byte{0, 0, 0, 0, 2}), false, Frame{}},
	}
	// Unknown ops, including every Go-to-page op: a page must never be able to speak Go's half.
	for _, op := range []byte{0x00, 0x08, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0xff} {
		cases = append(cases, tc{"unknown op " + opHex(op), frameBytes(op, 1, nil), false, Frame{}})
		cases = append(cases, tc{"unknown op with payload " + opHex(op), frameBytes(op, 1, []byte{1, 2, 3, 4}), false, Frame{}})
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseFrame(c.in)
			if !c.ok {
				if err == nil {
					t.Fatalf("ParseFrame accepted %x as %+v", head(c.in), got)
				}
				if !errors.Is(err, ErrProtocol) {
					t.Fatalf("error %v does not wrap ErrProtocol", err)
				}
				if got.Op != 0 || got.ID != 0 || got.Payload != nil {
					t.Fatalf("a rejected frame still returned %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFrame: %v", err)
			}
			if got.Op != c.want.Op || got.ID != c.want.ID || !bytes.Equal(got.Payload, c.want.Payload) {
				t.Fatalf("got {%#x %d %d bytes}, want {%#x %d %d bytes}",
					byte(got.Op), got.ID, len(got.Payload), byte(c.want.Op), c.want.ID, len(c.want.Payload))
			}
			if !bytes.Equal(AppendFrame(nil, got.Op, got.ID, got.Payload), c.in) {
				t.Fatalf("AppendFrame does not reproduce the parsed frame")
			}
		})
	}
}

// opHex names an op in subtest names.
func opHex(o byte) string {
	const digits = "0123456789abcdef"
	return "0x" + string([]byte{digits[o>>4], digits[o&0xf]})
}

// head keeps failure messages readable when the input is a 64 KiB frame.
func head(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

func TestParseFramePayloadAliasesInput(t *testing.T) {
	// The serve loop relies on the payload aliasing the message buffer: queueWrite keeps it without a
	// copy, which is only safe because gorilla/websocket hands out a fresh buffer per message.
	in := frameBytes(0x02, 1, []byte{1, 2, 3})
	f, err := ParseFrame(in)
	if err != nil {
		t.Fatal(err)
	}
	in[5] = 42
	if f.Payload[0] != 42 {
		t.Fatal("payload is a copy, not an alias of the input")
	}
}

func TestAppendFrame(t *testing.T) {
	// Appending to a non-empty buffer must leave the existing bytes alone, since the read loop builds
	// frames in place after a header.
	dst := []byte("prefix")
	out := AppendFrame(dst, OpRecv, 0x01020304, []byte("abc"))
	want := append([]byte("prefix"), 0x82, 1, 2, 3, 4, 'a', 'b', 'c')
	if !bytes.Equal(out, want) {
		t.Fatalf("AppendFrame = %x, want %x", out, want)
	}
	if got := AppendFrame(nil, OpEOF, 7, nil); !bytes.Equal(got, []byte{0x83, 0, 0, 0, 7}) {
		t.Fatalf("AppendFrame without payload = %x", got)
	}
	if got := Uint32Payload(0xdeadbeef); !bytes.Equal(got, []byte{0xde, 0xad, 0xbe, 0xef}) {
		t.Fatalf("Uint32Payload = %x", got)
	}
}

func u64(v uint64) *uint64 { return &v }

func TestDecodeOpen(t *testing.T) {
	const base = `"kind":"tcp","remoteAddress":"example.com","remotePort":7`
	type tc struct {
		name string
		in   string
		ok   bool
		want OpenRequest // checked only when ok
	}
	minimal := OpenRequest{Kind: "tcp", RemoteAddress: "example.com", RemotePort: 7}
	with := func(mod func(*OpenRequest)) OpenRequest {
		r := minimal
		mod(&r)
		return r
	}
	cases := []tc{
		{"minimal", `{` + base + `}`, true, minimal},
		{"every field", `{"kind":"tcp","remoteAddress":"::1","remotePort":65535,"noDelay":true,"keepAlive":true,` +
			`"keepAliveDelay":1000,"sendBufferSize":1,"receiveBufferSize":4096,"dnsQueryType":"ipv6"}`, true,
			OpenRequest{Kind: "tcp", RemoteAddress: "::1", RemotePort: 65535, NoDelay: true, KeepAlive: true,
				KeepAliveDelay: u64(1000), SendBufferSize: u64(1), ReceiveBufferSize: u64(4096), DNSQueryType: "ipv6"}},
		{"surrounding whitespace", " \t\r\n{" + base + "}\n ", true, minimal},
		{"port 1", `{"kind":"tcp","remoteAddress":"h","remotePort":1}`, true,
			OpenRequest{Kind: "tcp", RemoteAddress: "h", RemotePort: 1}},
		{"port as exponent", `{"kind":"tcp","remoteAddress":"h","remotePort":8e1}`, true,
			OpenRequest{Kind: "tcp", RemoteAddress: "h", RemotePort: 80}},
		{"port 1.0", `{"kind":"tcp","remoteAddress":"h","remotePort":1.0}`, true,
			OpenRequest{Kind: "tcp", RemoteAddress: "h", RemotePort: 1}},
		{"nulls mean absent", `{` + base + `,"keepAliveDelay":null,"sendBufferSize":null,"receiveBufferSize":null}`, true, minimal},
		{"dnsQueryType ipv4", `{` + base + `,"dnsQueryType":"ipv4"}`, true, with(func(r *OpenRequest) { r.DNSQueryType = "ipv4" })},
		{"dnsQueryType empty", `{` + base + `,"dnsQueryType":""}`, true, minimal},
		{"keepAliveDelay 1000", `{` + base + `,"keepAliveDelay":1000}`, true,
			with(func(r *OpenRequest) { r.KeepAliveDelay = u64(1000) })},
		{"buffer exactly 32 MiB", `{` + base + `,"sendBufferSize":33554432}`, true,
			with(func(r *OpenRequest) { r.SendBufferSize = u64(32 << 20) })},
		{"send buffer clamped", `{` + base + `,"sendBufferSize":33554433}`, true,
			with(func(r *OpenRequest) { r.SendBufferSize = u64(32 << 20) })},
		{"receive buffer clamped", `{` + base + `,"receiveBufferSize":18446744073709551615}`, true,
			with(func(r *OpenRequest) { r.ReceiveBufferSize = u64(32 << 20) })},

		// Malformed JSON and trailing data.
		{"empty", ``, false, OpenRequest{}},
		{"whitespace only", ` `, false, OpenRequest{}},
		{"null", `null`, false, OpenRequest{}},
		{"array", `[]`, false, OpenRequest{}},
		{"string", `"tcp"`, false, OpenRequest{}},
		{"truncated", `{` + base, false, OpenRequest{}},
		{"unknown field", `{` + base + `,"localAddress":"0.0.0.0"}`, false, OpenRequest{}},
		{"unknown field only", `{"__proto__":{}}`, false, OpenRequest{}},
		{"second object", `{` + base + `} {}`, false, OpenRequest{}},
		{"trailing garbage", `{` + base + `}x`, false, OpenRequest{}},
		{"trailing number", `{` + base + `}1`, false, OpenRequest{}},
		// json.Decoder.More reports false before a closing bracket or brace, so these two are exactly
		// the trailing data that a More-based check lets through.
		{"trailing close brace", `{` + base + `}}`, false, OpenRequest{}},
		{"trailing close bracket", `{` + base + `}]`, false, OpenRequest{}},

		// Ports.
		{"port 0", `{"kind":"tcp","remoteAddress":"h","remotePort":0}`, false, OpenRequest{}},
		{"port 65536", `{"kind":"tcp","remoteAddress":"h","remotePort":65536}`, false, OpenRequest{}},
		{"port 1.5", `{"kind":"tcp","remoteAddress":"h","remotePort":1.5}`, false, OpenRequest{}},
		{"port -1", `{"kind":"tcp","remoteAddress":"h","remotePort":-1}`, false, OpenRequest{}},
		{"port tiny fraction", `{"kind":"tcp","remoteAddress":"h","remotePort":1e-300}`, false, OpenRequest{}},
		{"port huge", `{"kind":"tcp","remoteAddress":"h","remotePort":1e300}`, false, OpenRequest{}},
		{"port overflowing float64", `{"kind":"tcp","remoteAddress":"h","remotePort":1e400}`, false, OpenRequest{}},
		{"port as string", `{"kind":"tcp","remoteAddress":"h","remotePort":"80"}`, false, OpenRequest{}},
		{"port missing", `{"kind":"tcp","remoteAddress":"h"}`, false, OpenRequest{}},

		// Options.
		{"keepAliveDelay 999", `{` + base + `,"keepAliveDelay":999}`, false, OpenRequest{}},
		{"keepAliveDelay 0", `{` + base + `,"keepAliveDelay":0}`, false, OpenRequest{}},
		{"keepAliveDelay negative", `{` + base + `,"keepAliveDelay":-1000}`, false, OpenRequest{}},
		{"keepAliveDelay fraction", `{` + base + `,"keepAliveDelay":1000.5}`, false, OpenRequest{}},
		{"send buffer 0", `{` + base + `,"sendBufferSize":0}`, false, OpenRequest{}},
		{"receive buffer 0", `{` + base + `,"receiveBufferSize":0}`, false, OpenRequest{}},
		{"buffer negative", `{` + base + `,"sendBufferSize":-1}`, false, OpenRequest{}},
		{"noDelay not bool", `{` + base + `,"noDelay":1}`, false, OpenRequest{}},
		{"dnsQueryType bad", `{` + base + `,"dnsQueryType":"any"}`, false, OpenRequest{}},
		{"dnsQueryType case", `{` + base + `,"dnsQueryType":"IPV4"}`, false, OpenRequest{}},
		{"dnsQueryType not string", `{` + base + `,"dnsQueryType":4}`, false, OpenRequest{}},

		// Destination and kind.
		// Without an address the user chooses the destination in the dialog (the explainer allows it).
		{"remoteAddress missing: the user chooses", `{"kind":"tcp","remotePort":7}`, true, OpenRequest{Kind: "tcp", RemotePort: 7}},
		{"remoteAddress empty", `{"kind":"tcp","remoteAddress":"","remotePort":7}`, false, OpenRequest{}},
		{"no address and no port: the user chooses both", `{"kind":"tcp"}`, true, OpenRequest{Kind: "tcp"}},
		{"no address and port 0 given", `{"kind":"tcp","remotePort":0}`, true, OpenRequest{Kind: "tcp"}},
		{"remoteAddress not string", `{"kind":"tcp","remoteAddress":127,"remotePort":7}`, false, OpenRequest{}},
		{"kind missing", `{"remoteAddress":"h","remotePort":7}`, false, OpenRequest{}},
		{"udp connected", `{"kind":"udp","remoteAddress":"h","remotePort":7,"dnsQueryType":"ipv6"}`, true, OpenRequest{Kind: "udp", RemoteAddress: "h", RemotePort: 7, DNSQueryType: "ipv6"}},
		{"udp bound, the system chooses the port", `{"kind":"udp","localAddress":"::","ipv6Only":true}`, true, OpenRequest{Kind: "udp", LocalAddress: ptr("::"), IPv6Only: ptr(true)}},
		{"udp bound with multicast options", `{"kind":"udp","localAddress":"0.0.0.0","localPort":5353,"multicastTimeToLive":4,"multicastLoopback":false,"multicastAllowAddressSharing":true}`, true,
			OpenRequest{Kind: "udp", LocalAddress: ptr("0.0.0.0"), LocalPort: ptr(5353.0), MulticastTimeToLive: ptr(4.0), MulticastLoopback: ptr(false), MulticastAllowAddressSharing: ptr(true)}},
		{"server, backlog capped", `{"kind":"tcp-server","localAddress":"127.0.0.1","localPort":40000,"backlog":100000}`, true, OpenRequest{Kind: "tcp-server", LocalAddress: ptr("127.0.0.1"), LocalPort: ptr(40000.0), Backlog: ptr(4096.0)}},
		{"kind in other case", `{"kind":"udp","KIND":"tcp","localAddress":"127.0.0.1"}`, false, OpenRequest{}},
		{"udp both modes", `{"kind":"udp","remoteAddress":"h","remotePort":7,"localAddress":"127.0.0.1"}`, false, OpenRequest{}},
		{"udp neither mode", `{"kind":"udp"}`, false, OpenRequest{}},
		{"udp remotePort alone", `{"kind":"udp","remotePort":7}`, false, OpenRequest{}},
		{"udp localPort alone", `{"kind":"udp","localPort":7000}`, false, OpenRequest{}},
		{"udp local name", `{"kind":"udp","localAddress":"localhost"}`, false, OpenRequest{}},
		{"udp local zone", `{"kind":"udp","localAddress":"fe80::1%eth0"}`, false, OpenRequest{}},
		{"udp local port 0", `{"kind":"udp","localAddress":"127.0.0.1","localPort":0}`, false, OpenRequest{}},
		{"udp local port 65536", `{"kind":"udp","localAddress":"127.0.0.1","localPort":65536}`, false, OpenRequest{}},
		{"udp local port -1", `{"kind":"udp","localAddress":"127.0.0.1","localPort":-1}`, false, OpenRequest{}},
		{"udp ipv6Only on v4", `{"kind":"udp","localAddress":"0.0.0.0","ipv6Only":true}`, false, OpenRequest{}},
		{"udp dnsQueryType in bound mode", `{"kind":"udp","localAddress":"127.0.0.1","dnsQueryType":"ipv4"}`, false, OpenRequest{}},
		{"udp multicast in connected mode", `{"kind":"udp","remoteAddress":"h","remotePort":7,"multicastLoopback":true}`, false, OpenRequest{}},
		{"udp ttl 256", `{"kind":"udp","localAddress":"0.0.0.0","multicastTimeToLive":256}`, false, OpenRequest{}},
		{"udp noDelay", `{"kind":"udp","remoteAddress":"h","remotePort":7,"noDelay":true}`, false, OpenRequest{}},
		{"server without address", `{"kind":"tcp-server"}`, false, OpenRequest{}},
		{"server with remote", `{"kind":"tcp-server","localAddress":"127.0.0.1","remoteAddress":"h"}`, false, OpenRequest{}},
		{"server backlog 0", `{"kind":"tcp-server","localAddress":"127.0.0.1","backlog":0}`, false, OpenRequest{}},
		{"tcp with localAddress", `{"kind":"tcp","remoteAddress":"h","remotePort":7,"localAddress":"127.0.0.1"}`, false, OpenRequest{}},
		{"kind sctp", `{"kind":"sctp","remoteAddress":"h","remotePort":7}`, false, OpenRequest{}},
		{"kind upper case", `{"kind":"TCP","remoteAddress":"h","remotePort":7}`, false, OpenRequest{}},
		{"kind listen", `{"kind":"tcp-listen","remoteAddress":"h","remotePort":7}`, false, OpenRequest{}},
		{"kind overridden by duplicate", `{` + base + `,"kind":"udp"}`, false, OpenRequest{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeOpen([]byte(c.in))
			if !c.ok {
				if err == nil {
					t.Fatalf("DecodeOpen(%s) accepted %+v", c.in, got)
				}
				// Every refusal must reach the page as a TypeError with a fixed message, never as
				// a Go error chain.
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Fatalf("error %T %v is not an *InputError", err, err)
				}
				if pe := pageErrorOf(err); pe.Name != TypeError || pe.Message != ie.Msg {
					t.Fatalf("pageErrorOf = %+v", pe)
				}
				if strings.Contains(ie.Msg, "json") {
					t.Fatalf("message leaks decoder details: %q", ie.Msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeOpen(%s): %v", c.in, err)
			}
			if !sameOpen(got, c.want) {
				t.Fatalf("DecodeOpen(%s)\n got %s\nwant %s", c.in, describeOpen(got), describeOpen(c.want))
			}
		})
	}
}

func sameOpen(a, b OpenRequest) bool { return reflect.DeepEqual(a, b) }

func describeOpen(r OpenRequest) string {
	b, _ := json.Marshal(r)
	return string(b)
}

func ptr[T any](v T) *T { return &v }

// TestSplitBatch: a page's batch message is cut into its frames, and anything malformed is a
// protocol violation (threat: a forged batch smuggling a frame past its size limit or hiding a
// truncated one).
func TestSplitBatch(t *testing.T) {
	frame := func(op Op, id uint32, payload string) []byte { return AppendFrame(nil, op, id, []byte(payload)) }
	batch := func(frames ...[]byte) []byte {
		b := AppendFrame(nil, OpBatchIn, 0, nil)
		for _, f := range frames {
			b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
			b = append(b, f...)
		}
		return b
	}
	a, c := frame(OpData, 1, "hello"), frame(OpClose, 1, "")
	got, err := SplitBatch(batch(a, c))
	if err != nil || len(got) != 2 || string(got[0]) != string(a) || string(got[1]) != string(c) {
		t.Fatalf("SplitBatch = %q, %v", got, err)
	}
	bad := map[string][]byte{
		"one frame":          batch(a),
		"no frames":          batch(),
		"id not 0":           append(AppendFrame(nil, OpBatchIn, 7, nil), batch(a, c)[headerLen:]...),
		"truncated length":   batch(a, c)[:len(batch(a, c))-2],
		"length beyond end":  append(batch(a), 0, 0, 0, 9, 1),
		"short length field": append(batch(a, c), 0, 0),
		"not a batch":        a,
	}
	for name, b := range bad {
		if _, err := SplitBatch(b); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestBatchFromPage: frames a page sends in one batch are handled in order, and a batch holding a
// batch is a protocol violation that drops the bridge connection.
func TestBatchFromPage(t *testing.T) {
	b := startBridge(t, Config{}, true)
	srv := startTCPServer(t, echo)
	c := b.connect(t)
	c.openOK(t, 1, srv.port, nil)
	msg := AppendFrame(nil, OpBatchIn, 0, nil)
	for _, f := range [][]byte{AppendFrame(nil, OpData, 1, []byte("ab")), AppendFrame(nil, OpData, 1, []byte("cd"))} {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f)))
		msg = append(msg, f...)
	}
	if err := c.sendRaw(websocket.BinaryMessage, msg); err != nil {
		t.Fatal(err)
	}
	got := ""
	for len(got) < 4 {
		got += string(c.expect(t, 1, OpRecv).Payload)
	}
	if got != "abcd" {
		t.Fatalf("echo of a batch: %q", got)
	}
	nested := AppendFrame(nil, OpBatchIn, 0, nil)
	for range 2 {
		nested = binary.BigEndian.AppendUint32(nested, uint32(len(msg)))
		nested = append(nested, msg...)
	}
	c.sendRaw(websocket.BinaryMessage, nested)
	if err := c.waitDropped(); err != nil {
		t.Fatal(err)
	}
}
