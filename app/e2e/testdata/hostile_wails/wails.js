// Hostile page for TestHostileWailsBridge. Threat: a site page driving Wails' own IPC (quit the app,
// retitle its window, call bound Go methods, open URLs in the system browser) and spoofing the
// consent dialog through its own document title. It reports what each attempt did, then waits for a
// real click from the test before it changes its title, so the test can first check that no attempt
// retitled the window.
'use strict';

const SPOOF = 'Socketeer: connection request';

// post tries one message on Wails' "external" handler, exactly as Wails' own runtime sends them.
function post(msg) {
  try {
    const r = window.webkit.messageHandlers.external.postMessage(msg);
    return { threw: false, returned: String(r) };
  } catch (e) {
    return { threw: true, ...errInfo(e) };
  }
}

async function run() {
  const res = { phase: 'attempts' };
  const wk = window.webkit;
  res.globals = {
    webkit: typeof wk,
    messageHandlers: typeof (wk && wk.messageHandlers),
    external: typeof (wk && wk.messageHandlers && wk.messageHandlers.external),
    wails: typeof window.wails,
    runtime: typeof window.runtime,
    go: typeof window.go,
  };
  // Wails' dispatcher acts on the first character: Q quits, WT sets the window title, C calls a
  // bound method (answering through window.wails.Callback, which a page could define itself), and
  // BO: opens a URL in the system browser.
  window.wails = { Callback: (s) => { res.callbackReached = String(s); } };
  res.attempts = {
    quit: post('Q'),
    retitle: post('WTpwned'),
    call: post('C' + JSON.stringify({ name: 'main.App.Quit', args: [], callbackID: 'hostile-1' })),
    browser: post('BO:https://example.invalid'),
  };
  // The page must keep working after its attempts: it still has its socket API and can still fetch.
  res.after = { api: typeof TCPSocket, openTCPSocket: typeof navigator.openTCPSocket, title: document.title };
  await report(res);

  // Wait for the test's real click before spoofing the dialog's title.
  await new Promise((resolve) => addEventListener('mousedown', resolve, { once: true }));
  document.title = SPOOF;
  await report({ phase: 'spoofed', title: document.title });
}

run().catch((e) => report({ fatal: errInfo(e), stack: String(e && e.stack) }));
