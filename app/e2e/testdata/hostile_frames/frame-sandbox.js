// Sandboxed frame of TestHostileFrames (sandbox="allow-scripts", so its origin is opaque although
// its URL is the site's). Threat: content the site itself sandboxes, such as user uploads, reaching
// the user's network. It must have no socket API, and its forged relay events must reach nothing.
'use strict';

const forge = Number(new URLSearchParams(location.search).get('forge'));
const res = { origin: self.origin, api: typeof TCPSocket, openTCPSocket: typeof navigator.openTCPSocket };
let answers = 0;
document.addEventListener('socketeer:in', () => { answers++; });
for (const id of [1, 2, 0x7fffffff]) {
  document.dispatchEvent(new CustomEvent('socketeer:out', {
    detail: { op: 'open', id, kind: 'tcp', options: { remoteAddress: '127.0.0.1', remotePort: forge } },
  }));
}
res.forged = 3;
res.answersSoFar = answers;
parent.postMessage(res, '*');
