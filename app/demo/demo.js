// The socket console: a plain web page that uses the Direct Sockets shape of the API.
'use strict';

const $ = (id) => document.getElementById(id);
const encoder = new TextEncoder();
let socket = null;
let writer = null;

function log(text, cls) {
  const line = document.createElement('span');
  line.textContent = text;
  if (cls) line.className = cls;
  $('log').append(line);
  $('log').scrollTop = $('log').scrollHeight;
}

function setStatus(text, isError) {
  $('status').textContent = text;
  $('status').classList.toggle('error', !!isError);
}

function setConnected(on) {
  $('connect').disabled = on;
  $('disconnect').disabled = !on;
  $('message').disabled = !on;
  $('send').disabled = !on;
  $('host').disabled = on;
  $('port').disabled = on;
  if (on) $('message').focus();
}

async function connect(host, port) {
  setStatus(`Connecting to ${host}:${port}…`);
  try {
    socket = new TCPSocket(host, port, { noDelay: true });
    const { readable, writable, remoteAddress, remotePort, localPort } = await socket.opened;
    writer = writable.getWriter();
    setConnected(true);
    setStatus(`Connected to ${remoteAddress}:${remotePort} (local port ${localPort}).`);
    log(`— connected to ${remoteAddress}:${remotePort}\n`, 'note');
    const decoder = new TextDecoder();
    const reader = readable.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      log(decoder.decode(value, { stream: true }));
    }
    log('— the other side finished sending\n', 'note');
    reader.releaseLock();
    await socket.closed;
    setStatus('Connection closed.');
  } catch (e) {
    setStatus(`${e.name}: ${e.message}`, true);
    log(`— ${e.name}: ${e.message}\n`, 'note');
  } finally {
    socket = null;
    writer = null;
    setConnected(false);
  }
}

$('connect-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  connect($('host').value.trim(), Number($('port').value));
});

$('disconnect').addEventListener('click', async () => {
  if (!writer) return;
  setStatus('Closing…');
  try { await writer.close(); } catch (e) { setStatus(`${e.name}: ${e.message}`, true); }
});

$('send-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (!writer) return;
  const text = $('message').value + '\n';
  $('message').value = '';
  log(text, 'sent');
  try { await writer.write(encoder.encode(text)); } catch (e) { setStatus(`${e.name}: ${e.message}`, true); }
});

(async () => {
  if (typeof TCPSocket !== 'function') {
    $('api-missing').hidden = false;
    $('connect').disabled = true;
    return;
  }
  try {
    const cfg = await (await fetch('config.json')).json();
    $('host').value = cfg.echoHost;
    $('port').value = cfg.echoPort;
    $('echo-addr').textContent = `${cfg.echoHost}:${cfg.echoPort}`;
  } catch (e) {
    log(`— could not read the demo configuration: ${e.message}\n`, 'note');
  }
})();
