package e2e

import (
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// TestUDPAndServerSockets runs UDP in both modes, a TCP server socket and a DNS query in the real
// app: every socket is allowed through the real consent dialog after a real click, the datagrams and
// the echo are checked byte for byte, and bad input is refused with TypeErrors without a prompt.
func TestUDPAndServerSockets(t *testing.T) {
	dnsAddr, queries := startDNSServer(t, "socketeer.test.", netip.MustParseAddr("192.0.2.55"))
	site := StartSite(t, testdataFiles(t, "udp"), strictCSP)
	d, app := openPinnedSite(t, site, fmt.Sprintf("/index.html?dns=%d", dnsAddr.Port))

	// Five sockets need consent: the bound UDP socket, the connected one, the server, the client
	// of the server, and the DNS socket.
	mark := 0
	for i := 0; i < 5; i++ {
		gestureClick(t, d, site)
		mark = answerConsent(t, d, app, mark, true)
	}
	res := waitPageResult(t, site, "")
	r := pageResult(res)
	expect := func(want any, path ...string) { t.Helper(); r.expect(t, want, path...) }

	expect("function", "api", "UDPSocket")
	expect("function", "api", "TCPServerSocket")
	expect("function", "api", "openUDPSocket")
	for k := range r.get("typeErrors").(map[string]any) {
		expect("TypeError", "typeErrors", k, "name")
	}
	expect("127.0.0.1", "bound", "localAddress")
	expect(false, "bound", "hasRemote")
	expect("object", "bound", "multicast")
	expect("InvalidStateError", "closeLocked", "name")
	expect("127.0.0.1", "sender", "remoteAddress")
	expect(true, "sender", "remotePortOk")
	expect(true, "sender", "hasStreams")

	expect(150, "udp", "good")
	expect(0, "udp", "bad")
	expect(150, "udp", "echoed")
	expect(0, "udp", "badSender")
	expect("TypeError", "udp", "connectedWithRemote", "name")
	expect("TypeError", "udp", "boundWithoutRemote", "name")
	t.Logf("UDP echo: %v datagrams per second (both directions), %v bytes echoed", r.get("udp", "datagramsPerSecond"), r.get("udp", "bytes"))

	expect("127.0.0.1", "server", "serverLocal", "address")
	expect(true, "server", "serverLocal", "portOk")
	expect(false, "server", "serverLocal", "hasWritable")
	expect(true, "server", "acceptedIsTCPSocket")
	expect(true, "server", "acceptedRemotePort")
	expect("hello through a page server", "server", "serverEcho")
	expect(true, "server", "clientSawEOF")
	expect(true, "server", "closed")

	expect(float64(0x5c7e), "dns", "id")
	expect(0, "dns", "rcode")
	if a, _ := r.get("dns", "answers").([]any); len(a) != 1 || a[0] != "192.0.2.55" {
		t.Errorf("dns answers = %v, want [192.0.2.55]", r.get("dns", "answers"))
	}
	if n := queries.Load(); n != 1 {
		t.Errorf("the DNS server saw %d queries, want 1", n)
	}
	expect("TypeError", "oversize", "name")
	expect(true, "dnsClosed")
	if !app.Alive() {
		t.Errorf("the app exited")
	}
}

// startDNSServer answers A queries for one name with one address, on loopback UDP.
func startDNSServer(t *testing.T, name string, addr netip.Addr) (*net.UDPAddr, *atomic.Int64) {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	n := &atomic.Int64{}
	go func() {
		buf := make([]byte, 1500)
		for {
			k, from, err := pc.ReadFromUDP(buf)
			if err != nil {
				return
			}
			n.Add(1)
			var p dnsmessage.Parser
			h, err := p.Start(buf[:k])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
			b.StartQuestions()
			b.Question(q)
			b.StartAnswers()
			if q.Name.String() == name && q.Type == dnsmessage.TypeA {
				b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: addr.As4()})
			}
			msg, err := b.Finish()
			if err == nil {
				pc.WriteToUDP(msg, from)
			}
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr), n
}
