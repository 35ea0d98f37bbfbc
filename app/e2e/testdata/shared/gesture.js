// Shared by the test pages. Opening a socket to a destination without a grant needs a real click or
// key press; the tests click the page (xdotool, real X input) and the page waits here for it.
// gesture() resolves once per trusted click, counting clicks that came before it was called.
'use strict';
(() => {
  let clicks = 0;
  let used = 0;
  const waiters = [];
  addEventListener('pointerdown', (e) => {
    if (!e.isTrusted) return;
    clicks++;
    const w = waiters.shift();
    if (w) {
      used++;
      // Tell the test the click arrived: a click can be lost when it lands as a dialog closes.
      fetch('/clicked', { method: 'POST', body: location.pathname });
      w();
    }
  }, true);
  self.gesture = () => {
    if (used < clicks) {
      used++;
      return Promise.resolve();
    }
    // Tell the test this page now waits for its click, so the click is never early or stale.
    fetch('/waiting', { method: 'POST', body: location.pathname });
    return new Promise((resolve) => waiters.push(resolve));
  };
})();
