// Socketeer's benchmark page. Its workloads use only the standard Direct Sockets shape (new TCPSocket,
// new UDPSocket, opened, streams), so they run unchanged in any browser that has the API; the two
// reference rows (R1, R2) use a plain WebSocket to a proxy on the page's own server. Workloads and
// sizes come from the query string; every workload is timed as a loop, since performance.now() is
// coarse in WebKit. Results go to /result; /checkpoint lets the test measure memory mid-run.
'use strict';

const q = new URLSearchParams(location.search);
const HOST = '127.0.0.1';
const TCP_PORT = Number(q.get('tcp'));
const UDP_PORT = Number(q.get('udp'));
const TLS_PORT = Number(q.get('tls') || 0);
const ROUNDS = Number(q.get('rounds'));
const SIZE = JSON.parse(q.get('size'));

function show(text) {
  document.getElementById('out').textContent += '\n' + text;
  fetch('/log', { method: 'POST', body: text });
}
async function checkpoint(name) {
  await fetch('/checkpoint', { method: 'POST', body: name });
}
function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

async function open(port, options) {
  const s = new TCPSocket(HOST, port, { noDelay: true, ...options });
  const info = await s.opened;
  return { s, r: info.readable.getReader(), w: info.writable.getWriter() };
}
async function shut(c) {
  c.r.releaseLock();
  c.w.releaseLock();
  await c.s.close();
}
async function readN(r, n) {
  let got = 0;
  while (got < n) {
    const { value, done } = await r.read();
    if (done) throw new Error('the echo ended early');
    got += value.byteLength;
  }
}

// Every TCP-like workload runs on a connection c with send(bytes) (not awaited: one write in
// flight), readN(n) and close(): a Socketeer TCPSocket (tcpConn) or the WebSocket relay (relayConn).
async function tcpConn(port, options) {
  const c = await open(port, options);
  return { send: (b) => { c.w.write(b); }, readN: (n) => readN(c.r, n), close: () => shut(c) };
}

// R1 and R2 run W1 and W2 through the relay alternative, a WebSocket to a websockify-style proxy
// on the site's own server (the test's wsRelay), which forwards to the same TCP echo server.
async function relayConn() {
  const ws = new WebSocket(`wss://${location.host}/relay`);
  ws.binaryType = 'arraybuffer';
  let queued = 0, wake = null;
  ws.onmessage = (e) => {
    queued += e.data.byteLength;
    if (wake) wake();
  };
  await new Promise((res, rej) => {
    ws.onopen = res;
    ws.onerror = () => rej(new Error('the WebSocket relay could not be reached'));
  });
  ws.onerror = null;
  return {
    send: (b) => ws.send(b),
    async readN(n) {
      while (queued < n) await new Promise((res) => { wake = res; });
      wake = null;
      queued -= n;
    },
    close: () => ws.close(),
  };
}

// W1 (and R1): bulk echo with at most one 64 KiB write in flight, in MB/s of payload one way.
async function windowed(conn, bytes) {
  const chunk = new Uint8Array(65536);
  const t0 = performance.now();
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    conn.send(chunk);
    await conn.readN(chunk.length);
  }
  const ms = performance.now() - t0;
  await conn.close();
  return bytes / 1e6 / (ms / 1000);
}

// W1u: writes as fast as the socket takes them, read concurrently, in MB/s of payload one way.
async function pipelined(port, bytes) {
  const c = await open(port);
  const chunk = new Uint8Array(65536);
  const t0 = performance.now();
  const reading = readN(c.r, bytes);
  for (let sent = 0; sent < bytes; sent += chunk.length) await c.w.write(chunk);
  await reading;
  const ms = performance.now() - t0;
  await shut(c);
  return bytes / 1e6 / (ms / 1000);
}

// W2 (and R2): 64-byte ping-pong, timed in batches of 20; p50 and p99 of the batch means, in µs.
async function pingPong(conn, warm, measured) {
  const msg = new Uint8Array(64);
  const once = async () => { conn.send(msg); await conn.readN(64); };
  for (let i = 0; i < warm; i++) await once();
  const means = [];
  for (let b = 0; b < measured / 20; b++) {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await once();
    means.push((performance.now() - t0) * 1000 / 20);
  }
  await conn.close();
  return { p50: percentile(means, 0.5), p99: percentile(means, 0.99) };
}

