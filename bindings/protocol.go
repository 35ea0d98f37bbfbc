package bindings

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"reflect"
	"strings"
)

// The bridge protocol is what the isolated-world relay script and Go exchange over the loopback
// WebSocket. Every message is one binary WebSocket message holding one frame:
//
//	op (1 byte) | socket id (4 bytes, big endian) | payload
//
// Binary frames were chosen over JSON text for everything because socket data is the hot path: a
// frame header costs five bytes and no encoding, while base64 or JSON arrays would cost a copy and a
// third more bytes at best. Control payloads (open options, addresses, errors) are small JSON objects.
const (
	headerLen = 5

	// MaxChunk is the largest data payload either side sends in one frame. The page script splits
	// larger writes; Go reads at most this much from the OS socket at a time.
	MaxChunk = 64 << 10

	// maxControl bounds a JSON control payload, so a hostile page cannot make Go parse megabytes.
	maxControl = 4 << 10

	// MaxFrame is the largest frame Go accepts from a page, alone or in a batch (see MaxBatch).
	MaxFrame = headerLen + MaxChunk

	// ReadWindow is the number of bytes Go may send for one socket before the page returns credit.
	// The page grants it implicitly at open; it matches the readable stream's high-water mark, so a
	// page that stops reading stops Go reading the OS socket, and TCP then stops the remote sender.
	// Like the write window, it is sized for the web view's millisecond credit cycle.
	ReadWindow = 4 << 20
)

// Op identifies a frame type. Values below 0x80 travel from the page to Go, the others back.
type Op byte

// Page to Go.
const (
	OpOpen         Op = 0x01 // payload: JSON OpenRequest; the id is chosen by the page and must be new
	OpData         Op = 0x02 // payload: bytes to send, within the write credit Go granted
	OpShutdown     Op = 0x03 // half-close: no more data from the page (writable closed or aborted)
	OpClose        Op = 0x04 // close both directions now
	OpReadCredit   Op = 0x05 // payload: uint32, bytes the page has consumed and will accept again
	OpShutdownRead Op = 0x06 // the page cancelled the readable: stop reading
	OpControl      Op = 0x07 // payload: JSON ControlRequest (multicast group membership)
	OpStartTLS     Op = 0x10 // payload: uint32, the new id the upgraded socket takes (see tls.go)
	OpBatchIn      Op = 0x0F // id 0; payload: frames, each as its length (4 bytes, big endian) and itself
)

// MaxBatch is the largest batch message a page may send: the relay sends frames written in the same
// task together, up to about this size.
const MaxBatch = 1 << 20

// SplitBatch cuts a page's batch message into its frames, each still to be checked by ParseFrame.
func SplitBatch(b []byte) ([][]byte, error) {
	if len(b) < headerLen || Op(b[0]) != OpBatchIn || binary.BigEndian.Uint32(b[1:headerLen]) != 0 {
		return nil, fmt.Errorf("%w: malformed batch header", ErrProtocol)
	}
	var frames [][]byte
	for p := b[headerLen:]; len(p) > 0; {
		if len(p) < 4 || uint64(binary.BigEndian.Uint32(p)) > uint64(len(p)-4) {
			return nil, fmt.Errorf("%w: truncated batch", ErrProtocol)
		}
		n := int(binary.BigEndian.Uint32(p))
		frames = append(frames, p[4:4+n])
		p = p[4+n:]
	}
	if len(frames) < 2 {
		return nil, fmt.Errorf("%w: a batch of %d frames", ErrProtocol, len(frames))
	}
	return frames, nil
}

// Go to page.
const (
	OpOpened      Op = 0x81 // payload: JSON OpenedInfo
	OpRecv        Op = 0x82 // payload: bytes received from the remote end
	OpEOF         Op = 0x83 // the remote end finished sending
	OpError       Op = 0x84 // payload: JSON PageError; the socket is gone
	OpWriteCredit Op = 0x85 // payload: uint32, more bytes the page may send
	OpClosed      Op = 0x86 // the socket closed cleanly in both directions
	OpAccepted    Op = 0x87 // payload: JSON AcceptedInfo; a server socket accepted a connection
	OpReply       Op = 0x88 // payload: JSON ControlReply, the answer to one OpControl
	OpBatch       Op = 0x8F // id 0; payload: frames, each as its length (4 bytes, big endian) and itself
)

// FirstAcceptedID is the first socket id Go gives to connections a server socket accepts. Pages
// choose ids below it for the sockets they open, so the two can never collide.
const FirstAcceptedID = 1 << 31

