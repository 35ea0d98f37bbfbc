// Shared by the test pages: how they describe errors, send their result, and echo a short text.
'use strict';

function errInfo(e) {
  return { name: e && e.name, message: String(e && e.message), isDOMException: e instanceof DOMException };
}

async function report(body) {
  await fetch('/result', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
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
