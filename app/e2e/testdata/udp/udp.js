// End-to-end test page for UDP (connected and bound), TCP server sockets and bad input. Every
// socket that needs the user's consent waits for a real click first (gesture.js); the test answers
// each dialog with real key presses. It posts what it saw to /result.
'use strict';

const params = new URLSearchParams(location.search);
const HOST = '127.0.0.1';
const DNS_PORT = Number(params.get('dns'));
const DATAGRAMS = 150;
const IN_FLIGHT = 16;

function throwsType(fn) {
  try { fn(); return { threw: false }; } catch (e) { return errInfo(e); }
}
async function rejects(p) {
  try { await p; return { threw: false }; } catch (e) { return errInfo(e); }
}

// Datagram i carries its number and a pattern derived from it, so every byte can be checked.
function datagram(i) {
  const n = 64 + (i * 37) % 1200;
  const a = new Uint8Array(n);
  new DataView(a.buffer).setUint32(0, i);
  for (let k = 4; k < n; k++) a[k] = (i * 31 + k) & 0xff;
  return a;
}
function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

// Bad input that fails before anything is asked: no prompt, a TypeError each.
function badInput() {
  return {
    udpNoOptions: throwsType(() => new UDPSocket({})),
    udpBothModes: throwsType(() => new UDPSocket({ remoteAddress: HOST, remotePort: 9, localAddress: HOST })),
    udpRemotePortAlone: throwsType(() => new UDPSocket({ remotePort: 9 })),
    udpLocalPortAlone: throwsType(() => new UDPSocket({ localPort: 40000 })),
    udpLocalName: throwsType(() => new UDPSocket({ localAddress: 'localhost' })),
    udpLocalPort0: throwsType(() => new UDPSocket({ localAddress: HOST, localPort: 0 })),
    udpLocalPort65536: throwsType(() => new UDPSocket({ localAddress: HOST, localPort: 65536 })),
    udpLocalPortNegative: throwsType(() => new UDPSocket({ localAddress: HOST, localPort: -1 })),
    udpRemotePort0: throwsType(() => new UDPSocket({ remoteAddress: HOST, remotePort: 0 })),
    udpRemotePort65536: throwsType(() => new UDPSocket({ remoteAddress: HOST, remotePort: 65536 })),
    udpIpv6OnlyOnV4: throwsType(() => new UDPSocket({ localAddress: HOST, ipv6Only: true })),
    udpMulticastConnected: throwsType(() => new UDPSocket({ remoteAddress: HOST, remotePort: 9, multicastLoopback: true })),
    udpTtl256: throwsType(() => new UDPSocket({ localAddress: HOST, multicastTimeToLive: 256 })),
    serverNoAddress: throwsType(() => new TCPServerSocket()),
    serverName: throwsType(() => new TCPServerSocket('localhost')),
    serverPort0: throwsType(() => new TCPServerSocket(HOST, { localPort: 0 })),
    serverPortNegative: throwsType(() => new TCPServerSocket(HOST, { localPort: -1 })),
    serverBacklog0: throwsType(() => new TCPServerSocket(HOST, { backlog: 0 })),
  };
}

// The sender writes at most IN_FLIGHT datagrams ahead of the echoes it has read back.
async function udpEcho(sender, receiver, out) {
  const bw = receiver.writable.getWriter();
  const br = receiver.readable.getReader();
  const senderPort = sender.localPort;
  const stats = { echoed: 0, badSender: 0 };
  // The bound side checks who sent each datagram and echoes it back to that address and port.
  const echoing = (async () => {
    for (let i = 0; i < DATAGRAMS; i++) {
      const { value, done } = await br.read();
      if (done) break;
      if (value.remoteAddress !== HOST || value.remotePort !== senderPort) stats.badSender++;
      await bw.write({ data: value.data, remoteAddress: value.remoteAddress, remotePort: value.remotePort });
      stats.echoed++;
    }
  })();
  const w = sender.writable.getWriter();
  const r = sender.readable.getReader();
  let sent = 0, good = 0, bad = 0, bytes = 0;
  const t0 = performance.now();
  const reading = (async () => {
    for (let i = 0; i < DATAGRAMS; i++) {
      const { value, done } = await r.read();
      if (done) break;
      const k = new DataView(value.data.buffer, value.data.byteOffset).getUint32(0);
      if (sameBytes(value.data, datagram(k)) && value.remoteAddress === undefined) { good++; bytes += value.data.length; } else bad++;
      while (sent < DATAGRAMS && sent - (good + bad) < IN_FLIGHT) await w.write({ data: datagram(sent++) });
    }
  })();
  while (sent < IN_FLIGHT) await w.write({ data: datagram(sent++) });
  // A lost datagram would stall the exchange; say how far it got instead of waiting forever.
  const stalled = setTimeout(() => {
    report({ fatal: { name: 'Stalled', message: JSON.stringify({ sent, good, bad, echoed: stats.echoed }) } });
  }, 30000);
  await reading;
  clearTimeout(stalled);
  const ms = performance.now() - t0;
  await echoing;
  out.good = good;
  out.bad = bad;
  out.bytes = bytes;
  out.echoed = stats.echoed;
  out.badSender = stats.badSender;
  out.datagramsPerSecond = Math.round((2 * good) / (ms / 1000));
  // Wrong fields per mode end the writable with a TypeError, as a bad write does in Chrome.
  out.connectedWithRemote = await rejects(w.write({ data: new Uint8Array(1), remoteAddress: HOST, remotePort: 9 }));
  out.boundWithoutRemote = await rejects(bw.write({ data: new Uint8Array(1) }));
  w.releaseLock(); r.releaseLock(); bw.releaseLock(); br.releaseLock();
}

