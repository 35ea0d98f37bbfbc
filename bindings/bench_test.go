package bindings

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
)

// These are the Go side's data-path micro-benchmarks: a real WebSocket client standing in for the
// relay, the real Server and Manager, and a real TCP echo server on 127.0.0.1. They measure what Go
// adds (TLS, WebSocket framing, credit bookkeeping, one extra socket hop), not what a web view adds on
// top. The Native benchmarks talk to the same echo server directly, as the floor to compare against.

// benchSocket opens one bridge socket to a fresh echo server and returns a streamer for it.
func benchSocket(b *testing.B, patternLen int, extra map[string]any) *streamer {
	b.Helper()
	br := startBridge(b, Config{}, true)
	echoSrv := startTCPServer(b, echo)
	c := br.connect(b)
	_, credit := c.openOK(b, 1, echoSrv.port, extra)
	return &streamer{c: c, id: 1, pattern: randomBytes(patternLen, 5), credit: credit}
}

// BenchmarkBridgeEcho streams 64 KiB chunks page → Go → echo → Go → page, pipelined within the
// credit Go grants, and reports the echoed throughput.
func BenchmarkBridgeEcho(b *testing.B) {
	benchEcho(b, benchSocket(b, MaxChunk, nil))
}

// benchEcho streams through s for the benchmark's b.N chunks of MaxChunk bytes.
func benchEcho(b *testing.B, s *streamer) {
	// The write window starts small and doubles while the page uses all of it; a few MiB first
	// measure the steady state of a busy socket rather than its ramp-up.
	if err := s.run(4 << 20); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(MaxChunk)
	b.ResetTimer()
	if err := s.run(int64(b.N) * MaxChunk); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkBridgeRoundTrip sends 64 bytes and waits for their echo before sending the next 64, so
// one operation is one round trip through the bridge and the echo server.
func BenchmarkBridgeRoundTrip(b *testing.B) {
	s := benchSocket(b, 64, map[string]any{"noDelay": true})
	for b.Loop() {
		if err := s.run(64); err != nil {
			b.Fatal(err)
		}
	}
}

// nativeConn dials a fresh echo server directly.
func nativeConn(b *testing.B) net.Conn {
	b.Helper()
	echoSrv := startTCPServer(b, echo)
	conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(echoSrv.port)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return conn
}

// BenchmarkNativeEcho is BenchmarkBridgeEcho without the bridge: the same chunks, the same echo
// server, the same check of every echoed byte.
func BenchmarkNativeEcho(b *testing.B) {
	conn := nativeConn(b)
	chunk := randomBytes(MaxChunk, 5)
	b.SetBytes(MaxChunk)
	b.ResetTimer()
	total := int64(b.N) * MaxChunk
	werr := make(chan error, 1)
	go func() {
		for i := 0; i < b.N; i++ {
			if _, err := conn.Write(chunk); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	buf := make([]byte, MaxChunk)
	for got := int64(0); got < total; {
		n, err := conn.Read(buf[:min(int64(len(buf)), total-got)])
		if err != nil {
			b.Fatal(err)
		}
		if err := checkEcho(chunk, got, buf[:n]); err != nil {
			b.Fatal(err)
		}
		got += int64(n)
	}
	if err := <-werr; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkNativeRoundTrip is BenchmarkBridgeRoundTrip without the bridge.
func BenchmarkNativeRoundTrip(b *testing.B) {
	conn := nativeConn(b)
	msg := randomBytes(64, 5)
	buf := make([]byte, 64)
	for b.Loop() {
		if _, err := conn.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(conn, buf); err != nil {
			b.Fatal(err)
		}
		if string(buf) != string(msg) {
			b.Fatal(errors.New("the echo differs from what was sent"))
		}
	}
}

// checkEcho compares bytes read at stream offset at with the repeating pattern.
func checkEcho(pattern []byte, at int64, p []byte) error {
	for len(p) > 0 {
		off := at % int64(len(pattern))
		want := pattern[off:min(int64(len(pattern)), off+int64(len(p)))]
		if string(p[:len(want)]) != string(want) {
			return fmt.Errorf("echoed bytes differ from what was sent, in the chunk at offset %d", at)
		}
		p = p[len(want):]
		at += int64(len(want))
	}
	return nil
}

// BenchmarkBridgeOpen opens a socket to an allowed destination and waits for OpOpened, then closes it
// and waits for OpClosed: one operation is what W4 of the app benchmark times, without the web view.
func BenchmarkBridgeOpen(b *testing.B) {
	br := startBridge(b, Config{}, true)
	echoSrv := startTCPServer(b, echo)
	c := br.connect(b)
	id := uint32(0)
	for b.Loop() {
		id++
		c.openOK(b, id, echoSrv.port, nil)
		if err := c.send(OpClose, id, nil); err != nil {
			b.Fatal(err)
		}
		c.expect(b, id, OpClosed)
	}
}
