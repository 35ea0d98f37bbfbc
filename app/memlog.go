package app

import (
	"context"
	"log/slog"
	"runtime"
	"time"

	"socketeer/bindings"
)

// logMemory logs the Go heap and the number of open sockets twice a second, at debug level only
// (SOCKETEER_LOG=debug): the benchmark harness reads it to report what sockets cost.
func logMemory(mgr *bindings.Manager) {
	if !alog.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	for range time.Tick(500 * time.Millisecond) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		alog.Debug("memory", "heapAlloc", ms.HeapAlloc, "sockets", mgr.OpenSockets())
	}
}
