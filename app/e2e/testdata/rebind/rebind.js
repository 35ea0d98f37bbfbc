// Connects to names the test's hosts file points at loopback, and reports what happened.
'use strict';
const port = Number(new URLSearchParams(location.search).get('port'));

async function attempt(host) {
  const s = new TCPSocket(host, port);
  try {
    const info = await s.opened;
    await s.close();
    return { outcome: 'opened', remoteAddress: info.remoteAddress };
  } catch (e) {
    return { outcome: e.name, message: e.message };
  }
}

(async () => {
  const res = {
    publicName: await attempt('rebind.example.com'),
    localName: await gesture().then(() => attempt('printer.internal')),
    // Spoofing attempts on the dialog's text: markup and bidirectional overrides are not host
    // names at all, and a look-alike Unicode name is shown as the punycode it is.
    markup: await attempt('<b>bank</b>.internal'),
    bidi: await attempt('printer\u202e.internal'),
    homograph: await gesture().then(() => attempt('\u0430pple.internal')),
  };
  await fetch('/result', { method: 'POST', body: JSON.stringify(res) });
})();
