// A frame of the site nested inside the cross-origin frame of TestHostileFrames. Threat: a foreign
// page embedding the site to borrow its permission. Its relay refuses to run (a foreign ancestor), so
// whatever it tries must reach nothing; it reports what it sees and opens to the forged destination.
'use strict';

const forge = Number(new URLSearchParams(location.search).get('forge'));
const res = {
  origin: self.origin,
  api: typeof TCPSocket,
  openTCPSocket: typeof navigator.openTCPSocket,
  ancestors: location.ancestorOrigins ? Array.from(location.ancestorOrigins) : null,
};
try {
  const s = new TCPSocket('127.0.0.1', forge);
  // The promise may never settle without a relay; only its immediate failure is recorded.
  s.opened.catch(() => {});
  res.constructed = true;
} catch (e) {
  res.constructed = false;
  res.error = { name: e && e.name, message: String(e && e.message) };
}
parent.postMessage(res, '*');
