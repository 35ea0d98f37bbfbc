// End-to-end echo test page. It runs at load, uses both API shapes against the loopback echo
// servers named in the query string, and posts what it saw to /result.
'use strict';

const params = new URLSearchParams(location.search);
const HOST = '127.0.0.1';
const ALLOW_PORT = Number(params.get('allow'));
const DENY_PORT = Number(params.get('deny'));
const BULK = 8 << 20;
const SMALL = 1000;

async function pingPong(readable, writable, count) {
  const writer = writable.getWriter();
  const reader = readable.getReader();
  const msg = pattern(32, 7);
  let bad = 0;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    msg[0] = i & 0xff;
    await writer.write(msg);
    const r = await readExactly(reader, msg.length, msg);
    if (r.got !== msg.length || r.mismatch >= 0) bad++;
  }
  const ms = performance.now() - t0;
  writer.releaseLock();
  reader.releaseLock();
  return { count, bad, usPerRoundTrip: (ms * 1000) / count };
}

// halfClose closes the writable, then expects the echo's FIN to end the readable.
async function halfClose(readable, writable) {
  const writer = writable.getWriter();
  await writer.write(new TextEncoder().encode('bye'));
  await writer.close();
  const reader = readable.getReader();
  const r = await readExactly(reader, 1 << 30, null);
  reader.releaseLock();
  return { tail: r.got };
}

async function run() {
  const res = {};
  res.api = {
    openTCPSocket: typeof navigator.openTCPSocket,
    TCPSocket: typeof TCPSocket,
    secure: isSecureContext,
  };
  res.typeErrors = {
    portTooBig: await expectThrow(() => new TCPSocket(HOST, 70000)),
    portZero: await expectThrow(() => new TCPSocket(HOST, 0)),
    keepAliveDelay: await expectThrow(() => new TCPSocket(HOST, ALLOW_PORT, { keepAliveDelay: 999 })),
    bufferZero: await expectThrow(() => new TCPSocket(HOST, ALLOW_PORT, { sendBufferSize: 0 })),
    dnsQueryType: await expectThrow(() => new TCPSocket(HOST, ALLOW_PORT, { dnsQueryType: 'ipv5' })),
    explainerNoPort: await expectThrow(() => navigator.openTCPSocket({ remoteAddress: HOST })),
    badHost: await expectThrow(() => new TCPSocket('exa mple.com', 80).opened),
  };

  // Direct Sockets shape; the first open asks the user (the test presses Allow).
  await gesture();
  const s = new TCPSocket(HOST, ALLOW_PORT, { noDelay: true });
  res.closeBeforeOpened = await expectThrow(() => s.close());
  const info = await s.opened;
  res.opened = {
    remoteAddress: info.remoteAddress, remotePort: info.remotePort,
    localAddress: info.localAddress, localPort: info.localPort,
    readableOnSocket: s.readable === info.readable, writableOnSocket: s.writable === info.writable,
  };
  res.direct = {
    bulk: await bulk(info.readable, info.writable, pattern(BULK, 1)),
    small: await pingPong(info.readable, info.writable, SMALL),
    halfClose: await halfClose(info.readable, info.writable),
  };
  await s.closed;
  res.direct.closed = true;

  // The explainer's shape, to the destination the user allowed for this page: no second prompt.
  const e = await navigator.openTCPSocket({ remoteAddress: HOST, remotePort: ALLOW_PORT });
  res.explainer = {
    hasStreams: e.readable instanceof ReadableStream && e.writable instanceof WritableStream,
    bulk: await bulk(e.readable, e.writable, pattern(BULK, 2)),
    small: await pingPong(e.readable, e.writable, SMALL),
  };
  await e.close();
  res.explainer.closed = true;

  // A destination the user denies (the test presses Escape).
  await gesture();
  res.denied = await expectThrow(() => new TCPSocket(HOST, DENY_PORT).opened);
  return res;
}

run().then(report, (e) => report({ fatal: errInfo(e), stack: String(e && e.stack) }));