// Socket kinds of an open request.
const (
	KindTCP       = "tcp"
	KindUDP       = "udp"
	KindTCPServer = "tcp-server"
)

// Frame is one decoded bridge message. Payload aliases the buffer it was parsed from.
type Frame struct {
	Op      Op
	ID      uint32
	Payload []byte
}

// ErrProtocol marks a frame that no honest relay script would send. Go drops the whole bridge
// connection on it, because a page that forges frames has nothing left to be trusted with.
var ErrProtocol = errors.New("bridge protocol violation")

// ParseFrame decodes a frame from the page. It checks only the framing; the meaning of the payload is
// checked by the handler of each op.
func ParseFrame(b []byte) (Frame, error) {
	if len(b) < headerLen {
		return Frame{}, fmt.Errorf("%w: frame of %d bytes is shorter than its header", ErrProtocol, len(b))
	}
	f := Frame{Op: Op(b[0]), ID: binary.BigEndian.Uint32(b[1:5]), Payload: b[headerLen:]}
	if f.ID == 0 {
		return Frame{}, fmt.Errorf("%w: socket id 0", ErrProtocol)
	}
	switch f.Op {
	case OpOpen:
		if len(f.Payload) > maxControl {
			return Frame{}, fmt.Errorf("%w: open request of %d bytes", ErrProtocol, len(f.Payload))
		}
		if f.ID >= FirstAcceptedID {
			return Frame{}, fmt.Errorf("%w: page chose socket id %d, which is Go's to give", ErrProtocol, f.ID)
		}
	case OpControl:
		if len(f.Payload) == 0 || len(f.Payload) > maxControl {
			return Frame{}, fmt.Errorf("%w: control request of %d bytes", ErrProtocol, len(f.Payload))
		}
	case OpData:
		if len(f.Payload) == 0 || len(f.Payload) > MaxChunk {
			return Frame{}, fmt.Errorf("%w: data frame of %d bytes", ErrProtocol, len(f.Payload))
		}
	case OpShutdown, OpClose, OpShutdownRead:
		if len(f.Payload) != 0 {
			return Frame{}, fmt.Errorf("%w: op %#x carries a payload", ErrProtocol, byte(f.Op))
		}
	case OpReadCredit:
		if len(f.Payload) != 4 {
			return Frame{}, fmt.Errorf("%w: credit frame of %d bytes", ErrProtocol, len(f.Payload))
		}
	case OpStartTLS:
		if len(f.Payload) != 4 || binary.BigEndian.Uint32(f.Payload) == 0 {
			return Frame{}, fmt.Errorf("%w: startTls frame without a new socket id", ErrProtocol)
		}
		if binary.BigEndian.Uint32(f.Payload) >= FirstAcceptedID {
			return Frame{}, fmt.Errorf("%w: startTls to socket id %d, which is Go's to give", ErrProtocol, binary.BigEndian.Uint32(f.Payload))
		}
	default:
		return Frame{}, fmt.Errorf("%w: unknown op %#x", ErrProtocol, byte(f.Op))
	}
	return f, nil
}

// AppendFrame encodes a frame onto dst.
func AppendFrame(dst []byte, op Op, id uint32, payload []byte) []byte {
	dst = append(dst, byte(op), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(dst[len(dst)-4:], id)
	return append(dst, payload...)
}

// Uint32Payload encodes a credit amount.
func Uint32Payload(n uint32) []byte {
	return binary.BigEndian.AppendUint32(nil, n)
}

// OpenRequest is what a page asks for when it opens a socket. Field names follow the page API.
// Pointer fields tell "absent" from "zero", which the API's validation rules depend on.
type OpenRequest struct {
	Kind              string  `json:"kind"`
	RemoteAddress     string  `json:"remoteAddress"`
	RemotePort        float64 `json:"remotePort"`
	NoDelay           bool    `json:"noDelay"`
	KeepAlive         bool    `json:"keepAlive"`
	KeepAliveDelay    *uint64 `json:"keepAliveDelay"`
	SendBufferSize    *uint64 `json:"sendBufferSize"`
	ReceiveBufferSize *uint64 `json:"receiveBufferSize"`
	DNSQueryType      string  `json:"dnsQueryType"`
	// SecureTransport, SNI and ALPN ask for TLS; see tls.go.
	SecureTransport string   `json:"secureTransport"`
	SNI             string   `json:"sni"`
	ALPN            []string `json:"alpn"`
	// Serving sockets: bound UDP and TCP servers.
	LocalAddress *string  `json:"localAddress"`
	LocalPort    *float64 `json:"localPort"`
	Backlog      *float64 `json:"backlog"`
	IPv6Only     *bool    `json:"ipv6Only"`
	// Multicast, on bound UDP sockets only.
	MulticastTimeToLive          *float64 `json:"multicastTimeToLive"`
	MulticastLoopback            *bool    `json:"multicastLoopback"`
	MulticastAllowAddressSharing *bool    `json:"multicastAllowAddressSharing"`
	// Activation is set by the relay, never by the page: the number of the trusted input event
	// the request came with, 0 when there was none.
	Activation uint64 `json:"activation"`
}

// maxKeepAliveDelay is the longest keep-alive idle time the kernel accepts, in milliseconds.
const maxKeepAliveDelay = 32767 * 1000

// maxBufferSize caps the socket buffer sizes a page may ask for (Chrome clamped to the same value).
const maxBufferSize = 32 << 20

// InputError is a bad argument from the page; the page sees it as a TypeError.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(format string, a ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, a...)}
}

