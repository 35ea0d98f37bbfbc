// Tries to open a socket to a new destination without real user input, in the ways a page would fake
// it, then once more after a real click.
'use strict';
const port = Number(new URLSearchParams(location.search).get('port'));

async function attempt() {
  try {
    const s = new TCPSocket('127.0.0.1', port);
    await s.opened;
    await s.close();
    return 'opened';
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
}

addEventListener('DOMContentLoaded', async () => {
  const res = {};
  res.noInput = await attempt();
  // Script-made input events are not trusted.
  document.body.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true }));
  document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'a', bubbles: true }));
  document.getElementById('b').click();
  res.syntheticEvents = await attempt();
  // A page's own navigator.userActivation is only what the page sees.
  Object.defineProperty(navigator, 'userActivation', { value: { isActive: true, hasBeenActive: true } });
  Object.defineProperty(Navigator.prototype, 'userActivation', { get: () => ({ isActive: true, hasBeenActive: true }) });
  res.fakedActivation = await attempt();
  await gesture();
  res.realClick = await attempt();
  await fetch('/result', { method: 'POST', body: JSON.stringify(res) });
});
