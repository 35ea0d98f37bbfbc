// Socketeer relay: runs in an isolated script world of every frame of the profile's origin, at document
// start. Page script cannot see this world's variables or wrap its functions, so the bridge token in
// CONFIG stays private to it. It carries socket traffic between the page-world API (through
// CustomEvents on the document, which cross worlds as structured clones) and Go (through one loopback
// WebSocket per document, opened on first use). It validates what it forwards, but Go validates again:
// a page can dispatch these events itself.
(() => {
  'use strict';
  const CONFIG = /*CONFIG*/ null;
  if (!CONFIG || !self.isSecureContext || self.origin !== CONFIG.origin) return;
  // Threat: third-party embedding. A frame of our origin nested inside a foreign frame gets nothing.
  const ancestors = location.ancestorOrigins;
  if (ancestors) {
    for (let i = 0; i < ancestors.length; i++) {
      if (ancestors[i] !== CONFIG.origin) return;
    }
  }

  const OUT = 'socketeer:out';
  const IN = 'socketeer:in';
  const MAX_CHUNK = 65536;
  // No prototype: a page must not reach Go with an op name like 'toString'.
  const OPS = Object.assign(Object.create(null), { open: 1, data: 2, shutdown: 3, close: 4, credit: 5, shutdownRead: 6, control: 7, startTls: 0x10 });
  const KINDS = Object.assign(Object.create(null), { tcp: 1, udp: 1, 'tcp-server': 1 });
  // Ids from 2^31 up are Go's, for accepted connections (bindings.FirstAcceptedID).
  const FIRST_ACCEPTED_ID = 0x80000000;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  let ws = null;
  let ready = false;
  // Once the bridge connection of this document has ended (Go dropped it, or the page is going
  // away), it is not opened again: a document that could reconnect at will could also outlive the
  // navigation that was meant to end its sockets.
  let lost = false;
  let pending = [];
  const live = new Set();

  // Threat: connections without the user knowing. Opening a socket to a destination without a grant
  // needs a real input event on this document, and each event serves one such request (Go keeps
  // the number of the last one used). Only trusted events count: script-made events and an overridden
  // navigator.userActivation live in the page's world and cannot reach this one, and Socketeer never
  // runs script in pages, so it never hands out a forced user gesture either.
  let inputSeq = 0;
  let inputAt = 0;
  for (const type of ['pointerdown', 'mousedown', 'keydown', 'touchstart']) {
    addEventListener(type, (e) => {
      if (e.isTrusted) {
        inputSeq++;
        inputAt = performance.now();
      }
    }, true);
  }
  function activation() {
    const ua = navigator.userActivation;
    if (ua && !ua.isActive) return 0;
    if (inputSeq === 0 || performance.now() - inputAt > 5000) return 0;
    return inputSeq;
  }

  function toPage(detail) {
    document.dispatchEvent(new CustomEvent(IN, { detail }));
  }

  function frame(op, id, payload) {
    const buf = new Uint8Array(5 + (payload ? payload.byteLength : 0));
    buf[0] = op;
    new DataView(buf.buffer).setUint32(1, id);
    if (payload) buf.set(payload, 5);
    return buf;
  }

  function failAll(message) {
    for (const id of live) toPage({ op: 'error', id, name: 'NetworkError', message });
    live.clear();
  }

  // fromGo hands one frame from Go to the page.
  function fromGo(buf) {
    const view = new DataView(buf);
    const op = view.getUint8(0);
    const id = view.getUint32(1);
    switch (op) {
      case 0x81: toPage({ op: 'opened', id, info: JSON.parse(decoder.decode(new Uint8Array(buf, 5))) }); break;
      case 0x82: toPage({ op: 'data', id, data: new Uint8Array(buf, 5) }); break;
      case 0x83: toPage({ op: 'eof', id }); break;
      case 0x84: {
        const e = JSON.parse(decoder.decode(new Uint8Array(buf, 5)));
        live.delete(id);
        toPage({ op: 'error', id, name: String(e.name), message: String(e.message) });
        break;
      }
      case 0x85: toPage({ op: 'credit', id, n: view.getUint32(5) }); break;
      case 0x86: live.delete(id); toPage({ op: 'closed', id }); break;
      case 0x87: {
        const info = JSON.parse(decoder.decode(new Uint8Array(buf, 5)));
        live.add(info.id);
        toPage({ op: 'accepted', id, info });
        break;
      }
      case 0x88: toPage({ op: 'reply', id, reply: JSON.parse(decoder.decode(new Uint8Array(buf, 5))) }); break;
    }
  }

  function connect() {
    ws = new WebSocket(CONFIG.url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      ready = true;
      for (const f of pending) ws.send(f);
      pending = [];
    };
    ws.onmessage = (ev) => {
      const buf = ev.data;
      if (!(buf instanceof ArrayBuffer) || buf.byteLength < 5) return;
      const view = new DataView(buf);
      if (view.getUint8(0) !== 0x8f) {
        fromGo(buf);
        return;
      }
      // A batch (bindings.OpBatch): frames that waited while Go was writing, each with its length.
      // Each is copied out, so that what reaches the page holds only its own bytes.
      for (let off = 5; off + 4 <= buf.byteLength;) {
        const n = view.getUint32(off);
        off += 4;
        if (n < 5 || off + n > buf.byteLength) return;
        fromGo(buf.slice(off, off + n));
        off += n;
      }
    };
    ws.onclose = () => {
      ws = null;
      ready = false;
      lost = true;
      pending = [];
      failAll('the connection to Socketeer was lost');
    };
  }

  // Frames leave one WebSocket message each, except that frames sent in the same task after the
  // first wait for the task to end and leave together as one batch (bindings.OpBatchIn): a page that
  // writes many small datagrams or chunks in a row pays for one message, and a lone frame (a ping)
  // still leaves at once.
  let batching = false;
  let batch = [];
  let batchBytes = 0;
  const endOfTask = new MessageChannel();
  endOfTask.port1.onmessage = () => {
    batching = false;
    flushBatch();
  };
  function flushBatch() {
    if (batch.length === 0) return;
    if (batch.length === 1) {
      transmit(batch[0]);
    } else {
      const out = new Uint8Array(5 + 4 * batch.length + batchBytes);
      const view = new DataView(out.buffer);
      out[0] = 0x0f;
      let off = 5;
      for (const f of batch) {
        view.setUint32(off, f.byteLength);
        out.set(f, off + 4);
        off += 4 + f.byteLength;
      }
      transmit(out);
    }
    batch = [];
    batchBytes = 0;
  }
  function transmit(f) {
    if (ready) ws.send(f); else pending.push(f);
  }
  function send(f) {
    if (lost) return;
    if (!ws) connect();
    if (!batching) {
      batching = true;
      endOfTask.port2.postMessage(null);
      transmit(f);
      return;
    }
    // Large frames gain nothing from company and would only be copied: they leave on their own,
    // after what waited before them.
    if (f.byteLength >= 8192) {
      flushBatch();
      transmit(f);
      return;
    }
    batch.push(f);
    batchBytes += f.byteLength;
    if (batchBytes >= 256 << 10) flushBatch(); // well under bindings.MaxBatch
  }

  document.addEventListener(OUT, (ev) => {
    const m = ev.detail;
    if (!m || typeof m !== 'object') return;
    const id = m.id;
    if (!Number.isInteger(id) || id < 1 || id > 0xffffffff) return;
    const op = OPS[m.op];
    if (!op) return;
    switch (m.op) {
      case 'open': {
        if (lost) {
          toPage({ op: 'error', id, name: 'NetworkError', message: 'the connection to Socketeer was lost; reload the page' });
          break;
        }
        // Only the known option fields travel; Go rejects anything malformed.
        if (id >= FIRST_ACCEPTED_ID || !KINDS[m.kind]) return;
        const o = m.options || {};
        const req = { kind: m.kind };
        for (const k of ['remoteAddress', 'remotePort', 'noDelay', 'keepAlive', 'keepAliveDelay',
          'sendBufferSize', 'receiveBufferSize', 'dnsQueryType', 'localAddress', 'localPort', 'backlog',
          'ipv6Only', 'multicastTimeToLive', 'multicastLoopback', 'multicastAllowAddressSharing',
          'secureTransport', 'sni', 'alpn']) {
          if (o[k] !== undefined && o[k] !== null) req[k] = o[k];
        }
        req.activation = activation();
        live.add(id);
        send(frame(op, id, encoder.encode(JSON.stringify(req))));
        break;
      }
      case 'data': {
        const d = m.data;
        if (!(d instanceof Uint8Array) || d.byteLength === 0 || d.byteLength > MAX_CHUNK) return;
        send(frame(op, id, d));
        break;
      }
      case 'credit': {
        const n = m.n;
        if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) return;
        const p = new Uint8Array(4);
        new DataView(p.buffer).setUint32(0, n);
        send(frame(op, id, p));
        break;
      }
      case 'control': {
        const r = m.request;
        if (!r || typeof r !== 'object') return;
        const body = encoder.encode(JSON.stringify({ seq: r.seq, op: r.op, group: r.group, source: r.source }));
        if (body.byteLength > 4096) return;
        send(frame(op, id, body));
        break;
      }
      case 'startTls': {
        // The upgraded socket takes a new id; Go answers on it.
        const n = m.newId;
        if (!Number.isInteger(n) || n < 1 || n >= FIRST_ACCEPTED_ID) return;
        if (lost) {
          toPage({ op: 'error', id: n, name: 'NetworkError', message: 'the connection to Socketeer was lost; reload the page' });
          break;
        }
        const p = new Uint8Array(4);
        new DataView(p.buffer).setUint32(0, n);
        live.add(n);
        send(frame(op, id, p));
        break;
      }
      case 'shutdown':
      case 'close':
      case 'shutdownRead':
        if (ws) send(frame(op, id, null));
        break;
    }
  });

  // Reload, navigation and the back/forward cache: the document's sockets end with it.
  addEventListener('pagehide', () => {
    if (ws) ws.close();
  });
})();
