// Opens the same destination three times in a row; the test answers each consent dialog
// differently and checks what the page saw.
'use strict';
const port = Number(new URLSearchParams(location.search).get('port'));

async function attempt() {
  await gesture();
  const s = new TCPSocket('127.0.0.1', port);
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
  for (let i = 0; i < 3; i++) outcomes.push(await attempt());
  await fetch('/result', { method: 'POST', body: JSON.stringify({ outcomes }) });
})();
