package bindings

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
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

	// MaxFrame is the largest frame Go accepts from a page; the WebSocket read limit is set to it.
	MaxFrame = headerLen + MaxChunk

	// ReadWindow is the number of bytes Go may send for one socket before the page returns credit.
	// The page grants it implicitly at open; it matches the readable stream's high-water mark, so a
	// page that stops reading stops Go reading the OS socket, and TCP then stops the remote sender.
	ReadWindow = 1 << 20
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
	OpStartTLS     Op = 0x10 // payload: uint32, the new id the upgraded socket takes (see tls.go)
)

// Go to page.
const (
	OpOpened      Op = 0x81 // payload: JSON OpenedInfo
	OpRecv        Op = 0x82 // payload: bytes received from the remote end
	OpEOF         Op = 0x83 // the remote end finished sending
	OpError       Op = 0x84 // payload: JSON PageError; the socket is gone
	OpWriteCredit Op = 0x85 // payload: uint32, more bytes the page may send
	OpClosed      Op = 0x86 // the socket closed cleanly in both directions
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
	if r.Kind != "tcp" {
		return OpenRequest{}, inputErrorf("unsupported socket kind")
	}
	// An open without an address (the explainer allows it) leaves the destination to the user; the
	// port may then be left out too. An address that is present must not be empty: that is a bad
	// argument, not a request to ask.
	var presence struct {
		RemoteAddress *string `json:"remoteAddress"`
	}
	if json.Unmarshal(payload, &presence) == nil && presence.RemoteAddress != nil && *presence.RemoteAddress == "" {
		return OpenRequest{}, inputErrorf("remoteAddress must not be empty")
	}
	portOptional := r.RemoteAddress == "" && r.RemotePort == 0
	if !portOptional && (r.RemotePort != math.Trunc(r.RemotePort) || r.RemotePort < 1 || r.RemotePort > 65535) {
		return OpenRequest{}, inputErrorf("remotePort must be an integer from 1 to 65535")
	}
	if r.KeepAliveDelay != nil {
		if *r.KeepAliveDelay < 1000 {
			return OpenRequest{}, inputErrorf("keepAliveDelay must be at least 1000 ms")
		}
		// Linux takes at most 32767 s of keep-alive idle time; a larger value would also
		// overflow a time.Duration.
		*r.KeepAliveDelay = min(*r.KeepAliveDelay, maxKeepAliveDelay)
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
	switch r.DNSQueryType {
	case "", "ipv4", "ipv6":
	default:
		return OpenRequest{}, inputErrorf("dnsQueryType must be \"ipv4\" or \"ipv6\"")
	}
	if err := checkTLSOptions(&r); err != nil {
		return OpenRequest{}, err
	}
	return r, nil
}

// OpenedInfo is what `opened` resolves to, apart from the streams: the addresses the operating
// system reports, never the name the page asked for.
type OpenedInfo struct {
	RemoteAddress string `json:"remoteAddress"`
	RemotePort    int    `json:"remotePort"`
	LocalAddress  string `json:"localAddress"`
	LocalPort     int    `json:"localPort"`
	// TLS describes the session of a TLS socket; it is absent on plaintext sockets.
	TLS *TLSInfo `json:"tls,omitempty"`
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
