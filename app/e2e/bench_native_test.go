package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The native side of the benchmark: the same workloads as testdata/bench/bench.js, with plain
// net.Dial and blocking reads and writes, timed the same way, against the same servers.

// benchSize is one run's workload sizes; the page gets the same as JSON.
type benchSize struct {
	Bulk      int `json:"bulk"`      // W1, W1u, W6: bytes each way
	Warm      int `json:"warm"`      // W2 warm-up exchanges
	Pings     int `json:"pings"`     // W2 measured exchanges
	Datagrams int `json:"datagrams"` // W3
	Opens     int `json:"opens"`     // W4
	Sockets   int `json:"sockets"`   // W5
}

func nativeBulk(addr string, bytes int, windowed bool) (float64, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	return bulkOver(c, bytes, windowed)
}

// nativeTLSBulk is W6: W1 over TLS, verified against roots.
func nativeTLSBulk(addr string, roots *x509.CertPool, bytes int) (float64, error) {
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		return 0, err
	}
	return bulkOver(c, bytes, true)
}

// bulkOver echoes bytes over c, in 64 KiB writes with one in flight (windowed) or pipelined.
func bulkOver(c net.Conn, bytes int, windowed bool) (float64, error) {
	defer c.Close()
	chunk := make([]byte, 64<<10)
	buf := make([]byte, 64<<10)
	t0 := time.Now()
	if windowed {
		for sent := 0; sent < bytes; sent += len(chunk) {
			if _, err := c.Write(chunk); err != nil {
				return 0, err
			}
			if _, err := io.ReadFull(c, buf); err != nil {
				return 0, err
			}
		}
	} else {
		errc := make(chan error, 1)
		go func() {
			for sent := 0; sent < bytes; sent += len(chunk) {
				if _, err := c.Write(chunk); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
		if _, err := io.CopyN(io.Discard, c, int64(bytes)); err != nil {
			return 0, err
		}
		if err := <-errc; err != nil {
			return 0, err
		}
	}
	return float64(bytes) / 1e6 / time.Since(t0).Seconds(), nil
}

// percentile of xs, taken the way the page takes it.
func percentile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func nativePingPong(addr string, warm, measured int) (map[string]float64, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	msg := make([]byte, 64)
	buf := make([]byte, 64)
	once := func() error {
		if _, err := c.Write(msg); err != nil {
			return err
		}
		_, err := io.ReadFull(c, buf)
		return err
	}
	for range warm {
		if err := once(); err != nil {
			return nil, err
		}
	}
	var means []float64
	for range measured / 20 {
		t0 := time.Now()
		for range 20 {
			if err := once(); err != nil {
				return nil, err
			}
		}
		means = append(means, float64(time.Since(t0).Microseconds())/20)
	}
	return map[string]float64{"p50": percentile(means, 0.5), "p99": percentile(means, 0.99)}, nil
}

func nativeUDPEcho(addr string, n int) (map[string]float64, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var mu sync.Mutex
	inFlight := map[uint32]bool{}
	progress := make(chan struct{}, 1)
	received := 0
	go func() {
		buf := make([]byte, 2048)
		for {
			k, err := c.Read(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			if k < 4 {
				continue
			}
			mu.Lock()
			if seq := binary.BigEndian.Uint32(buf); inFlight[seq] {
				delete(inFlight, seq)
				received++
			}
			mu.Unlock()
			select {
			case progress <- struct{}{}:
			default:
			}
		}
	}()
	lost, sent := 0, 0
	d := make([]byte, 1000)
	t0 := time.Now()
	for {
		mu.Lock()
		done := received+lost >= n
		for !done && sent < n && len(inFlight) < 32 {
			binary.BigEndian.PutUint32(d, uint32(sent))
			inFlight[uint32(sent)] = true
			sent++
			mu.Unlock()
			c.Write(d)
			mu.Lock()
		}
		before := received
		mu.Unlock()
		if done {
			break
		}
		select {
		case <-progress:
		case <-time.After(200 * time.Millisecond):
			// No echo for 200 ms since the last look: what is still in flight is lost.
			mu.Lock()
			if received == before && len(inFlight) > 0 {
				lost += len(inFlight)
				clear(inFlight)
			}
			mu.Unlock()
		}
	}
	secs := time.Since(t0).Seconds()
	mu.Lock()
	defer mu.Unlock()
	return map[string]float64{"dps": float64(received) / secs, "loss": float64(lost) / float64(n)}, nil
}

// nativeOpens times sequential dials in batches of 10, as the page does (see bench.js).
func nativeOpens(addr string, n int) (map[string]float64, error) {
	var means []float64
	for range n / 10 {
		var spent time.Duration
		for range 10 {
			t0 := time.Now()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return nil, err
			}
			spent += time.Since(t0)
			c.Close()
		}
		means = append(means, float64(spent.Microseconds())/1000/10)
	}
	return map[string]float64{"p50": percentile(means, 0.5), "p99": percentile(means, 0.99)}, nil
}

func nativeScale(addr string, n int) (map[string]float64, error) {
	t0 := time.Now()
	conns := make([]net.Conn, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
			msg := make([]byte, 1024)
			if _, err := c.Write(msg); err == nil {
				_, err = io.ReadFull(c, msg)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	ms := float64(time.Since(t0).Microseconds()) / 1000
	ok := 0
	for _, c := range conns {
		if c != nil {
			ok++
			c.Close()
		}
	}
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return map[string]float64{"ok": float64(ok), "ms": ms}, nil
}

// processTreeMemory is the proportional set size of pid and its descendants (the app and its WebKit
// processes), in bytes, in total and by process name: shared pages count once across the tree.
func processTreeMemory(pid int) (int64, map[string]int64) {
	pids := []int{pid}
	for _, p := range descendants(pid) {
		pids = append(pids, p.pid)
	}
	var total int64
	byName := map[string]int64{}
	for _, p := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/smaps_rollup")
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/comm")
		pss := smapsField(string(b), "Pss:") * 1024
		total += pss
		byName[strings.TrimSpace(string(comm))] += pss
	}
	return total, byName
}

// smapsField reads one "Name:   N kB" line of a smaps file, in kB.
func smapsField(text, name string) int64 {
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == name {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}