// W3: UDP echo of n datagrams of 1000 bytes with at most 32 in flight. A datagram not echoed within
// 200 ms of the last progress counts as lost.
async function udpEcho(n) {
  const s = new UDPSocket({ remoteAddress: HOST, remotePort: UDP_PORT });
  const info = await s.opened;
  const r = info.readable.getReader();
  const w = info.writable.getWriter();
  const inFlight = new Set();
  let received = 0, lost = 0, sent = 0, wake = null;
  const reading = (async () => {
    for (;;) {
      const { value, done } = await r.read();
      if (done) return;
      const k = new DataView(value.data.buffer, value.data.byteOffset).getUint32(0);
      if (inFlight.delete(k)) received++;
      if (wake) wake();
    }
  })();
  reading.catch(() => {});
  const t0 = performance.now();
  while (received + lost < n) {
    while (sent < n && inFlight.size < 32) {
      const d = new Uint8Array(1000);
      new DataView(d.buffer).setUint32(0, sent);
      inFlight.add(sent++);
      await w.write({ data: d });
    }
    const before = received;
    let timer;
    await new Promise((res) => {
      wake = res;
      timer = setTimeout(res, 200);
    });
    clearTimeout(timer);
    wake = null;
    if (received === before && inFlight.size > 0) {
      lost += inFlight.size;
      inFlight.clear();
    }
  }
  const ms = performance.now() - t0;
  r.releaseLock();
  w.releaseLock();
  await s.close();
  return { dps: received / (ms / 1000), loss: lost / n };
}

// W4: sequential opens to a granted destination, open call to `opened`, in ms. The page's clock
// reads whole milliseconds, so opens are timed in batches of 10 (each open still waits for the one
// before); p50 and p99 are of the batch means.
async function openTimes(n) {
  const means = [];
  for (let b = 0; b < n / 10; b++) {
    let spent = 0;
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const s = new TCPSocket(HOST, TCP_PORT);
      await s.opened;
      spent += performance.now() - t0;
      await s.close();
    }
    means.push(spent / 10);
  }
  return { p50: percentile(means, 0.5), p99: percentile(means, 0.99) };
}

// W5: n concurrent sockets, each echoing 1 KiB; the test measures memory while all are open.
async function scale(n) {
  const msg = new Uint8Array(1024);
  // The test takes its baseline here, after the other workloads, so that the growth it reports is
  // the sockets' own and not the heap the bulk workloads left behind.
  await checkpoint('w5 start');
  const t0 = performance.now();
  const conns = await Promise.all(Array.from({ length: n }, async () => {
    const c = await open(TCP_PORT);
    c.w.write(msg);
    await readN(c.r, msg.length);
    return c;
  }));
  const ms = performance.now() - t0;
  await checkpoint('w5 open ' + conns.length);
  await Promise.all(conns.map(shut));
  return { ok: conns.length, ms };
}

async function run() {
  const res = { rounds: [] };
  // Consent first, once per destination: every workload after this runs on granted destinations.
  for (const port of [TCP_PORT, TLS_PORT]) {
    if (!port) continue;
    await gesture();
    const c = await open(port, port === TLS_PORT ? { secureTransport: 'on' } : {});
    await shut(c);
  }
  await gesture();
  const u = new UDPSocket({ remoteAddress: HOST, remotePort: UDP_PORT });
  await u.opened;
  await u.close();
  show('consent done');

  for (let round = 0; round < ROUNDS; round++) {
    const r = {};
    show('round ' + (round + 1));
    r.W1 = await windowed(await tcpConn(TCP_PORT), SIZE.bulk);
    show('W1 ' + r.W1);
    r.W1u = await pipelined(TCP_PORT, SIZE.bulk);
    r.W2 = await pingPong(await tcpConn(TCP_PORT), SIZE.warm, SIZE.pings);
    r.W3 = await udpEcho(SIZE.datagrams);
    r.W4 = await openTimes(SIZE.opens);
    if (TLS_PORT) r.W6 = await windowed(await tcpConn(TLS_PORT, { secureTransport: 'on' }), SIZE.bulk);
    r.R1 = await windowed(await relayConn(), SIZE.bulk);
    r.R2 = await pingPong(await relayConn(), SIZE.warm, SIZE.pings);
    show(`round ${round + 1}: ${JSON.stringify(r)}`);
    res.rounds.push(r);
  }
  res.W5 = await scale(SIZE.sockets);
  return res;
}

run().then(report, (e) => report({ fatal: errInfo(e), stack: String(e && e.stack) }));