// DecodeOpen parses and validates an open request. The page script validates the same rules first so
// that errors are thrown where the page expects them, but Go cannot trust that script: the page can
// forge relay events, so every rule is enforced again here.
func DecodeOpen(payload []byte) (OpenRequest, error) {
	var r OpenRequest
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return OpenRequest{}, inputErrorf("malformed open request")
	}
	// Exactly one JSON value: More() would miss a stray '}' or ']' after it.
	if _, err := dec.Token(); err != io.EOF {
		return OpenRequest{}, inputErrorf("malformed open request")
	}
	// What the page passed, by name: the rules below depend on which options are present.
	given, err := objectKeys(payload)
	if err != nil {
		return OpenRequest{}, err
	}
	switch r.Kind {
	case KindTCP:
		err = checkOptions(given, "TCPSocket", serverOnly, localOptions, multicastOptions)
		if err == nil {
			err = validateRemote(&r, given)
		}
		if err == nil {
			err = checkTLSOptions(&r)
		}
	case KindUDP:
		err = validateUDP(&r, given)
	case KindTCPServer:
		err = checkOptions(given, "TCPServerSocket", remoteOptions, tcpOnly, bufferOptions, multicastOptions)
		if err == nil {
			err = validateLocal(&r, "TCPServerSocket")
		}
		if err == nil && r.Backlog != nil {
			b := *r.Backlog
			if b != math.Trunc(b) || b < 1 || b > math.MaxUint32 {
				err = inputErrorf("backlog must be an integer from 1 to 4294967295")
			}
			// Larger backlogs are capped by the kernel (net.core.somaxconn) anyway.
			*r.Backlog = min(b, maxBacklog)
		}
	default:
		return OpenRequest{}, inputErrorf("unsupported socket kind")
	}
	if err != nil {
		return OpenRequest{}, err
	}
	for _, size := range []*uint64{r.SendBufferSize, r.ReceiveBufferSize} {
		if size == nil {
			continue
		}
		if *size == 0 {
			return OpenRequest{}, inputErrorf("buffer sizes must be greater than 0")
		}
		if *size > maxBufferSize {
			*size = maxBufferSize
		}
	}
	return r, nil
}

// openKeys are the member names of an open request, spelled exactly.
var openKeys = func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeOf(OpenRequest{})
	for i := 0; i < t.NumField(); i++ {
		keys[strings.Split(t.Field(i).Tag.Get("json"), ",")[0]] = true
	}
	return keys
}()

// objectKeys returns the members of a JSON object by name. A name given twice is refused (threat:
// parser confusion: the relay and Go must never disagree about which of two "kind"s counts).
func objectKeys(payload []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, inputErrorf("malformed open request")
	}
	given := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		name, ok := t.(string)
		if err != nil || !ok {
			return nil, inputErrorf("malformed open request")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, inputErrorf("malformed open request")
		}
		if _, dup := given[name]; dup {
			return nil, inputErrorf("option %s is given twice", name)
		}
		// encoding/json matches names case-insensitively; the rules here must see exactly the
		// names the struct was filled from.
		if !openKeys[name] {
			return nil, inputErrorf("unknown option %s", name)
		}
		given[name] = v
	}
	return given, nil
}

// maxBacklog is the listen backlog Socketeer asks for at most.
const maxBacklog = 4096

