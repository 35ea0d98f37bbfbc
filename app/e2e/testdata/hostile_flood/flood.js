// Hostile page for TestHostileSocketFlood. Threat: resource exhaustion; a page that was allowed one
// destination once opens 2000 sockets to it at the same moment, to exhaust the app's file
// descriptors and memory or the destination's capacity. Socketeer allows 1024 sockets per origin:
// the first socket and 1023 of the flood must open, the other 977 must fail with QuotaExceededError,
// the sockets already open must keep working, and closing them must free their slots again.
'use strict';

const PORT = Number(new URLSearchParams(location.search).get('echo'));
const HOST = '127.0.0.1';
const FLOOD = 2000;

async function run() {
  const res = {};
  // The one socket the user allows (the test presses Allow).
  await gesture();
  const first = new TCPSocket(HOST, PORT);
  const firstInfo = await first.opened;

  const t0 = performance.now();
  const flood = [];
  for (let i = 0; i < FLOOD; i++) flood.push(new TCPSocket(HOST, PORT));
  const settled = await Promise.allSettled(flood.map((s) => s.opened));
  res.floodMs = Math.round(performance.now() - t0);

  const names = {};
  let opened = 0;
  let firstRejected = -1;
  let lastOpened = -1;
  let rejectedNotDOMException = 0;
  for (let i = 0; i < settled.length; i++) {
    const r = settled[i];
    if (r.status === 'fulfilled') {
      opened++;
      lastOpened = i;
    } else {
      names[r.reason && r.reason.name] = (names[r.reason && r.reason.name] || 0) + 1;
      if (!(r.reason instanceof DOMException)) rejectedNotDOMException++;
      if (firstRejected < 0) {
        firstRejected = i;
        res.sampleError = errInfo(r.reason);
      }
    }
  }
  Object.assign(res, { opened, rejected: FLOOD - opened, names, firstRejected, lastOpened, rejectedNotDOMException });

  // The sockets that were open before and during the flood still work.
  res.firstEcho = await roundTrip(firstInfo, 'first');
  if (lastOpened >= 0) res.lastEcho = await roundTrip(settled[lastOpened].value, 'last');

  // Close them all; every slot must come back.
  const open = [first, ...flood.filter((s, i) => settled[i].status === 'fulfilled')];
  await Promise.all(open.map((s) => s.close()));
  res.closed = open.length;

  // A new socket opens again, without asking: the destination is allowed for this page.
  const again = new TCPSocket(HOST, PORT);
  try {
    res.again = { echo: await roundTrip(await again.opened, 'again') };
    await again.close();
  } catch (e) {
    res.again = errInfo(e);
  }
  return res;
}

run().then(report, (e) => report({ fatal: errInfo(e), stack: String(e && e.stack) }));
