package bindings

import "testing"

// BenchmarkBridgeEchoTLS is BenchmarkBridgeEcho over TLS: the same 64 KiB chunks through the bridge
// to an echo server, with Go's TLS client (verified against the test CA) between the bridge and
// the server. Set next to BenchmarkBridgeEcho, it is what TLS costs on the data path.
func BenchmarkBridgeEchoTLS(b *testing.B) {
	br := startBridge(b, Config{}, true)
	srv := startTLSServer(b, validLeaf(b, "127.0.0.1"), nil, tlsEcho)
	c := br.connect(b)
	_, credit := c.openOK(b, 1, srv.port, openTLS(nil))
	benchEcho(b, &streamer{c: c, id: 1, pattern: randomBytes(MaxChunk, 5), credit: credit})
}