// A TCP server and a client in the same page exchange an echo, and all three close cleanly.
async function serverEcho(out) {
  await gesture();
  const server = new TCPServerSocket(HOST);
  const s = await server.opened;
  out.serverLocal = { address: s.localAddress, portOk: s.localPort >= 1024, hasWritable: 'writable' in s };
  await gesture();
  const client = new TCPSocket(HOST, s.localPort);
  const c = await client.opened;
  const acceptReader = s.readable.getReader();
  const { value: accepted } = await acceptReader.read();
  out.acceptedIsTCPSocket = accepted instanceof TCPSocket;
  const a = await accepted.opened;
  out.acceptedRemotePort = a.remotePort === c.localPort;
  // The accepted side echoes until the client half-closes.
  const serving = (async () => {
    const rd = a.readable.getReader();
    const wr = a.writable.getWriter();
    for (;;) {
      const { value, done } = await rd.read();
      if (done) break;
      await wr.write(value);
    }
    await wr.close();
  })();
  out.serverEcho = await roundTrip(c, 'hello through a page server');
  await c.writable.close();
  const tail = await c.readable.getReader().read();
  out.clientSawEOF = tail.done === true;
  await serving;
  acceptReader.releaseLock();
  await client.closed;
  await accepted.closed;
  await server.close();
  out.closed = true;
}

// A DNS query for socketeer.test (type A) over a connected UDP socket, decoded by hand.
function dnsQuery(id, name) {
  const labels = name.split('.');
  const q = new Uint8Array(12 + labels.reduce((n, l) => n + l.length + 1, 1) + 4);
  const v = new DataView(q.buffer);
  v.setUint16(0, id); v.setUint16(2, 0x0100); v.setUint16(4, 1);
  let o = 12;
  for (const l of labels) { q[o++] = l.length; for (const ch of l) q[o++] = ch.charCodeAt(0); }
  q[o++] = 0;
  v.setUint16(o, 1); v.setUint16(o + 2, 1);
  return q;
}
function dnsAnswer(b) {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const res = { id: v.getUint16(0), rcode: v.getUint16(2) & 0xf, answers: [] };
  let o = 12;
  const skipName = () => {
    for (;;) {
      const n = b[o];
      if (n === 0) { o++; return; }
      if ((n & 0xc0) === 0xc0) { o += 2; return; }
      o += n + 1;
    }
  };
  for (let i = 0; i < v.getUint16(4); i++) { skipName(); o += 4; }
  for (let i = 0; i < v.getUint16(6); i++) {
    skipName();
    const type = v.getUint16(o), len = v.getUint16(o + 8);
    o += 10;
    if (type === 1 && len === 4) res.answers.push(Array.from(b.subarray(o, o + 4)).join('.'));
    o += len;
  }
  return res;
}
async function dns(out) {
  await gesture();
  const sock = new UDPSocket({ remoteAddress: HOST, remotePort: DNS_PORT });
  const info = await sock.opened;
  const w = info.writable.getWriter();
  const r = info.readable.getReader();
  await w.write({ data: dnsQuery(0x5c7e, 'socketeer.test') });
  const { value } = await r.read();
  out.dns = dnsAnswer(value.data);
  // An oversize datagram is refused with a TypeError before anything is sent.
  out.oversize = await rejects(w.write({ data: new Uint8Array(70000) }));
  w.releaseLock(); r.releaseLock();
  out.dnsClosed = await sock.close().then(() => true, (e) => errInfo(e));
}

(async () => {
  const out = {
    api: { UDPSocket: typeof UDPSocket, TCPServerSocket: typeof TCPServerSocket, openUDPSocket: typeof navigator.openUDPSocket },
    typeErrors: badInput(),
  };
  try {
    await gesture();
    const bound = new UDPSocket({ localAddress: HOST });
    const b = await bound.opened;
    out.bound = { localAddress: b.localAddress, hasRemote: b.remoteAddress !== undefined, multicast: typeof b.multicastController };
    const locked = b.readable.getReader();
    out.closeLocked = await rejects(bound.close());
    locked.releaseLock();
    await gesture();
    // The explainer's shape for the sender.
    const sender = await navigator.openUDPSocket({ remoteAddress: HOST, remotePort: b.localPort });
    out.sender = { remoteAddress: sender.remoteAddress, remotePortOk: sender.remotePort === b.localPort, hasStreams: !!sender.readable && !!sender.writable };
    out.udp = {};
    await udpEcho(sender, b, out.udp);
    out.udpClosed = [await rejects(sender.close()), await rejects(bound.close())];
    out.server = {};
    await serverEcho(out.server);
    await dns(out);
  } catch (e) {
    out.fatal = errInfo(e);
  }
  await report(out);
})();
