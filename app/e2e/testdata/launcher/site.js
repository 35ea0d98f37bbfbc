// A site opened from the launcher. It reports what its profile remembered from an earlier run, then
// remembers something, and tries to reach the launcher's Go bindings (threat: a site page removing
// profiles or reading grants through the launcher), which must not exist in a site process.
'use strict';
(async () => {
  const res = { local: localStorage.getItem('k'), cookie: document.cookie };
  localStorage.setItem('k', 'remembered');
  document.cookie = 'c=remembered; Max-Age=3600; Secure; SameSite=Strict';

  const wk = window.webkit;
  const own = location.host.replace(':', '_');
  res.reach = {
    go: typeof window.go,
    runtime: typeof window.runtime,
    external: typeof (wk && wk.messageHandlers && wk.messageHandlers.external),
  };
  // Exactly what Wails' runtime posts to call a bound method, for this profile and the demo's.
  window.wails = { Callback: (s) => { res.reach.callback = String(s); } };
  res.reach.posts = [own, 'localhost_47443'].map((id) => {
    try {
      wk.messageHandlers.external.postMessage('C' + JSON.stringify({ name: 'app.Launcher.RemoveProfile', args: [id], callbackID: 'x-' + id }));
      return 'posted';
    } catch (e) {
      return e.name;
    }
  });
  try {
    await window.go.app.Launcher.RemoveProfile(own);
    res.reach.direct = 'called';
  } catch (e) {
    res.reach.direct = e.name;
  }
  await report(res);
})().catch((e) => report({ fatal: errInfo(e) }));
