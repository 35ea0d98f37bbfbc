// Socketeer page API: runs in the page's own script world of every frame of the profile's origin, at
// document start, before any page script. It defines both shapes of the socket API found in the wild:
// the 2020 explainer's navigator.openTCPSocket(options) and the Direct Sockets TCPSocket constructor.
// It holds no secret and no privilege: everything it does, it asks of the isolated-world relay through
// CustomEvents, and the relay and Go check everything again. A page that tampers with it only breaks
// its own sockets.
(() => {
  'use strict';
  const ORIGIN = /*ORIGIN*/ null;
  // Threat: MITM injecting calls. The API exists only in secure contexts of the profile's origin.
  if (!ORIGIN || !self.isSecureContext || self.origin !== ORIGIN) return;
  // Threat: third-party embedding. As in the relay, a frame inside a foreign frame gets no API, so
  // feature detection tells the truth there.
  const ancestors = location.ancestorOrigins;
  if (ancestors) {
    for (let i = 0; i < ancestors.length; i++) {
      if (ancestors[i] !== ORIGIN) return;
    }
  }

  // Keep our own references, so a page that later replaces globals does not change how we behave.
  const doc = document;
  const dispatch = EventTarget.prototype.dispatchEvent;
  const listen = EventTarget.prototype.addEventListener;
  const CE = CustomEvent;
  const DOMEx = DOMException;
  const TE = TypeError;
  const RS = ReadableStream;
  const WS = WritableStream;
  const U8 = Uint8Array;
  const AB = ArrayBuffer;
  const isView = ArrayBuffer.isView;
  const P = Promise;
  const defineProperty = Object.defineProperty;

  const OUT = 'socketeer:out';
  const IN = 'socketeer:in';
  const READ_WINDOW = 1 << 20; // Go's initial read credit per socket (bindings.ReadWindow)
  const MAX_CHUNK = 65536;      // largest data frame (bindings.MaxChunk)
  const sockets = new Map();
  let nextId = 1;

  const post = (detail) => { dispatch.call(doc, new CE(OUT, { detail })); };
  listen.call(doc, IN, (ev) => {
    const m = ev.detail;
    if (!m || typeof m !== 'object') return;
    const core = sockets.get(m.id);
    if (core) core.receive(m);
  });

  function domError(name, message) {
    if (name === 'TypeError') return new TE(message);
    return new DOMEx(message, name);
  }

  // WebIDL conversions, so argument errors are TypeErrors thrown where browsers throw them.
  function enforceRange(v, max, what) {
    const x = Number(v);
    if (!Number.isFinite(x)) throw new TE(`${what} must be a finite number`);
    const t = Math.trunc(x);
    if (t < 0 || t > max) throw new TE(`${what} is out of range`);
    return t;
  }
  function tcpOptions(o) {
    if (o === undefined || o === null) o = {};
    if (typeof o !== 'object' && typeof o !== 'function') throw new TE('options must be an object');
    const r = { noDelay: !!o.noDelay, keepAlive: !!o.keepAlive };
    if (o.keepAliveDelay !== undefined) {
      r.keepAliveDelay = enforceRange(o.keepAliveDelay, Number.MAX_SAFE_INTEGER, 'keepAliveDelay');
      if (r.keepAliveDelay < 1000) throw new TE('keepAliveDelay must be at least 1000 ms');
    }
    for (const k of ['sendBufferSize', 'receiveBufferSize']) {
      if (o[k] !== undefined) {
        r[k] = enforceRange(o[k], 0xffffffff, k);
        if (r[k] === 0) throw new TE(`${k} must be greater than 0`);
      }
    }
    if (o.dnsQueryType !== undefined) {
      const q = String(o.dnsQueryType);
      if (q !== 'ipv4' && q !== 'ipv6') throw new TE('dnsQueryType must be "ipv4" or "ipv6"');
      r.dnsQueryType = q;
    }
    tlsOptions(o, r);
    return r;
  }
  function copyBytes(chunk) {
    if (chunk instanceof AB) return new U8(chunk).slice();
    if (isView(chunk)) return new U8(chunk.buffer, chunk.byteOffset, chunk.byteLength).slice();
    throw new TE('a chunk written to a TCP socket must be an ArrayBuffer or an ArrayBufferView');
  }

  // Core is one socket's protocol state, shared by both API shapes. A core made by startTls() takes
  // over the connection of the core it upgrades (upgradeOf) instead of opening one.
  class Core {
    constructor(remoteAddress, remotePort, options, upgradeOf) {
      this.id = nextId++;
      this.state = 'opening';
      this.credit = 0;
      this.creditWaiters = [];
      this.received = 0;
      this.credited = 0;
      this.readCtl = null;
      this.writeCtl = null;
      this.readDone = false;
      this.writeDone = false;
      this.info = null;
      this.opened = new P((res, rej) => { this.resolveOpened = res; this.rejectOpened = rej; });
      this.closed = new P((res, rej) => { this.resolveClosed = res; this.rejectClosed = rej; });
      // An unobserved `closed` rejection is not reported, as in Chrome.
      this.closed.catch(() => {});
      this.secureTransport = options.secureTransport || 'off';
      this.upgraded = false;
      sockets.set(this.id, this);
      if (upgradeOf) post({ op: 'startTls', id: upgradeOf.id, newId: this.id });
      else post({ op: 'open', id: this.id, options: { ...options, remoteAddress, remotePort } });
    }

    receive(m) {
      switch (m.op) {
        case 'opened': return this.onOpened(m.info || {});
        case 'data': return this.onData(m.data);
        case 'eof':
          if (!this.readDone) { this.readDone = true; this.closeReadable(); }
          return;
        case 'credit':
          this.credit += m.n;
          this.wakeWriters();
          return;
        case 'error': return this.fail(domError(String(m.name), String(m.message)));
        case 'closed': return this.finish();
      }
    }

    onOpened(info) {
      if (this.state !== 'opening') return;
      this.state = 'open';
      const core = this;
      const source = {
        start(c) { core.readCtl = c; },
        pull(c) { core.returnCredit(c); },
        cancel() {
          core.readDone = true;
          if (core.state === 'open') post({ op: 'shutdownRead', id: core.id });
        },
      };
      // A byte stream lets pages use BYOB readers; WebKitGTK builds without byte-stream support
      // throw here, and get a default stream whose queue is measured in bytes instead.
      try {
        this.readable = new RS({ ...source, type: 'bytes' }, { highWaterMark: READ_WINDOW });
      } catch (e) {
        this.readable = new RS(source, { highWaterMark: READ_WINDOW, size: (chunk) => chunk.byteLength });
      }
      this.writable = new WS({
        start(c) { core.writeCtl = c; },
        write(chunk) { return core.write(chunk); },
        close() { core.writeDone = true; if (core.state === 'open') post({ op: 'shutdown', id: core.id }); },
        abort() { core.writeDone = true; if (core.state === 'open') post({ op: 'shutdown', id: core.id }); },
      });
      this.info = {
        readable: this.readable,
        writable: this.writable,
        remoteAddress: String(info.remoteAddress),
        remotePort: Number(info.remotePort),
        localAddress: String(info.localAddress),
        localPort: Number(info.localPort),
      };
      if (info.tls) this.info.tls = tlsInfo(info.tls);
      this.resolveOpened(this.info);
    }

    onData(data) {
      if (this.readDone || !(data instanceof U8)) return;
      this.received += data.byteLength;
      this.readCtl.enqueue(data);
    }

    // closeReadable ends the readable; on a byte stream a pending BYOB read is answered too, since
    // closing alone leaves it waiting.
    closeReadable() {
      try { this.readCtl.close(); } catch (e) { /* already closed */ }
      try { if (this.readCtl.byobRequest) this.readCtl.byobRequest.respond(0); } catch (e) { /* no BYOB read */ }
    }

    // Credit goes back to Go as the page consumes data, a quarter window at a time; a page that
    // stops reading therefore stops Go reading the OS socket, and TCP stops the sender.
    returnCredit(c) {
      const queued = READ_WINDOW - c.desiredSize;
      const consumed = this.received - queued;
      const n = consumed - this.credited;
      if (n >= READ_WINDOW / 4) {
        this.credited = consumed;
        post({ op: 'credit', id: this.id, n });
      }
    }

    async write(chunk) {
      const bytes = copyBytes(chunk);
      let off = 0;
      while (off < bytes.byteLength) {
        while (this.credit <= 0) {
          if (this.state !== 'open') throw this.error || new DOMEx('the socket is closed', 'InvalidStateError');
          await new P((res, rej) => this.creditWaiters.push({ res, rej }));
        }
        if (this.state !== 'open') throw this.error || new DOMEx('the socket is closed', 'InvalidStateError');
        const n = Math.min(MAX_CHUNK, bytes.byteLength - off, this.credit);
        const piece = (off === 0 && n === bytes.byteLength) ? bytes : bytes.slice(off, off + n);
        this.credit -= n;
        off += n;
        post({ op: 'data', id: this.id, data: piece });
      }
    }

    wakeWriters() {
      const w = this.creditWaiters;
      this.creditWaiters = [];
      for (const x of w) x.res();
    }

    fail(err) {
      if (this.state === 'closed' || this.state === 'errored') return;
      const wasOpening = this.state === 'opening';
      this.state = 'errored';
      this.error = err;
      sockets.delete(this.id);
      if (wasOpening) this.rejectOpened(err);
      if (this.readCtl && !this.readDone) { this.readDone = true; try { this.readCtl.error(err); } catch (e) { /* done */ } }
      if (this.writeCtl && !this.writeDone) { this.writeDone = true; try { this.writeCtl.error(err); } catch (e) { /* done */ } }
      const w = this.creditWaiters;
      this.creditWaiters = [];
      for (const x of w) x.rej(err);
      this.rejectClosed(err);
    }

    finish() {
      if (this.state === 'closed' || this.state === 'errored') return;
      this.state = 'closed';
      sockets.delete(this.id);
      if (this.readCtl && !this.readDone) { this.readDone = true; this.closeReadable(); }
      if (this.writeCtl && !this.writeDone) {
        this.writeDone = true;
        try { this.writeCtl.error(new DOMEx('the socket is closed', 'InvalidStateError')); } catch (e) { /* done */ }
      }
      this.wakeWriters();
      this.resolveClosed();
    }

    close() {
      if (this.state === 'opening') return P.reject(new DOMEx('the socket is not open yet', 'InvalidStateError'));
      // An upgraded socket's connection belongs to its TLS successor; it closes by itself.
      if (this.state !== 'open' || this.upgraded) return this.closed;
      if (this.readable.locked || this.writable.locked) {
        return P.reject(new DOMEx('a stream of the socket is locked', 'InvalidStateError'));
      }
      post({ op: 'close', id: this.id });
      return this.closed;
    }
  }

  // ---- TLS (secureTransport, sni, alpn, startTls) ----
  const MODES = { on: 'on', off: 'off', starttls: 'starttls' };
  const utf8 = new TextEncoder();

  // tlsOptions converts the TLS options: secureTransport ("on", "off", "starttls"), the older
  // boolean useSecureTransport, sni and alpn. Go checks all of it again.
  function tlsOptions(o, r) {
    let mode;
    if (o.secureTransport !== undefined) {
      mode = MODES[String(o.secureTransport)];
      if (typeof mode !== 'string') throw new TE('secureTransport must be "on", "off" or "starttls"');
    }
    if (o.useSecureTransport !== undefined) {
      const alias = o.useSecureTransport ? 'on' : 'off';
      if (mode !== undefined && (mode === 'on') !== (alias === 'on')) {
        throw new TE('secureTransport and useSecureTransport disagree');
      }
      if (mode === undefined) mode = alias;
    }
    if (mode !== undefined) r.secureTransport = mode;
    const secure = mode === 'on' || mode === 'starttls';
    if (o.sni !== undefined) {
      if (!secure) throw new TE('sni needs secureTransport "on" or "starttls"');
      r.sni = String(o.sni);
      if (r.sni === '') throw new TE('sni must not be empty');
    }
    if (o.alpn !== undefined) {
      if (!secure) throw new TE('alpn needs secureTransport "on" or "starttls"');
      if (o.alpn === null || typeof o.alpn !== 'object' || typeof o.alpn[Symbol.iterator] !== 'function') {
        throw new TE('alpn must be a sequence of protocol names');
      }
      const list = [];
      for (const p of o.alpn) {
        const name = String(p);
        const n = utf8.encode(name).byteLength;
        if (n < 1 || n > 255) throw new TE('every alpn protocol must be 1 to 255 bytes long');
        list.push(name);
        if (list.length > 16) throw new TE('alpn lists at most 16 protocols');
      }
      r.alpn = list;
    }
  }

  // tlsInfo is what `opened` reports about a TLS session.
  function tlsInfo(t) {
    const c = t.peerCertificate || {};
    return {
      version: String(t.version),
      cipherSuite: String(t.cipherSuite),
      alpnProtocol: t.alpnProtocol ? String(t.alpnProtocol) : null,
      peerCertificate: {
        subject: String(c.subject),
        issuer: String(c.issuer),
        validFrom: String(c.validFrom),
        validTo: String(c.validTo),
        sha256Fingerprint: String(c.sha256Fingerprint),
        pinned: !!c.pinned,
      },
    };
  }

  // startTls hands this socket's connection to a new core that opens once the TLS handshake is
  // done. This socket's streams end here: its readable closes (what was already received can still
  // be read) and its writable errors.
  Core.prototype.startTls = function startTls() {
    if (this.secureTransport !== 'starttls') {
      throw new DOMEx('startTls() needs a socket opened with secureTransport: "starttls"', 'InvalidStateError');
    }
    if (this.upgraded) throw new DOMEx('startTls() was already called on this socket', 'InvalidStateError');
    if (this.state !== 'open') throw new DOMEx('the socket is not open', 'InvalidStateError');
    if (this.readDone || this.writeDone) throw new DOMEx("the socket's streams are closed", 'InvalidStateError');
    this.upgraded = true;
    const next = new Core(undefined, undefined, { secureTransport: 'on' }, this);
    this.readDone = true;
    this.closeReadable();
    this.writeDone = true;
    try {
      this.writeCtl.error(new DOMEx('the socket was upgraded to TLS; use the socket startTls() returned', 'InvalidStateError'));
    } catch (e) { /* done */ }
    return next;
  };
  // ---- end of TLS ----

  const cores = new WeakMap();
  function core(self) {
    const c = cores.get(self);
    if (!c) throw new TE('Illegal invocation');
    return c;
  }

  class TCPSocket {
    constructor(remoteAddress, remotePort, options) {
      if (arguments.length < 2) throw new TE('TCPSocket needs a remoteAddress and a remotePort');
      const host = String(remoteAddress);
      if (host === '') throw new TE('remoteAddress must not be empty');
      const port = enforceRange(remotePort, 65535, 'remotePort');
      if (port === 0) throw new TE('remotePort must be from 1 to 65535');
      cores.set(this, new Core(host, port, tcpOptions(options)));
    }
    get opened() { return core(this).opened; }
    get closed() { return core(this).closed; }
    close() { return core(this).close(); }
    // Real apps read these straight off the socket once it is open.
    get readable() { const c = core(this); return c.info ? c.readable : null; }
    get writable() { const c = core(this); return c.info ? c.writable : null; }
    get remoteAddress() { const c = core(this); return c.info ? c.info.remoteAddress : null; }
    get remotePort() { const c = core(this); return c.info ? c.info.remotePort : null; }
    get localAddress() { const c = core(this); return c.info ? c.info.localAddress : null; }
    get localPort() { const c = core(this); return c.info ? c.info.localPort : null; }
    startTls() {
      const s = Object.create(TCPSocket.prototype);
      cores.set(s, core(this).startTls());
      return s;
    }
  }
  defineProperty(TCPSocket.prototype, Symbol.toStringTag, { value: 'TCPSocket', configurable: true });
  defineProperty(self, 'TCPSocket', { value: TCPSocket, writable: true, configurable: true, enumerable: false });

  // The explainer's shape: a promise of a socket that carries its streams directly.
  function openTCPSocket(options) {
    try {
      if (options === undefined || options === null || typeof options !== 'object') {
        throw new TE('openTCPSocket needs an options object');
      }
      let s;
      if (options.remoteAddress === undefined) {
        // No address: the user chooses the destination in Socketeer's dialog, and the page learns
        // only what the user chose (from the socket's remoteAddress and remotePort).
        let port;
        if (options.remotePort !== undefined) {
          port = enforceRange(options.remotePort, 65535, 'remotePort');
          if (port === 0) throw new TE('remotePort must be from 1 to 65535');
        }
        s = Object.create(TCPSocket.prototype);
        cores.set(s, new Core(undefined, port, tcpOptions(options)));
      } else {
        if (options.remotePort === undefined) throw new TE('remotePort is required with remoteAddress');
        s = new TCPSocket(options.remoteAddress, options.remotePort, options);
      }
      return s.opened.then(() => s);
    } catch (e) {
      return P.reject(e);
    }
  }
  defineProperty(Navigator.prototype, 'openTCPSocket', {
    value: openTCPSocket, writable: true, configurable: true, enumerable: true,
  });
})();
