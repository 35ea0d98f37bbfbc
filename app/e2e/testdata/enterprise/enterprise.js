// Tries each port named in the query string in turn and reports what happened to each.
'use strict';
const ports = new URLSearchParams(location.search).get('ports').split(',').map(Number);

(async () => {
  const outcomes = [];
  for (const [i, port] of ports.entries()) {
    // Only the last destination is left to the user, so only it needs a click.
    if (i === ports.length - 1) await gesture();
    const s = new TCPSocket('127.0.0.1', port);
    try {
      await s.opened;
      await s.close();
      outcomes.push({ port, outcome: 'opened' });
    } catch (e) {
      outcomes.push({ port, outcome: e.name, message: e.message });
    }
  }
  await fetch('/result', { method: 'POST', body: JSON.stringify({ outcomes }) });
})();
