// Shared by the test pages. Opening a socket to a destination without a grant needs a real click or
// key press; the tests click the page (xdotool, real X input) and the page waits here for it.
// gesture() resolves once per trusted click, counting clicks that came before it was called.
'use strict';
(() => {
  // tell posts one note to the test. A request that fails outright never reached the test's
  // server (WebKit sometimes drops a fresh connection while it sets up TLS), so it is sent again:
  // a lost note would leave the test waiting for a page that waits for it.
  const tell = (path, tries = 20) => {
    fetch(path, { method: 'POST', body: location.pathname }).catch(() => {
      if (tries > 1) setTimeout(() => tell(path, tries - 1), 250);
    });
  };
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
      tell('/clicked');
      w();
    }
  }, true);
  self.gesture = () => {
    if (used < clicks) {
      used++;
      return Promise.resolve();
    }
    // Tell the test this page now waits for its click, so the click is never early or stale.
    tell('/waiting');
    return new Promise((resolve) => waiters.push(resolve));
  };
})();
