// The README screenshots' site: after a click it opens a socket to the echo server named in the
// port.json, sends some text and reads it back, and keeps the socket open.
'use strict';
(async () => {
  const port = await (await fetch('/port.json')).json();
  await gesture();
  const { readable, writable } = await new TCPSocket('127.0.0.1', port).opened;
  const writer = writable.getWriter();
  const reader = readable.getReader();
  const line = new TextEncoder().encode('STATUS?\r\n'.repeat(180));
  await writer.write(line);
  let got = 0;
  while (got < line.length) {
    const { value, done } = await reader.read();
    if (done) break;
    got += value.length;
  }
  document.getElementById('state').textContent = 'Connected: ' + got + ' bytes echoed.';
  await fetch('/result', { method: 'POST', body: JSON.stringify({ echoed: got }) });
})();
