// Opens the same destination four times in a row; the test answers each consent dialog
// differently and checks what the page saw.
'use strict';
const q = new URLSearchParams(location.search);
const port = Number(q.get('port'));
// The fourth attempt needs a destination of its own: the third was allowed for this page.
const port2 = Number(q.get('port2')) || port;

async function attempt(p) {
  await gesture();
  const s = new TCPSocket('127.0.0.1', p);
  try {
    await s.opened;
    await s.close();
    return 'opened';
  } catch (e) {
    return e.name;
  }
}

(async () => {
  const outcomes = [];
  for (let i = 0; i < 4; i++) outcomes.push(await attempt(i < 3 ? port : port2));
  await fetch('/result', { method: 'POST', body: JSON.stringify({ outcomes }) });
})();
