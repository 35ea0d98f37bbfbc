// Top page of TestHostileFrames. It embeds a same-origin frame, a cross-origin frame (another port of
// localhost, which in turn embeds a frame of this site) and a sandboxed same-origin frame, collects
// what each could do, and then opens one socket itself: that open is the sentinel whose consent
// dialog must be the next one after the frames' attempts.
'use strict';

const params = new URLSearchParams(location.search);
const HOST = '127.0.0.1';
const ECHO = Number(params.get('echo'));
const FORGE = Number(params.get('forge'));
const OTHER = params.get('other');

function frame(name, src, sandbox) {
  const f = document.createElement('iframe');
  f.name = name;
  if (sandbox !== undefined) f.setAttribute('sandbox', sandbox);
  f.src = src;
  // Fixed places, so the test can click into the same-origin frame (top left) or the top page.
  const place = { same: [0, 0, 400, 300], cross: [0, 320, 300, 150], sandboxed: [320, 320, 300, 150] }[name];
  Object.assign(f.style, { position: 'fixed', left: place[0] + 'px', top: place[1] + 'px',
    width: place[2] + 'px', height: place[3] + 'px', border: '0' });
  document.body.appendChild(f);
  return f;
}

async function run() {
  const frames = {
    same: frame('same', `/frame-same.html?echo=${ECHO}`),
    cross: frame('cross', `${OTHER}/xframe.html?forge=${FORGE}&site=${encodeURIComponent(location.origin)}`),
    sandboxed: frame('sandboxed', `/frame-sandbox.html?forge=${FORGE}`, 'allow-scripts'),
  };
  // Reports are told apart by the window that sent them, never by what they claim to be.
  const reports = await new Promise((resolve) => {
    const got = {};
    addEventListener('message', (ev) => {
      for (const [name, f] of Object.entries(frames)) {
        if (ev.source === f.contentWindow && !(name in got)) {
          got[name] = { origin: ev.origin, data: ev.data };
        }
      }
      if (Object.keys(got).length === Object.keys(frames).length) resolve(got);
    });
  });

  // The sentinel: one allowed open of the top page, after every frame has made its attempt.
  await gesture();
  const s = new TCPSocket(HOST, ECHO);
  const info = await s.opened;
  const echoed = await roundTrip(info, 'top');
  await s.close();
  return { frames: reports, top: { api: typeof TCPSocket, echoed } };
}

run().then(report, (e) => report({ fatal: errInfo(e), stack: String(e && e.stack) }));
