package e2e

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"socketeer/bindings/selfsigned"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBench runs the benchmark: the same workloads from a page in the real app under Xvfb and from
// a native Go client, against the same loopback servers, in the same run. In `make test` it is a
// smoke run (small sizes, one round) that checks only that every workload completes and reports
// numbers; `make bench` sets SOCKETEER_BENCH=full for the real sizes and three rounds, prints the
// table and writes it as JSON to SOCKETEER_BENCH_OUT. No timing is asserted, ever.
func TestBench(t *testing.T) {
	full := os.Getenv("SOCKETEER_BENCH") == "full"
	size, rounds := benchSize{Bulk: 1 << 20, Warm: 20, Pings: 100, Datagrams: 500, Opens: 10, Sockets: 50}, 1
	if full {
		size, rounds = benchSize{Bulk: 64 << 20, Warm: 200, Pings: 2000, Datagrams: 20000, Opens: 100, Sockets: 1000}, 3
	}
	tcpAddr, _ := StartEchoServer(t)
	udpAddr := startUDPEchoServer(t)
	tcp, udp := tcpAddr.String(), udpAddr.String()
	// W6: a TLS echo whose certificate a test CA signs; the app trusts that CA (SSL_CERT_FILE).
	ca, err := selfsigned.NewCA("Socketeer bench CA", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("127.0.0.1", []string{"127.0.0.1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "roots.pem")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	tlsSrv := startTLSMux(t, map[string]selfsigned.Cert{"": leaf})
	tlsAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsSrv.port))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.CertPEM)

	// Native first, while nothing else runs.
	native := map[string][]any{}
	for range rounds {
		add := func(name string, v any, err error) {
			if err != nil {
				t.Fatalf("native %s: %v", name, err)
			}
			native[name] = append(native[name], v)
		}
		v, err := nativeBulk(tcp, size.Bulk, true)
		add("W1", v, err)
		v, err = nativeBulk(tcp, size.Bulk, false)
		add("W1u", v, err)
		m, err := nativePingPong(tcp, size.Warm, size.Pings)
		add("W2", m, err)
		m, err = nativeUDPEcho(udp, size.Datagrams)
		add("W3", m, err)
		m, err = nativeOpens(tcp, size.Opens)
		add("W4", m, err)
		v, err = nativeTLSBulk(tlsAddr, roots, size.Bulk)
		add("W6", v, err)
	}
	nativeW5, err := nativeScale(tcp, size.Sockets)
	if err != nil {
		t.Fatalf("native W5: %v", err)
	}

	site := StartSite(t, testdataFiles(t, "bench"), strictCSP)
	site.Handle("/relay", wsRelay(tcp))
	sizeJSON, _ := json.Marshal(size)
	dirs := pinnedDirs(t, site)
	dirs["SOCKETEER_LOG"] = "debug"
	dirs["SSL_CERT_FILE"] = caFile
	d := StartXvfb(t)
	app := StartApp(t, d, dirs, "open", fmt.Sprintf("%s/index.html?tcp=%d&udp=%d&tls=%d&rounds=%d&size=%s",
		site.URL, tcpAddr.Port, udpAddr.Port, tlsSrv.port, rounds, url.QueryEscape(string(sizeJSON))))
	app.WaitLog(t, rePageLoaded, pageTimeout)
	mark := 0
	for range 3 { // the TCP, TLS and UDP echo servers
		gestureClick(t, d, site)
		mark = answerConsent(t, d, app, mark, true)
	}
	// W5: memory with every socket open, against the same app just before they open (the page
	// waits at each checkpoint until it is released).
	name, release := site.WaitCheckpoint(t, resultTimeout)
	if name != "w5 start" {
		t.Fatalf("checkpoint %q, want w5 start", name)
	}
	before, beforeBy := processTreeMemory(app.PID)
	heapBefore := lastHeap(app)
	release()
	name, release = site.WaitCheckpoint(t, resultTimeout)
	during, duringBy := processTreeMemory(app.PID)
	app.WaitLogAfter(t, app.Mark(), regexp.MustCompile(`msg=memory heapAlloc=\d+ sockets=`+strconv.Itoa(size.Sockets)+`\b`), dialogTimeout)
	heapDuring := lastHeap(app)
	release()
	if name != fmt.Sprintf("w5 open %d", size.Sockets) {
		t.Errorf("checkpoint %q", name)
	}
	res := pageResult(site.WaitResult(t, resultTimeout))
	if res["fatal"] != nil {
		t.Fatalf("page failed: %v %v", res["fatal"], res["stack"])
	}

	table := benchTable(res, native, rounds)
	table.W5 = map[string]any{
		"page": res.get("W5"), "native": nativeW5,
		"treeMemoryBefore": before, "treeMemoryDuring": during,
		"treeGrowthPerSocket": float64(during-before) / float64(size.Sockets),
		"goHeapBefore":        heapBefore, "goHeapDuring": heapDuring,
		"treeMemoryBeforeByProcess": beforeBy, "treeMemoryDuringByProcess": duringBy,
	}
	t.Logf("benchmark (%d rounds):\n%s", rounds, table.String())
	if ok, _ := res.get("W5", "ok").(float64); int(ok) != size.Sockets {
		t.Errorf("W5: %v of %d sockets worked", res.get("W5", "ok"), size.Sockets)
	}
	for _, row := range table.Rows {
		if len(row.Page) != rounds || len(row.Native) != rounds || (row.Unit != "fraction" && (slices.Contains(row.Page, 0) || slices.Contains(row.Native, 0))) {
			t.Errorf("%s: incomplete numbers: page %v native %v", row.Name, row.Page, row.Native)
		}
	}
	if out := os.Getenv("SOCKETEER_BENCH_OUT"); out != "" {
		b, _ := json.MarshalIndent(table, "", "  ")
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var reHeap = regexp.MustCompile(`msg=memory heapAlloc=(\d+)`)

// lastHeap is the Go heap the app last logged (SOCKETEER_LOG=debug), in bytes.
func lastHeap(app *App) int64 {
	lines := app.Lines()
	for i := len(lines) - 1; i >= 0; i-- {
		if m := reHeap.FindStringSubmatch(lines[i]); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			return n
		}
	}
	return 0
}

// startUDPEchoServer echoes every datagram back to its sender, on loopback.
func startUDPEchoServer(t *testing.T) *net.UDPAddr {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	pc.SetReadBuffer(4 << 20)
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			pc.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr)
}

