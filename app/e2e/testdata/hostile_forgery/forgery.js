// Hostile page for TestHostileRelayForgery. Threat: a page that bypasses the socket API and talks to
// the isolated-world relay directly, dispatching hand-made 'socketeer:out' events (the relay listens
// on the document, so any page script can), to get past the API's checks: malformed ids, ops and
// payloads, a claimed origin, forbidden ports, other spellings of loopback, and more data than its
// credit. Every answer the relay gives arrives as a 'socketeer:in' event, which this page reads too.
// The phases run one after another, so the consent dialogs come in an order the test knows:
// B (deny), D (allow), C1 (deny), C2 (deny), possibly D3 (allow), S (allow).
'use strict';

const params = new URLSearchParams(location.search);
const HOST = '127.0.0.1';
const A = Number(params.get('a'));       // the destination the user allows
const B = Number(params.get('b'));       // a destination the user never allows
const SINK = Number(params.get('sink')); // a server that accepts and never reads

const enc = new TextEncoder();
const dec = new TextDecoder();

// What the relay delivers, per socket id: a queue of unclaimed messages and the waiters for more.
const queues = new Map();
const waiters = new Map();
const credits = new Map();
document.addEventListener('socketeer:in', (ev) => {
  const m = ev.detail;
  if (!m || typeof m !== 'object') return;
  if (m.op === 'credit') credits.set(m.id, (credits.get(m.id) || 0) + m.n);
  const ws = waiters.get(m.id) || [];
  const i = ws.findIndex((w) => w.ops.includes(m.op));
  if (i >= 0) {
    ws.splice(i, 1)[0].resolve(m);
    return;
  }
  if (!queues.has(m.id)) queues.set(m.id, []);
  queues.get(m.id).push(m);
});

// take resolves with the next message for id whose op is one of ops.
function take(id, ops) {
  const q = queues.get(id) || [];
  const i = q.findIndex((m) => ops.includes(m.op));
  if (i >= 0) return Promise.resolve(q.splice(i, 1)[0]);
  return new Promise((resolve) => {
    if (!waiters.has(id)) waiters.set(id, []);
    waiters.get(id).push({ ops, resolve });
  });
}

function forge(detail) {
  document.dispatchEvent(new CustomEvent('socketeer:out', { detail }));
}

// Forged ids start far above the API's own counter, so the two never collide.
let nextForged = 0x40000000;
const fid = () => nextForged++;
const dest = (remoteAddress, remotePort) => ({ remoteAddress, remotePort });

function forgeOpen(options, extra) {
  const id = fid();
  forge({ op: 'open', id, kind: 'tcp', options, ...extra });
  return id;
}

async function outcome(id) {
  const m = await take(id, ['opened', 'error', 'closed']);
  if (m.op === 'error') return { op: 'error', name: m.name, message: m.message };
  return { op: m.op, remoteAddress: m.info && m.info.remoteAddress, remotePort: m.info && m.info.remotePort };
}

// echo sends text on a forged socket and collects what comes back, or how the socket ended.
async function echo(id, text) {
  forge({ op: 'data', id, data: enc.encode(text) });
  let got = '';
  while (got.length < text.length) {
    const m = await take(id, ['data', 'error', 'closed', 'eof']);
    if (m.op !== 'data') return { got, end: m.op, name: m.name, message: m.message };
    got += dec.decode(m.data);
  }
  return { got };
}