// Option names that belong to only some kinds of socket.
var (
	remoteOptions    = []string{"remoteAddress", "remotePort", "dnsQueryType"}
	localOptions     = []string{"localAddress", "localPort", "ipv6Only"}
	tcpOnly          = []string{"noDelay", "keepAlive", "keepAliveDelay", "secureTransport", "sni", "alpn"}
	serverOnly       = []string{"backlog"}
	bufferOptions    = []string{"sendBufferSize", "receiveBufferSize"}
	multicastOptions = []string{"multicastTimeToLive", "multicastLoopback", "multicastAllowAddressSharing"}
)

// checkOptions refuses options that the socket kind does not have. Accepting and ignoring them
// would let a page believe it got behaviour (a local port, a multicast TTL) that it did not.
func checkOptions(given map[string]json.RawMessage, api string, groups ...[]string) error {
	for _, g := range groups {
		for _, k := range g {
			if v, ok := given[k]; ok && string(v) != "null" {
				return inputErrorf("%s is not an option of %s", k, api)
			}
		}
	}
	return nil
}

// validateUDP applies the UDPSocket rules: connected mode names a remote address and port, bound
// mode a local address; never both, never neither.
func validateUDP(r *OpenRequest, given map[string]json.RawMessage) error {
	if err := checkOptions(given, "UDPSocket", tcpOnly, serverOnly); err != nil {
		return err
	}
	_, hasRemotePort := given["remotePort"]
	switch {
	case r.RemoteAddress != "" && r.LocalAddress != nil:
		return inputErrorf("a UDPSocket takes either remoteAddress (connected mode) or localAddress (bound mode), not both")
	case r.RemoteAddress != "":
		if err := checkOptions(given, "a connected UDPSocket", localOptions, multicastOptions); err != nil {
			return err
		}
		if !hasRemotePort {
			return inputErrorf("remotePort is required with remoteAddress")
		}
		return validateRemote(r, given)
	case r.LocalAddress != nil:
		if err := checkOptions(given, "a bound UDPSocket", remoteOptions); err != nil {
			return err
		}
		if err := validateLocal(r, "UDPSocket"); err != nil {
			return err
		}
		if r.MulticastTimeToLive != nil {
			ttl := *r.MulticastTimeToLive
			if ttl != math.Trunc(ttl) || ttl < 0 || ttl > 255 {
				return inputErrorf("multicastTimeToLive must be an integer from 0 to 255")
			}
		}
		return nil
	case hasRemotePort:
		return inputErrorf("remoteAddress is required with remotePort")
	}
	return inputErrorf("a UDPSocket needs remoteAddress and remotePort (connected mode) or localAddress (bound mode)")
}

// validateLocal checks the local address and port of a serving socket.
func validateLocal(r *OpenRequest, api string) error {
	if r.LocalAddress == nil {
		return inputErrorf("%s needs a localAddress", api)
	}
	// Threat: binding where DNS decides. The local address must be an IP literal, so the
	// interface a page listens on never depends on a name lookup; zones are refused like
	// everywhere else in Socketeer.
	a, err := netip.ParseAddr(*r.LocalAddress)
	if err != nil || a.Zone() != "" {
		return inputErrorf("localAddress must be an IP address")
	}
	if r.LocalPort != nil {
		p := *r.LocalPort
		// Port 0 is refused as the spec says: "any port" is asked for by leaving localPort out.
		if p != math.Trunc(p) || p < 1 || p > 65535 {
			return inputErrorf("localPort must be an integer from 1 to 65535; leave it out to let the system choose")
		}
	}
	if r.IPv6Only != nil && a != netip.IPv6Unspecified() {
		return inputErrorf("ipv6Only may be set only when localAddress is \"::\"")
	}
	return nil
}

// validateRemote checks a connection's remote address and port and its TCP options.
func validateRemote(r *OpenRequest, given map[string]json.RawMessage) error {
	// An open without an address (the explainer allows it) leaves the destination to the user; the
	// port may then be left out too. An address that is present must not be empty: that is a bad
	// argument, not a request to ask.
	if v, ok := given["remoteAddress"]; ok && string(v) != "null" && r.RemoteAddress == "" {
		return inputErrorf("remoteAddress must not be empty")
	}
	portOptional := r.RemoteAddress == "" && r.RemotePort == 0
	if !portOptional && (r.RemotePort != math.Trunc(r.RemotePort) || r.RemotePort < 1 || r.RemotePort > 65535) {
		return inputErrorf("remotePort must be an integer from 1 to 65535")
	}
	if r.KeepAliveDelay != nil {
		if *r.KeepAliveDelay < 1000 {
			return inputErrorf("keepAliveDelay must be at least 1000 ms")
		}
		// Linux takes at most 32767 s of keep-alive idle time; a larger value would also
		// overflow a time.Duration.
		*r.KeepAliveDelay = min(*r.KeepAliveDelay, maxKeepAliveDelay)
	}
	switch r.DNSQueryType {
	case "", "ipv4", "ipv6":
	default:
		return inputErrorf("dnsQueryType must be \"ipv4\" or \"ipv6\"")
	}
	return nil
}

