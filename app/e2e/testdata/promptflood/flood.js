// Asks for 25 different destinations at once, as a page burying the user in prompts would, and
// reports the error message each attempt got.
'use strict';
const first = Number(new URLSearchParams(location.search).get('first'));

(async () => {
  await gesture();
  const attempts = [];
  for (let i = 0; i < 25; i++) {
    const s = new TCPSocket('127.0.0.1', first + i);
    attempts.push(s.opened.then(() => 'opened', (e) => `${e.name}: ${e.message}`));
  }
  const outcomes = await Promise.all(attempts);
  await fetch('/result', { method: 'POST', body: JSON.stringify({ outcomes }) });
})();
