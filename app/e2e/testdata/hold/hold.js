// Opens one socket and keeps it open, so the test can end the page under it.
'use strict';
const port = Number(new URLSearchParams(location.search).get('port'));
// ?click=0: the destination is remembered, so the page connects at load without any user input.
const ready = new URLSearchParams(location.search).get('click') === '0' ? Promise.resolve() : gesture();
ready.then(() => new TCPSocket('127.0.0.1', port).opened).then(
  () => fetch('/result', { method: 'POST', body: JSON.stringify({ held: true }) }),
  (e) => fetch('/result', { method: 'POST', body: JSON.stringify({ held: false, error: e.name }) }));
