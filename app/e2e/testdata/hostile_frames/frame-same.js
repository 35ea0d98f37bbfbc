// Same-origin frame of TestHostileFrames: a frame of the site itself is the site, so it has the
// socket API and may open a socket after its own consent dialog.
'use strict';

async function run() {
  const port = Number(new URLSearchParams(location.search).get('echo'));
  const res = { origin: self.origin, api: typeof TCPSocket, openTCPSocket: typeof navigator.openTCPSocket };
  try {
    await gesture();
    const s = new TCPSocket('127.0.0.1', port);
    const info = await s.opened;
    const writer = info.writable.getWriter();
    const reader = info.readable.getReader();
    await writer.write(new TextEncoder().encode('same'));
    let got = '';
    while (got.length < 4) {
      const { value, done } = await reader.read();
      if (done) break;
      got += new TextDecoder().decode(value);
    }
    writer.releaseLock();
    reader.releaseLock();
    await s.close();
    res.echoed = got;
  } catch (e) {
    res.error = { name: e && e.name, message: String(e && e.message) };
  }
  return res;
}

run().then((res) => parent.postMessage(res, location.origin));