async function run() {
  const res = {};

  // Phase A1: events the relay must drop on its own. They name destination B, so if any got
  // through, Go would ask the user (the test counts dialogs) or connect (the test counts connections).
  const X = fid(); // an id that is never opened
  const junk = {
    notObject: 'open',
    nullDetail: null,
    missingId: { op: 'open', kind: 'tcp', options: dest(HOST, B) },
    idZero: { op: 'open', kind: 'tcp', id: 0, options: dest(HOST, B) },
    id2pow33: { op: 'open', kind: 'tcp', id: 2 ** 33, options: dest(HOST, B) },
    id2pow32: { op: 'open', kind: 'tcp', id: 2 ** 32, options: dest(HOST, B) },
    idNegative: { op: 'open', kind: 'tcp', id: -1, options: dest(HOST, B) },
    idFraction: { op: 'open', kind: 'tcp', id: 1.5, options: dest(HOST, B) },
    idString: { op: 'open', kind: 'tcp', id: String(X), options: dest(HOST, B) },
    kindMissing: { op: 'open', id: X, options: dest(HOST, B) },
    kindUnknown: { op: 'open', id: X, kind: 'sctp', options: dest(HOST, B) },
    idGoHalf: { op: 'open', id: 2 ** 31, kind: 'tcp', options: dest(HOST, B) },
    opUnknown: { op: 'bogus', id: X, options: dest(HOST, B) },
    opNumber: { op: 1, id: X, options: dest(HOST, B) },
    dataString: { op: 'data', id: X, data: 'hello' },
    dataArrayBuffer: { op: 'data', id: X, data: new ArrayBuffer(8) },
    dataArray: { op: 'data', id: X, data: [1, 2, 3] },
    dataDataView: { op: 'data', id: X, data: new DataView(new ArrayBuffer(8)) },
    dataEmpty: { op: 'data', id: X, data: new Uint8Array(0) },
    dataTooBig: { op: 'data', id: X, data: new Uint8Array(65537) },
    creditHuge: { op: 'credit', id: X, n: 2 ** 40 },
    creditZero: { op: 'credit', id: X, n: 0 },
    creditNegative: { op: 'credit', id: X, n: -1 },
    creditFraction: { op: 'credit', id: X, n: 1.5 },
    creditString: { op: 'credit', id: X, n: '100' },
  };
  for (const detail of Object.values(junk)) forge(detail);
  res.junk = Object.keys(junk).length;

  // Phase A2: opens the relay forwards and Go must refuse, each with an answer and without a dialog.
  const typed = {
    port0: dest(HOST, 0),
    port70000: dest(HOST, 70000),
    portNegative: dest(HOST, -1),
    portFraction: dest(HOST, 80.5),
    portString: dest(HOST, '80'),
    addressEmpty: dest('', B),
    addressObject: dest({ host: HOST }, B),
    addressNewline: dest('127.0.0.1\nevil.example', B),
    addressSpace: dest('127.0.0.1 evil.example', B),
    port443: dest(HOST, 443),
    port443Name: dest('localhost', 443),
  };
  const typedIds = Object.fromEntries(Object.entries(typed).map(([k, o]) => [k, forgeOpen(o)]));
  res.typed = {};
  for (const [k, id] of Object.entries(typedIds)) res.typed[k] = await outcome(id);

  // Frames the relay forwards for an id Go never opened: Go must ignore them, not drop the page.
  for (const detail of [
    { op: 'data', id: X, data: new Uint8Array(10) },
    { op: 'credit', id: X, n: 0xffffffff },
    { op: 'shutdown', id: X },
    { op: 'shutdownRead', id: X },
    { op: 'close', id: X },
  ]) forge(detail);

  // The API itself, to port 443: refused by policy, with no dialog.
  try {
    await new TCPSocket(HOST, 443).opened;
    res.api443 = { threw: false };
  } catch (e) {
    res.api443 = errInfo(e);
  }

  // Phase B: other spellings of 127.0.0.1, and a claimed origin, for destination B. They are one
  // destination, so they share one dialog, which the test denies.
  await gesture();
  const b = {
    short: forgeOpen(dest('127.1', B)),
    hex: forgeOpen(dest('0x7f.0.0.1', B)),
    claimedOrigin: forgeOpen({ ...dest(HOST, B), origin: 'https://evil.example' }, { origin: 'https://evil.example' }),
  };
  res.b = {};
  for (const [k, id] of Object.entries(b)) res.b[k] = await outcome(id);

  // Phase D: the legitimate API still works after all of the above (the test allows A).
  await gesture();
  const s = new TCPSocket(HOST, A);
  const info = await s.opened;
  res.legit = { remotePort: info.remotePort, echoed: await roundTrip(info, 'legit') };
  await s.close();
  res.legit.closed = true;

  // Phase C, after the allow so that the denials in a row stay under the prompt lockout: IPv6
  // spellings of loopback for destination B, one dialog each, both denied.
  res.c = {};
  await gesture();
  res.c.ipv6Loopback = await outcome(forgeOpen(dest('[::1]', B)));
  await gesture();
  res.c.mapped = await outcome(forgeOpen(dest('::ffff:127.0.0.1', B)));

  // Other spellings of the destination this page was allowed are that same destination.
  const d1 = forgeOpen(dest('127.1', A));
  const d2 = forgeOpen(dest('0x7f.0.0.1', A));
  res.d = { short: await outcome(d1), hex: await outcome(d2) };
  // A read credit far beyond the window is clamped by Go and changes nothing.
  forge({ op: 'credit', id: d1, n: 0xffffffff });
  res.d.shortEcho = await echo(d1, 'forged');
  forge({ op: 'close', id: d2 });
  res.d.hexClose = (await take(d2, ['closed', 'error'])).op;
  // The IPv4-mapped spelling of the allowed destination: the test allows it if it is asked.
  await gesture();
  const d3 = forgeOpen(dest('::ffff:127.0.0.1', A));
  res.d.mapped = await outcome(d3);
  if (res.d.mapped.op === 'opened') forge({ op: 'close', id: d3 });

  // Phase S: more data than the credit Go granted, to a server that never reads (the test allows it).
  // Go may buffer only what it granted; the socket must fail with QuotaExceededError instead.
  await gesture();
  const k = forgeOpen(dest(HOST, SINK));
  res.sink = { open: await outcome(k) };
  if (res.sink.open.op === 'opened') {
    const ended = take(k, ['error', 'closed']);
    let end = null;
    ended.then((m) => { end = m; });
    const chunk = new Uint8Array(65536);
    let sent = 0;
    while (!end && sent < (64 << 20)) {
      for (let i = 0; i < 16; i++) forge({ op: 'data', id: k, data: chunk });
      sent += 16 * chunk.byteLength;
      // Let the relay's answers in between batches.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    if (!end) forge({ op: 'close', id: k });
    const m = await ended;
    res.sink.sent = sent;
    res.sink.credit = credits.get(k) || 0;
    res.sink.end = { op: m.op, name: m.name, message: m.message };
  }

  // Phase E: an op name that exists on every object's prototype. The relay must drop it like any
  // other unknown op, and the page's other socket (d1, still open) must not notice.
  forge({ op: 'toString', id: d1 });
  res.inheritedOp = await echo(d1, 'after');
  return res;
}

run().then(report, (e) => report({ fatal: errInfo(e), stack: String(e && e.stack) }));
