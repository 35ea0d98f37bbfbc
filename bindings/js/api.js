// Socketeer page API: runs in the page's own script world of every frame of the profile's origin, at
// document start, before any page script. It defines both shapes of the socket API found in the wild:
// the 2020 explainer's navigator.openTCPSocket/openUDPSocket(options) and the Direct Sockets
// TCPSocket, UDPSocket and TCPServerSocket constructors.
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
  const READ_WINDOW = 4 << 20; // Go's initial read credit per socket (bindings.ReadWindow)
  const MAX_CHUNK = 65536;      // largest data frame (bindings.MaxChunk)
  const ACCEPT_WINDOW = 16;     // accepted connections a server's readable holds (bindings.acceptWindow)
  const CREDIT_STEP = 32 << 10; // the most read bytes the page leaves unreported (see returnCredit)
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
    bufferOptions(o, r);
    if (o.dnsQueryType !== undefined) {
      const q = String(o.dnsQueryType);
      if (q !== 'ipv4' && q !== 'ipv6') throw new TE('dnsQueryType must be "ipv4" or "ipv6"');
      r.dnsQueryType = q;
    }
    tlsOptions(o, r);
    return r;
  }
  function copyBytes(chunk, what) {
    if (chunk instanceof AB) return new U8(chunk).slice();
    if (isView(chunk)) return new U8(chunk.buffer, chunk.byteOffset, chunk.byteLength).slice();
    throw new TE(`${what} must be an ArrayBuffer or an ArrayBufferView`);
  }
  function isObject(o) { return o !== null && (typeof o === 'object' || typeof o === 'function'); }
  function optionsObject(o, api) {
    if (o === undefined || o === null) return {};
    if (!isObject(o)) throw new TE(`${api} options must be an object`);
    return o;
  }
  // IP literals, as the local address of a serving socket or the peer of a bound UDP socket must be.
  // Go parses them strictly again; this only makes the TypeError come from the call that caused it.
  const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
  const IPV6 = /^[0-9A-Fa-f:.]+$/;
  function ipLiteral(v, what) {
    const a = String(v);
    if (IPV4.test(a) || (a.includes(':') && IPV6.test(a) && a.length <= 45)) return a;
    throw new TE(`${what} must be an IP address`);
  }
  function isMulticast(a) {
    if (IPV4.test(a)) { const o = Number(a.split('.')[0]); return o >= 224 && o <= 239; }
    return /^ff[0-9a-f]{2}:/i.test(a);
  }
  function portOption(v, what) {
    const p = enforceRange(v, 65535, what);
    if (p === 0) throw new TE(`${what} must be from 1 to 65535; leave it out to let the system choose`);
    return p;
  }
  function bufferOptions(o, r) {
    for (const k of ['sendBufferSize', 'receiveBufferSize']) {
      if (o[k] !== undefined) {
        r[k] = enforceRange(o[k], 0xffffffff, k);
        if (r[k] === 0) throw new TE(`${k} must be greater than 0`);
      }
    }
  }
  function localOptions(localAddress, o, r) {
    r.localAddress = ipLiteral(localAddress, 'localAddress');
    if (o.localPort !== undefined) r.localPort = portOption(o.localPort, 'localPort');
    if (o.ipv6Only !== undefined) {
      if (r.localAddress !== '::') throw new TE('ipv6Only may be set only when localAddress is "::"');
      r.ipv6Only = !!o.ipv6Only;
    }
  }
  function udpOptions(o) {
    o = optionsObject(o, 'UDPSocket');
    const r = {};
    const remote = o.remoteAddress !== undefined;
    const local = o.localAddress !== undefined;
    if (remote && local) throw new TE('a UDPSocket takes either remoteAddress (connected mode) or localAddress (bound mode), not both');
    if (!remote && !local) {
      if (o.remotePort !== undefined) throw new TE('remoteAddress is required with remotePort');
      if (o.localPort !== undefined) throw new TE('localAddress is required with localPort');
      throw new TE('a UDPSocket needs remoteAddress and remotePort (connected mode) or localAddress (bound mode)');
    }
    if (remote) {
      r.remoteAddress = String(o.remoteAddress);
      if (r.remoteAddress === '') throw new TE('remoteAddress must not be empty');
      if (o.remotePort === undefined) throw new TE('remotePort is required with remoteAddress');
      r.remotePort = portOption(o.remotePort, 'remotePort');
      for (const k of ['localPort', 'ipv6Only', 'multicastTimeToLive', 'multicastLoopback', 'multicastAllowAddressSharing']) {
        if (o[k] !== undefined) throw new TE(`${k} is not an option of a connected UDPSocket`);
      }
      if (o.dnsQueryType !== undefined) {
        const q = String(o.dnsQueryType);
        if (q !== 'ipv4' && q !== 'ipv6') throw new TE('dnsQueryType must be "ipv4" or "ipv6"');
        r.dnsQueryType = q;
      }
    } else {
      if (o.remotePort !== undefined) throw new TE('remotePort is not an option of a bound UDPSocket');
      if (o.dnsQueryType !== undefined) throw new TE('dnsQueryType is not an option of a bound UDPSocket');
      localOptions(o.localAddress, o, r);
      if (o.multicastTimeToLive !== undefined) r.multicastTimeToLive = enforceRange(o.multicastTimeToLive, 255, 'multicastTimeToLive');
      if (o.multicastLoopback !== undefined) r.multicastLoopback = !!o.multicastLoopback;
      if (o.multicastAllowAddressSharing !== undefined) r.multicastAllowAddressSharing = !!o.multicastAllowAddressSharing;
    }
    bufferOptions(o, r);
    return r;
  }
  function serverOptions(localAddress, o) {
    o = optionsObject(o, 'TCPServerSocket');
    const r = {};
    localOptions(localAddress, o, r);
    if (o.backlog !== undefined) {
      r.backlog = enforceRange(o.backlog, 0xffffffff, 'backlog');
      if (r.backlog === 0) throw new TE('backlog must be greater than 0');
    }
    return r;
  }

  // Datagrams travel with a peer header: address length, the address as text, the port (Go's
  // bindings.putPeer). Connected sockets send an empty one.
  const MAX_DATAGRAM = MAX_CHUNK - 48; // bindings.MaxDatagram
  const DATAGRAM_OVERHEAD = 64; // read credit each datagram costs beyond its bytes (bindings.datagramOverhead)
  const ascii = new TextEncoder();
  const asciiDecoder = new TextDecoder();
  function encodeDatagram(msg, bound) {
    if (!isObject(msg)) throw new TE('a UDP message must be an object with a data member');
    const data = copyBytes(msg.data, 'the data of a UDP message');
    if (data.byteLength > MAX_DATAGRAM) throw new TE(`a datagram carries at most ${MAX_DATAGRAM} bytes`);
    let addr = '';
    let port = 0;
    if (bound) {
      if (msg.remoteAddress === undefined || msg.remotePort === undefined) {
        throw new TE('a bound UDPSocket needs remoteAddress and remotePort on every message');
      }
      addr = ipLiteral(msg.remoteAddress, 'remoteAddress');
      port = portOption(msg.remotePort, 'remotePort');
    } else if (msg.remoteAddress !== undefined || msg.remotePort !== undefined) {
      throw new TE('a connected UDPSocket sends to its remote end only: leave out remoteAddress and remotePort');
    }
    const a = ascii.encode(addr);
    const out = new U8(3 + a.byteLength + data.byteLength);
    out[0] = a.byteLength;
    out.set(a, 1);
    out[1 + a.byteLength] = port >> 8;
    out[2 + a.byteLength] = port & 0xff;
    out.set(data, 3 + a.byteLength);
    return out;
  }
  function decodeDatagram(b, bound) {
    const n = b[0];
    const data = b.subarray(3 + n);
    if (!bound) return { data };
    return {
      data,
      remoteAddress: asciiDecoder.decode(b.subarray(1, 1 + n)),
      remotePort: (b[1 + n] << 8) | b[2 + n],
    };
  }

  // Core is one socket's protocol state, shared by every API shape. kind is 'tcp', 'udp' or
  // 'tcp-server'; accepted TCP connections are made by acceptedCore, already open. A core made by
  // startTls() takes over the connection of the core it upgrades (upgradeOf) instead of opening one.
  class Core {
    constructor(kind, options, id, upgradeOf) {
      this.kind = kind;
      this.bound = kind === 'udp' && options.localAddress !== undefined;
      this.id = id || nextId++;
      this.state = 'opening';
      this.credit = 0;
      this.creditWaiters = [];
      this.received = 0;
      this.credited = 0;
      this.readCtl = null;
      this.writeCtl = null;
      this.readDone = false;
      this.writeDone = kind === 'tcp-server';
      this.info = null;
      this.opened = new P((res, rej) => { this.resolveOpened = res; this.rejectOpened = rej; });
      this.closed = new P((res, rej) => { this.resolveClosed = res; this.rejectClosed = rej; });
      // Unobserved rejections of `opened` and `closed` are not reported, as in Chrome.
      this.opened.catch(() => {});
      this.closed.catch(() => {});
      this.replies = new Map();
      this.nextSeq = 1;
      this.secureTransport = options.secureTransport || 'off';
      this.upgraded = false;
      sockets.set(this.id, this);
      if (upgradeOf) post({ op: 'startTls', id: upgradeOf.id, newId: this.id });
      else if (!id) post({ op: 'open', id: this.id, kind, options });
    }

    receive(m) {
      switch (m.op) {
        case 'opened': return this.onOpened(m.info || {});
        case 'data': return this.onData(m.data);
        case 'accepted': return this.onAccepted(m.info || {});
        case 'reply': return this.onReply(m.reply || {});
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

    // window is the readable's high-water mark, in the units Go counts read credit in: bytes for
    // TCP, bytes plus a per-datagram overhead for UDP, connections for a server.
    get window() { return this.kind === 'tcp-server' ? ACCEPT_WINDOW : READ_WINDOW; }

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
      if (this.kind === 'tcp') {
        // A byte stream lets pages use BYOB readers; WebKitGTK builds without byte-stream support
        // throw here, and get a default stream whose queue is measured in bytes instead.
        try {
          this.readable = new RS({ ...source, type: 'bytes' }, { highWaterMark: READ_WINDOW });
        } catch (e) {
          this.readable = new RS(source, { highWaterMark: READ_WINDOW, size: (chunk) => chunk.byteLength });
        }
      } else if (this.kind === 'udp') {
        this.readable = new RS(source, { highWaterMark: READ_WINDOW, size: (m) => m.data.byteLength + DATAGRAM_OVERHEAD });
      } else {
        this.readable = new RS(source, { highWaterMark: ACCEPT_WINDOW, size: () => 1 });
      }
      this.info = { readable: this.readable };
      if (this.kind !== 'tcp-server') {
        this.writable = new WS({
          start(c) { core.writeCtl = c; },
          write(chunk) { return core.kind === 'udp' ? core.writeDatagram(chunk) : core.write(chunk); },
          close() { core.writeDone = true; if (core.state === 'open') post({ op: 'shutdown', id: core.id }); },
          abort() { core.writeDone = true; if (core.state === 'open') post({ op: 'shutdown', id: core.id }); },
        });
        this.info.writable = this.writable;
      }
      if (info.remoteAddress !== undefined) {
        this.info.remoteAddress = String(info.remoteAddress);
        this.info.remotePort = Number(info.remotePort);
      }
      this.info.localAddress = String(info.localAddress);
      this.info.localPort = Number(info.localPort);
      if (this.bound) this.info.multicastController = new MulticastController(this);
      if (info.tls) this.info.tls = tlsInfo(info.tls);
      this.resolveOpened(this.info);
    }

    onData(data) {
      if (this.readDone || !(data instanceof U8)) return;
      if (this.kind === 'udp') {
        if (data.byteLength < 3) return;
        const msg = decodeDatagram(data, this.bound);
        this.received += msg.data.byteLength + DATAGRAM_OVERHEAD;
        this.readCtl.enqueue(msg);
        return;
      }
      this.received += data.byteLength;
      this.readCtl.enqueue(data);
    }

    // onAccepted hands the page a connection a server socket accepted, as an open TCPSocket.
    onAccepted(info) {
      if (this.kind !== 'tcp-server' || this.readDone || !Number.isInteger(info.id)) return;
      const c = new Core('tcp', {}, info.id);
      c.onOpened(info);
      const s = Object.create(TCPSocket.prototype);
      cores.set(s, c);
      this.received += 1;
      this.readCtl.enqueue(s);
    }

    onReply(r) {
      const w = this.replies.get(r.seq);
      if (!w) return;
      this.replies.delete(r.seq);
      if (r.error) w.rej(domError(String(r.error.name), String(r.error.message)));
      else w.res();
    }

    // control asks Go for a multicast membership change and resolves when it is made.
    control(request) {
      if (this.state !== 'open') return P.reject(new DOMEx('the socket is not open', 'InvalidStateError'));
      const seq = this.nextSeq++;
      return new P((res, rej) => {
        this.replies.set(seq, { res, rej });
        post({ op: 'control', id: this.id, request: { ...request, seq } });
      });
    }

    // closeReadable ends the readable; on a byte stream a pending BYOB read is answered too, since
    // closing alone leaves it waiting.
    closeReadable() {
      try { this.readCtl.close(); } catch (e) { /* already closed */ }
      try { if (this.readCtl.byobRequest) this.readCtl.byobRequest.respond(0); } catch (e) { /* no BYOB read */ }
    }

    // Credit goes back to Go as the page consumes what it received, every 32 KiB at most; a
    // page that stops reading therefore stops Go reading the OS socket (TCP then stops the sender,
    // UDP drops and counts, a server leaves connections in the kernel's backlog).
    returnCredit(c) {
      const queued = this.window - c.desiredSize;
      const consumed = this.received - queued;
      const n = consumed - this.credited;
      // At most CREDIT_STEP consumed bytes go unreported per socket: Go counts unreported bytes
      // against the site's read budget, which must never be held by data the page already read.
      if (n >= Math.max(1, Math.min(this.window / 4, CREDIT_STEP))) {
        this.credited = consumed;
        post({ op: 'credit', id: this.id, n });
      }
    }

    async waitCredit(n) {
      while (this.credit < n) {
        if (this.state !== 'open') throw this.error || new DOMEx('the socket is closed', 'InvalidStateError');
        await new P((res, rej) => this.creditWaiters.push({ res, rej }));
      }
      if (this.state !== 'open') throw this.error || new DOMEx('the socket is closed', 'InvalidStateError');
    }

    async write(chunk) {
      const bytes = copyBytes(chunk, 'a chunk written to a TCP socket');
      let off = 0;
      while (off < bytes.byteLength) {
        await this.waitCredit(1);
        const n = Math.min(MAX_CHUNK, bytes.byteLength - off, this.credit);
        const piece = (off === 0 && n === bytes.byteLength) ? bytes : bytes.slice(off, off + n);
        this.credit -= n;
        off += n;
        post({ op: 'data', id: this.id, data: piece });
      }
    }

    // writeDatagram sends one message as one datagram, never split; it waits for credit for all of it.
    async writeDatagram(msg) {
      const frame = encodeDatagram(msg, this.bound);
      await this.waitCredit(frame.byteLength);
      this.credit -= frame.byteLength;
      post({ op: 'data', id: this.id, data: frame });
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
      this.endReplies(err);
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
      this.endReplies(new DOMEx('the socket is closed', 'InvalidStateError'));
      this.resolveClosed();
    }

    endReplies(err) {
      for (const w of this.replies.values()) w.rej(err);
      this.replies.clear();
    }

    close() {
      if (this.state === 'opening') return P.reject(new DOMEx('the socket is not open yet', 'InvalidStateError'));
      // An upgraded socket's connection belongs to its TLS successor; it closes by itself.
      if (this.state !== 'open' || this.upgraded) return this.closed;
      if (this.readable.locked || (this.writable && this.writable.locked)) {
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
    const next = new Core('tcp', { secureTransport: 'on' }, undefined, this);
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

  // Members every socket class has; the stream and address getters mirror `opened` once it has
  // resolved, since real apps read them straight off the socket.
  function defineSocket(cls, name, members) {
    const proto = cls.prototype;
    const getters = {
      opened() { return core(this).opened; },
      closed() { return core(this).closed; },
    };
    for (const k of members) {
      getters[k] = function () { const c = core(this); return c.info && c.info[k] !== undefined ? c.info[k] : null; };
    }
    for (const [k, get] of Object.entries(getters)) {
      defineProperty(proto, k, { get, configurable: true, enumerable: true });
    }
    defineProperty(proto, 'close', {
      value: function close() { return core(this).close(); }, writable: true, configurable: true,
    });
    defineProperty(proto, Symbol.toStringTag, { value: name, configurable: true });
    defineProperty(self, name, { value: cls, writable: true, configurable: true, enumerable: false });
  }

  // MulticastController is a bound UDP socket's group membership (opened.multicastController).
  class MulticastController {
    constructor(c) {
      if (!(c instanceof Core)) throw new TE('Illegal constructor');
      controllers.set(this, { core: c, groups: [] });
    }
    joinGroup(group, options) { return membership(this, 'join', group, options); }
    leaveGroup(group, options) { return membership(this, 'leave', group, options); }
    get joinedGroups() {
      const m = controllers.get(this);
      if (!m) throw new TE('Illegal invocation');
      // A closed socket is a member of nothing.
      if (m.core.state !== 'open') return Object.freeze([]);
      return Object.freeze(m.groups.map((g) => (g.source ? Object.freeze({ groupAddress: g.group, sourceAddress: g.source }) : g.group)));
    }
  }
  const controllers = new WeakMap();
  function membership(self, op, group, options) {
    try {
      const m = controllers.get(self);
      if (!m) throw new TE('Illegal invocation');
      // One spelling per address, so that joining and leaving compare equal (IPv6 is case-blind).
      const g = String(group).toLowerCase();
      if (!isMulticast(g)) throw new TE('the group must be a multicast IP address (224.0.0.0/4 or ff00::/8)');
      const o = optionsObject(options, 'multicast');
      const source = o.sourceAddress === undefined ? '' : ipLiteral(o.sourceAddress, 'sourceAddress').toLowerCase();
      const i = m.groups.findIndex((x) => x.group === g && x.source === source);
      if (op === 'join' && i >= 0) throw new DOMEx('the socket has already joined this group', 'InvalidStateError');
      if (op === 'leave' && i < 0) throw new DOMEx('the socket has not joined this group', 'InvalidStateError');
      return m.core.control({ op, group: g, source }).then(() => {
        const j = m.groups.findIndex((x) => x.group === g && x.source === source);
        if (op === 'join' && j < 0) m.groups.push({ group: g, source });
        if (op === 'leave' && j >= 0) m.groups.splice(j, 1);
      });
    } catch (e) {
      return P.reject(e);
    }
  }
  defineProperty(MulticastController.prototype, Symbol.toStringTag, { value: 'MulticastController', configurable: true });
  defineProperty(self, 'MulticastController', { value: MulticastController, writable: true, configurable: true, enumerable: false });

  const CONNECTED = ['readable', 'writable', 'remoteAddress', 'remotePort', 'localAddress', 'localPort'];

  class TCPSocket {
    constructor(remoteAddress, remotePort, options) {
      if (arguments.length < 2) throw new TE('TCPSocket needs a remoteAddress and a remotePort');
      const host = String(remoteAddress);
      if (host === '') throw new TE('remoteAddress must not be empty');
      const port = portOption(remotePort, 'remotePort');
      cores.set(this, new Core('tcp', { ...tcpOptions(options), remoteAddress: host, remotePort: port }));
    }
    startTls() {
      const s = Object.create(TCPSocket.prototype);
      cores.set(s, core(this).startTls());
      return s;
    }
  }
  defineSocket(TCPSocket, 'TCPSocket', CONNECTED);

  class UDPSocket {
    constructor(options) {
      if (arguments.length < 1) throw new TE('UDPSocket needs an options object');
      cores.set(this, new Core('udp', udpOptions(options)));
    }
  }
  defineSocket(UDPSocket, 'UDPSocket', [...CONNECTED, 'multicastController']);

  class TCPServerSocket {
    constructor(localAddress, options) {
      if (arguments.length < 1) throw new TE('TCPServerSocket needs a localAddress');
      cores.set(this, new Core('tcp-server', serverOptions(localAddress, options)));
    }
  }
  defineSocket(TCPServerSocket, 'TCPServerSocket', ['readable', 'localAddress', 'localPort']);

  // The explainer's shape: a promise of a socket that carries its streams directly.
  function openTCPSocket(options) {
    try {
      if (!isObject(options)) throw new TE('openTCPSocket needs an options object');
      let s;
      if (options.remoteAddress === undefined) {
        // No address: the user chooses the destination in Socketeer's dialog, and the page learns
        // only what the user chose (from the socket's remoteAddress and remotePort).
        const o = tcpOptions(options);
        if (options.remotePort !== undefined) o.remotePort = portOption(options.remotePort, 'remotePort');
        s = Object.create(TCPSocket.prototype);
        cores.set(s, new Core('tcp', o));
      } else {
        if (options.remotePort === undefined) throw new TE('remotePort is required with remoteAddress');
        s = new TCPSocket(options.remoteAddress, options.remotePort, options);
      }
      return s.opened.then(() => s);
    } catch (e) {
      return P.reject(e);
    }
  }
  function openUDPSocket(options) {
    try {
      const s = new UDPSocket(options);
      return s.opened.then(() => s);
    } catch (e) {
      return P.reject(e);
    }
  }
  for (const [name, value] of [['openTCPSocket', openTCPSocket], ['openUDPSocket', openUDPSocket]]) {
    defineProperty(Navigator.prototype, name, { value, writable: true, configurable: true, enumerable: true });
  }
})();
