// Hostile page for TestHostileNavigation. Threat one: sockets outliving their page; a socket opened
// before a reload must be closed by the reload. Threat two: a page that takes its window to another
// origin, which would then run inside the site's window, under the site's name in the title and, if
// the API followed it, with the site's socket permission. The navigation must be blocked and this
// page must stay. The page keeps its state across the reload in sessionStorage; the reload comes
// first so that it is tested whatever the navigation does.
'use strict';

const params = new URLSearchParams(location.search);
const OTHER = params.get('other');
const PORT = Number(params.get('echo'));
const KEY = 'hostile-nav';

async function firstLoad() {
  // A socket the page leaves open when it reloads (the test allows it).
  await gesture();
  const s = new TCPSocket('127.0.0.1', PORT);
  const info = await s.opened;
  const writer = info.writable.getWriter();
  await writer.write(new TextEncoder().encode('reload me'));
  writer.releaseLock();
  sessionStorage.setItem(KEY, JSON.stringify({ localPort: info.localPort }));
  location.reload();
}

async function secondLoad(state) {
  sessionStorage.removeItem(KEY);
  await report({ phase: 'reloaded', before: JSON.parse(state), href: location.href, api: typeof TCPSocket });

  // The test clicks once it has seen the app block this navigation.
  const clicked = new Promise((resolve) => addEventListener('mousedown', resolve, { once: true }));
  location.href = `${OTHER}/target.html`;
  await clicked;
  await report({ phase: 'after-navigation', href: location.href, origin: self.origin, api: typeof TCPSocket });
}

const state = sessionStorage.getItem(KEY);
(state ? secondLoad(state) : firstLoad()).catch((e) => report({ fatal: errInfo(e), stack: String(e && e.stack) }));