// benchRow is one workload's figure per round, from the page and from native Go.
type benchRow struct {
	Name, Unit string
	// HigherBetter says whether larger figures are better (throughput) or worse (latency).
	HigherBetter bool
	Page, Native []float64
	Target       string
}

type benchResults struct {
	Machine string
	Rows    []benchRow
	W5      map[string]any
}

// benchTable picks each workload's figure out of the page's and the native results.
func benchTable(res pageResult, native map[string][]any, rounds int) benchResults {
	host, _ := os.Hostname()
	out := benchResults{Machine: fmt.Sprintf("%s, %d CPUs, %s", host, numCPU(), time.Now().UTC().Format(time.RFC3339))}
	// The R rows are the relay alternative (see wsRelay): W1 and W2 from the same page through a
	// WebSocket proxy instead of Socketeer's sockets, next to the same native figures.
	rows := []struct {
		name, w, nw, field, unit, target string
		higher                           bool
	}{
		{"W1 TCP bulk echo, 64 KiB window", "W1", "W1", "", "MB/s", "≥ 0.12× native", true},
		{"W1u TCP bulk echo, pipelined", "W1u", "W1u", "", "MB/s", "≥ 0.15× native", true},
		{"W2 ping-pong p50", "W2", "W2", "p50", "µs", "≤ 20× native", false},
		{"W2 ping-pong p99", "W2", "W2", "p99", "µs", "", false},
		{"W3 UDP echo", "W3", "W3", "dps", "datagrams/s", "≥ 0.10× native", true},
		{"W3 UDP loss", "W3", "W3", "loss", "fraction", "reported", false},
		{"W4 open p50", "W4", "W4", "p50", "ms", "≤ 22× native", false},
		{"W4 open p99", "W4", "W4", "p99", "ms", "", false},
		{"W6 TLS bulk echo, 64 KiB window", "W6", "W6", "", "MB/s", "next to W1", true},
		{"R1 W1 through a WebSocket relay", "R1", "W1", "", "MB/s", "reference", true},
		{"R2 W2 p50 through a WebSocket relay", "R2", "W2", "p50", "µs", "reference", false},
	}
	rs, _ := res["rounds"].([]any)
	for _, r := range rows {
		row := benchRow{Name: r.name, Unit: r.unit, HigherBetter: r.higher, Target: r.target}
		for i := range rounds {
			if i < len(rs) {
				row.Page = append(row.Page, figure(pageResult(rs[i].(map[string]any)).get(r.w), r.field))
			}
			if i < len(native[r.nw]) {
				row.Native = append(row.Native, figure(native[r.nw][i], r.field))
			}
		}
		out.Rows = append(out.Rows, row)
	}
	return out
}

func figure(v any, field string) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case map[string]any:
		f, _ := x[field].(float64)
		return f
	case map[string]float64:
		return x[field]
	}
	return 0
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// String renders the table: median (min–max) for page and native, and their ratio.
func (b benchResults) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "machine: %s\n", b.Machine)
	fmt.Fprintf(&sb, "%-34s %-26s %-26s %-9s %s\n", "workload", "page median (min–max)", "native median (min–max)", "ratio", "target")
	for _, r := range b.Rows {
		ratio := 0.0
		if m := median(r.Native); m != 0 {
			ratio = median(r.Page) / m
		}
		fmt.Fprintf(&sb, "%-34s %-26s %-26s %-9s %s\n", r.Name+" ("+r.Unit+")", spread(r.Page), spread(r.Native),
			fmt.Sprintf("%.3g×", ratio), r.Target)
	}
	if b.W5 != nil {
		fmt.Fprintf(&sb, "W5 scale: page %v, native %v; app tree memory %.1f → %.1f MB (%.1f KB per socket); Go heap %.1f → %.1f MB\n",
			b.W5["page"], b.W5["native"], mb(b.W5["treeMemoryBefore"]), mb(b.W5["treeMemoryDuring"]),
			b.W5["treeGrowthPerSocket"].(float64)/1024, mb(b.W5["goHeapBefore"]), mb(b.W5["goHeapDuring"]))
		before, _ := b.W5["treeMemoryBeforeByProcess"].(map[string]int64)
		for name, n := range b.W5["treeMemoryDuringByProcess"].(map[string]int64) {
			fmt.Fprintf(&sb, "  %s: %.1f → %.1f MB\n", name, float64(before[name])/1e6, float64(n)/1e6)
		}
	}
	return sb.String()
}

func spread(xs []float64) string {
	if len(xs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.4g (%.4g–%.4g)", median(xs), slices.Min(xs), slices.Max(xs))
}

func mb(v any) float64 {
	n, _ := v.(int64)
	return float64(n) / 1e6
}

func numCPU() int {
	b, _ := os.ReadFile(filepath.Join("/proc", "cpuinfo"))
	return strings.Count(string(b), "processor\t:")
}