// OpenedInfo is what `opened` resolves to, apart from the streams: the addresses the operating
// system reports, never the name the page asked for. A bound UDP socket and a server socket have
// no remote end.
type OpenedInfo struct {
	RemoteAddress string `json:"remoteAddress,omitempty"`
	RemotePort    int    `json:"remotePort,omitempty"`
	LocalAddress  string `json:"localAddress"`
	LocalPort     int    `json:"localPort"`
	// TLS describes the session of a TLS socket; it is absent on plaintext sockets.
	TLS *TLSInfo `json:"tls,omitempty"`
}

// AcceptedInfo announces a connection a server socket accepted, under the socket id Go chose.
type AcceptedInfo struct {
	ID uint32 `json:"id"`
	OpenedInfo
}

// ControlRequest changes a bound UDP socket's multicast group membership. Seq pairs it with its
// ControlReply.
type ControlRequest struct {
	Seq    uint32 `json:"seq"`
	Op     string `json:"op"` // "join" or "leave"
	Group  string `json:"group"`
	Source string `json:"source,omitempty"`
}

// ControlReply answers a ControlRequest; Error is nil when the change was made.
type ControlReply struct {
	Seq   uint32     `json:"seq"`
	Error *PageError `json:"error,omitempty"`
}

// Datagram addressing. In bound mode each datagram, both ways, starts with its peer's address:
//
//	address length (1 byte) | address as text | port (2 bytes, big endian) | data
//
// Text keeps the page script free of IPv6 parsing; Go parses it strictly (netip.ParseAddr).
const maxPeerHeader = 1 + len("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255") + 2

// MaxDatagram is the largest datagram a page may send: what fits one data frame with the largest
// peer header. (IPv4 itself carries at most 65507 bytes; larger sends there fail and are counted.)
const MaxDatagram = MaxChunk - maxPeerHeader

// maxDatagramIn is the largest datagram the kernel can deliver.
const maxDatagramIn = 65535

// parsePeer splits a datagram frame into its peer (invalid for a connected socket's) and data.
func parsePeer(p []byte) (netip.AddrPort, []byte, error) {
	if len(p) < 1 || int(p[0]) > len(p)-3 {
		return netip.AddrPort{}, nil, inputErrorf("malformed datagram")
	}
	n := int(p[0])
	if n == 0 {
		// A connected socket's datagram: no peer, and so no port either.
		if p[1] != 0 || p[2] != 0 {
			return netip.AddrPort{}, nil, inputErrorf("malformed datagram")
		}
		return netip.AddrPort{}, p[3:], nil
	}
	a, err := netip.ParseAddr(string(p[1 : 1+n]))
	if err != nil || a.Zone() != "" {
		return netip.AddrPort{}, nil, inputErrorf("remoteAddress of a datagram must be an IP address")
	}
	port := binary.BigEndian.Uint16(p[1+n : 3+n])
	if port == 0 {
		return netip.AddrPort{}, nil, inputErrorf("remotePort of a datagram must be from 1 to 65535")
	}
	return netip.AddrPortFrom(a.Unmap(), port), p[3+n:], nil
}

// putPeer writes a peer header so that it ends exactly at end, and returns where it starts; false
// when the address does not fit a header.
func putPeer(buf []byte, end int, peer netip.AddrPort) (int, bool) {
	text := peer.Addr().Unmap().String()
	if len(text) > maxPeerHeader-3 {
		// Only an address with a zone is longer; it cannot be written, and never out of bounds.
		return 0, false
	}
	start := end - 3 - len(text)
	buf[start] = byte(len(text))
	copy(buf[start+1:], text)
	binary.BigEndian.PutUint16(buf[end-2:end], peer.Port())
	return start, true
}

// PageError is the only shape in which a failure reaches the page: a DOMException name and a stable,
// user-safe message. Internal details (paths, Go error chains) stay in the log.
type PageError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

func (e *PageError) Error() string { return e.Name + ": " + e.Message }

// DOM error names used on the page.
const (
	TypeError          = "TypeError"
	NotAllowedError    = "NotAllowedError"
	NetworkError       = "NetworkError"
	QuotaExceededError = "QuotaExceededError"
	InvalidStateError  = "InvalidStateError"
)
