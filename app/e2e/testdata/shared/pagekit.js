// Shared by the test pages: how they describe errors, send their result, and echo a short text.
'use strict';

function errInfo(e) {
  return { name: e && e.name, message: String(e && e.message), isDOMException: e instanceof DOMException };
}

// report sends the page's result to the test, again when the request fails outright (it then never
// reached the test's server; see tell in gesture.js).
async function report(body) {
  for (let tries = 20; ; tries--) {
    try {
      await fetch('/result', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      return;
    } catch (e) {
      if (tries <= 1) throw e;
      await new Promise((res) => setTimeout(res, 250));
    }
  }
}

// roundTrip writes a short text and reads it back from an echo server.
async function roundTrip(info, text) {
  const writer = info.writable.getWriter();
  const reader = info.readable.getReader();
  await writer.write(new TextEncoder().encode(text));
  let got = '';
  while (got.length < text.length) {
    const { value, done } = await reader.read();
    if (done) break;
    got += new TextDecoder().decode(value);
  }
  writer.releaseLock();
  reader.releaseLock();
  return got;
}

// pattern, readExactly and bulk measure echo throughput (echo and tls pages).
function pattern(n, seed) {
  const a = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    a[i] = x & 0xff;
  }
  return a;
}

async function expectThrow(fn) {
  try { await fn(); return { threw: false }; } catch (e) { return errInfo(e); }
}

// readExactly reads n bytes and compares them with want (if given) as they arrive.
async function readExactly(reader, n, want) {
  let got = 0;
  let mismatch = -1;
  while (got < n) {
    const { value, done } = await reader.read();
    if (done) break;
    if (!(value instanceof Uint8Array)) throw new Error('chunk is not a Uint8Array');
    if (want && mismatch < 0) {
      for (let i = 0; i < value.length; i++) {
        if (value[i] !== want[got + i]) { mismatch = got + i; break; }
      }
    }
    got += value.length;
  }
  return { got, mismatch };
}

// bulk sends data in 64 KiB writes, pipelined (no await per write), while reading the echo.
async function bulk(readable, writable, data) {
  const writer = writable.getWriter();
  const reader = readable.getReader();
  const t0 = performance.now();
  const reading = readExactly(reader, data.length, data);
  for (let off = 0; off < data.length; off += 65536) {
    writer.write(data.subarray(off, off + 65536));
  }
  await writer.ready;
  const r = await reading;
  const ms = performance.now() - t0;
  writer.releaseLock();
  reader.releaseLock();
  return { bytes: r.got, mismatch: r.mismatch, ms, mbps: (data.length / 1e6) / (ms / 1000) };
}
