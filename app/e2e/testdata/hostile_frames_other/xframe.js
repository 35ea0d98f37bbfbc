// Cross-origin frame of TestHostileFrames, served from another port of localhost. Threat: a foreign
// frame (an ad, a widget) inside the site using the site's socket permission. It must see no socket
// API, must not reach Wails' IPC or its parent's API, and its forged relay events must reach nothing.
// It also embeds a frame of the site (third-party embedding: the site's origin nested in a foreign
// frame), whose report it passes on.
'use strict';

const params = new URLSearchParams(location.search);
const FORGE = Number(params.get('forge'));
const SITE = params.get('site');

function tryIt(fn) {
  try { return { ok: true, value: String(fn()) }; } catch (e) { return { ok: false, name: e && e.name }; }
}

async function run() {
  const wk = window.webkit;
  const res = {
    origin: self.origin,
    api: typeof TCPSocket,
    openTCPSocket: typeof navigator.openTCPSocket,
    external: typeof (wk && wk.messageHandlers && wk.messageHandlers.external),
    parentTCPSocket: tryIt(() => typeof parent.TCPSocket),
    parentDocument: tryIt(() => parent.document.title),
  };
  let answers = 0;
  document.addEventListener('socketeer:in', () => { answers++; });
  // The relay protocol, forged: an open to the destination only this frame knows about.
  for (const id of [1, 2, 0x7fffffff]) {
    document.dispatchEvent(new CustomEvent('socketeer:out', {
      detail: { op: 'open', id, kind: 'tcp', options: { remoteAddress: '127.0.0.1', remotePort: FORGE } },
    }));
  }
  res.forged = 3;
  res.answersSoFar = answers;

  const nested = document.createElement('iframe');
  nested.src = `${SITE}/frame-nested.html?forge=${FORGE}`;
  const got = new Promise((resolve) => {
    addEventListener('message', (ev) => { if (ev.source === nested.contentWindow) resolve(ev.data); });
  });
  document.body.appendChild(nested);
  res.nested = await got;
  return res;
}

run().then((res) => parent.postMessage(res, SITE));
