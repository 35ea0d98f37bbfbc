// Leaves the destination to the user, then asks for destinations the test edits in the dialog.
'use strict';
const q = new URLSearchParams(location.search);
const B = Number(q.get('b'));
const D = Number(q.get('d'));

async function describe(p) {
  try {
    const s = await p;
    const info = s.opened ? await s.opened : s;
    const r = { remoteAddress: info.remoteAddress, remotePort: info.remotePort };
    await s.close();
    return r;
  } catch (e) {
    return { error: e.name, message: e.message };
  }
}

(async () => {
  const res = {};
  await gesture();
  res.chosen = await describe(navigator.openTCPSocket({}));
  await gesture();
  res.edited = await describe(new TCPSocket('127.0.0.1', B));
  await gesture();
  res.editedTo443 = await describe(new TCPSocket('127.0.0.1', D));
  await fetch('/result', { method: 'POST', body: JSON.stringify(res) });
})();
