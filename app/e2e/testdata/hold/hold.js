// Opens one socket and keeps it open, so the test can end the page under it.
'use strict';
const port = Number(new URLSearchParams(location.search).get('port'));
const s = new TCPSocket('127.0.0.1', port);
s.opened.then(
  () => fetch('/result', { method: 'POST', body: JSON.stringify({ held: true }) }),
  (e) => fetch('/result', { method: 'POST', body: JSON.stringify({ held: false, error: e.name }) }));
