// End-to-end TLS test page: TLS at open in both API shapes (with the older useSecureTransport
// alias), a pinned self-signed certificate, the refusals, plaintext throughput for comparison, and
// an IMAP STARTTLS upgrade. It posts what it saw to /result.
'use strict';

const params = new URLSearchParams(location.search);
const HOST = '127.0.0.1';
const TLS_PORT = Number(params.get('tls'));
const PLAIN_PORT = Number(params.get('plain'));
const IMAP_PORT = Number(params.get('imap'));
const BULK = 8 << 20;

function syncThrow(fn) {
  try { fn(); return { threw: false }; } catch (e) { return errInfo(e); }
}

// A line-oriented conversation over a socket's streams, as a mail client holds one.
class Conversation {
  constructor(info) {
    this.reader = info.readable.getReader();
    this.writer = info.writable.getWriter();
    this.text = '';
  }
  async send(line) { await this.writer.write(new TextEncoder().encode(line + '\r\n')); }
  // expect reads until the text received so far contains marker, and returns it.
  async expect(marker) {
    while (!this.text.includes(marker)) {
      const { value, done } = await this.reader.read();
      if (done) throw new Error('the server ended the conversation before ' + JSON.stringify(marker) + ': ' + this.text);
      this.text += new TextDecoder().decode(value);
    }
    const seen = this.text;
    this.text = '';
    return seen;
  }
  release() { this.reader.releaseLock(); this.writer.releaseLock(); }
}

async function run() {
  const res = {};
  res.api = { startTls: typeof TCPSocket.prototype.startTls };
  res.typeErrors = {
    badMode: await expectThrow(() => new TCPSocket(HOST, TLS_PORT, { secureTransport: 'tls' })),
    sniWithoutTLS: await expectThrow(() => new TCPSocket(HOST, TLS_PORT, { sni: 'a.example' })),
    alpnNotList: await expectThrow(() => new TCPSocket(HOST, TLS_PORT, { secureTransport: 'on', alpn: 42 })),
    alpnEmpty: await expectThrow(() => new TCPSocket(HOST, TLS_PORT, { secureTransport: 'on', alpn: [''] })),
    disagree: await expectThrow(() => new TCPSocket(HOST, TLS_PORT, { secureTransport: 'off', useSecureTransport: true })),
    // Checked by Go, so it rejects `opened` rather than throwing.
    sniAddress: await expectThrow(() => new TCPSocket(HOST, TLS_PORT, { secureTransport: 'on', sni: '10.0.0.1' }).opened),
  };

  // TLS at open, Direct Sockets shape. The first open asks the user (the test presses Allow).
  await gesture();
  const s = new TCPSocket(HOST, TLS_PORT, { secureTransport: 'on', alpn: ['x-unknown', 'echo'], noDelay: true });
  const info = await s.opened;
  res.tls = {
    info: info.tls,
    echo: await roundTrip(info, 'hello over TLS\n'),
    bulk: await bulk(info.readable, info.writable, pattern(BULK, 1)),
    startTlsOnTLS: syncThrow(() => s.startTls()),
  };
  await s.close();

  // The explainer's shape with the older alias: the same encrypted destination, so no new prompt.
  const e = await navigator.openTCPSocket({ remoteAddress: HOST, remotePort: TLS_PORT, useSecureTransport: true });
  const ei = await e.opened;
  res.alias = { version: ei.tls && ei.tls.version, echo: await roundTrip(ei, 'alias\n') };
  await e.close();

  // The server presents a self-signed, expired certificate for 127.0.0.1 that the profile pins.
  const p = new TCPSocket(HOST, TLS_PORT, { secureTransport: 'on', sni: 'pinned.test' });
  const pi = await p.opened;
  res.pinned = { info: pi.tls, echo: await roundTrip(pi, 'pinned\n') };
  await p.close();

  // What must fail; the sni value picks the certificate the test server presents.
  res.refusals = {};
  for (const name of ['expired', 'wronghost', 'unknown', 'drop']) {
    res.refusals[name] = await expectThrow(() => new TCPSocket(HOST, TLS_PORT, { secureTransport: 'on', sni: name + '.test' }).opened);
  }
  // The app still serves TLS sockets afterwards.
  const again = await new TCPSocket(HOST, TLS_PORT, { secureTransport: 'on' }).opened;
  res.afterRefusals = await roundTrip(again, 'still here\n');

  // Plaintext to an echo server, for the throughput comparison (a second prompt).
  await gesture();
  const plain = new TCPSocket(HOST, PLAIN_PORT);
  const pl = await plain.opened;
  res.plain = {
    hasTls: 'tls' in pl,
    bulk: await bulk(pl.readable, pl.writable, pattern(BULK, 2)),
    startTls: syncThrow(() => plain.startTls()),
  };
  await plain.close();

  // IMAP STARTTLS (RFC 3501 section 6.2.1), a third prompt.
  await gesture();
  const m = new TCPSocket(HOST, IMAP_PORT, { secureTransport: 'starttls' });
  const mi = await m.opened;
  const c = new Conversation(mi);
  const imap = { openedTls: 'tls' in mi };
  imap.greeting = await c.expect('\r\n');
  await c.send('a1 CAPABILITY');
  imap.capability = await c.expect('a1 OK');
  await c.send('a2 STARTTLS');
  imap.starttls = await c.expect('a2 OK');
  const t = m.startTls();
  imap.secondStartTls = syncThrow(() => m.startTls());
  imap.oldWriteRejected = await expectThrow(() => c.writer.write(new Uint8Array([1])));
  imap.oldReadDone = (await c.reader.read()).done;
  c.release();
  await m.closed;
  imap.oldClosed = true;
  const ti = await t.opened;
  imap.info = ti.tls;
  imap.remotePort = ti.remotePort;
  const tc = new Conversation(ti);
  await tc.send('a3 CAPABILITY');
  imap.capabilityOverTLS = await tc.expect('a3 OK');
  await tc.send('a4 LOGOUT');
  imap.logout = await tc.expect('a4 OK');
  tc.release();
  await t.close();
  imap.closed = true;
  res.imap = imap;
  return res;
}

run().then(report, (e) => report({ fatal: errInfo(e), stack: String(e && e.stack) }));
