// Socketeer launcher page. It talks to Go only through the bound Launcher methods. Everything it shows
// that came from a site (names, addresses) is inserted as text, never as HTML; icons arrive as data:
// URLs of PNGs that Go decoded and encoded again.
'use strict';

const POLL_MS = 1500;

const $ = (id) => document.getElementById(id);

// el builds an element; string children become text nodes.
function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return e;
}

// iconFor shows a profile's icon, or its initial on a coloured square when it has none.
function iconFor(p, cls) {
  if (p.icon && p.icon.startsWith('data:image/png;base64,')) {
    return el('img', { class: cls, src: p.icon, alt: '' });
  }
  const letter = (p.name || '?').trim().charAt(0).toUpperCase() || '?';
  return el('span', { class: cls + ' letter', 'aria-hidden': 'true', text: letter });
}

function setIcon(img, p) {
  const replacement = iconFor(p, img.className.replace(/\bletter\b/, '').trim());
  replacement.id = img.id;
  img.replaceWith(replacement);
}

const api = () => window.go.app.Launcher;

// shown tells Go (for its log) that a view is on screen, once the browser has painted it.
function shown(view, n) {
  requestAnimationFrame(() => requestAnimationFrame(() => api().Shown(view, n)));
}

const state = { profiles: [], problems: [], selected: null, tab: 'permissions', lastSockets: -1, lastPerms: '' };

let statusTimer = null;
function status(msg, isError) {
  const s = $('status');
  s.textContent = msg;
  s.classList.toggle('error', !!isError);
  s.hidden = false;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => { s.hidden = true; shown('status', 0); }, isError ? 7000 : 2500);
}

// call runs a Go method and reports its error; Go errors arrive as strings.
async function call(fn, ...args) {
  try {
    return await api()[fn](...args);
  } catch (e) {
    status(String(e && e.message ? e.message : e), true);
    throw e;
  }
}

function selectedProfile() {
  return state.profiles.find((p) => p.id === state.selected) || null;
}

// ---- the list ----

async function refreshList() {
  const list = await api().Profiles();
  state.profiles = list.profiles || [];
  state.problems = list.problems || [];
  if (!selectedProfile()) state.selected = state.profiles.length ? state.profiles[0].id : null;
  renderList();
  renderDetailHead();
}

function renderList() {
  const ul = $('profiles');
  ul.replaceChildren();
  for (const p of state.profiles) {
    const li = el('li', {
      id: 'profile-' + p.id, role: 'option', 'aria-selected': String(p.id === state.selected),
      'data-id': p.id, title: p.origin,
      onclick: () => select(p.id), ondblclick: () => openProfile(p.id),
    },
    iconFor(p, 'li-icon'),
    el('div', { class: 'li-text' },
      el('div', { class: 'li-name', text: p.name }),
      el('div', { class: 'li-origin', text: p.origin.replace(/^https:\/\//, '') })),
    p.running ? el('span', { class: 'dot', title: 'Open', 'aria-label': 'open' }) : null);
    ul.append(li);
  }
  ul.setAttribute('aria-activedescendant', state.selected ? 'profile-' + state.selected : '');
  $('empty-list').hidden = state.profiles.length > 0;
  const probs = $('problems');
  probs.replaceChildren(...state.problems.map((pr) => el('p', {},
    el('strong', { text: (pr.id || 'A profile') + ' cannot be opened.' }),
    ' It was left as it is. ',
    el('span', { class: 'problem-detail', text: pr.message }))));
  probs.hidden = state.problems.length === 0;
}

function select(id) {
  if (state.selected === id) return;
  state.selected = id;
  renderList();
  renderDetail();
  const li = $('profile-' + id);
  if (li) li.scrollIntoView({ block: 'nearest' });
}

// ---- the selected profile ----

function renderDetailHead() {
  const p = selectedProfile();
  $('welcome').hidden = !!p;
  $('profile').hidden = !p;
  if (!p) return;
  setIcon($('p-icon'), p);
  $('p-name').textContent = p.name;
  $('p-origin').textContent = p.origin;
  const st = $('p-state');
  st.textContent = p.running ? '● Open' : 'Not open';
  st.classList.toggle('off', !p.running);
  $('p-open').textContent = p.running ? 'Show window' : 'Open';
  $('p-desktop').textContent = p.desktopEntry ? 'Update menu entry' : 'Add to menu';
}

async function renderDetail() {
  renderDetailHead();
  const p = selectedProfile();
  if (!p) {
    shown(state.profiles.length ? 'list' : 'empty', state.profiles.length);
    return;
  }
  if (state.tab === 'permissions') await renderPermissions(p.id);
  else await renderActivity(p.id);
}

function showTab(tab) {
  state.tab = tab;
  for (const t of ['permissions', 'activity']) {
    const b = $('tab-' + t);
    b.setAttribute('aria-selected', String(t === tab));
    b.tabIndex = t === tab ? 0 : -1;
    $('panel-' + t).hidden = t !== tab;
  }
  renderDetail();
}

function tlsBadge(tls) {
  return tls ? el('span', { class: 'badge tls', text: 'TLS' }) : el('span', { class: 'badge plain', text: 'Not encrypted' });
}

function hostPort(host, port) {
  return (host.includes(':') ? '[' + host + ']' : host) + ':' + port;
}

function when(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay ? d.toLocaleTimeString() : d.toLocaleString();
}

// renderPermissions shows the site's grants and the organisation's rules. The poll calls it too
// (fromPoll), so that a connection the user just chose to remember in the site's window appears
// without reselecting the site; a poll that brings nothing new changes nothing on screen.
async function renderPermissions(id, fromPoll) {
  const perms = await api().Permissions(id);
  if (state.selected !== id || state.tab !== 'permissions') return;
  const seen = id + '\n' + JSON.stringify(perms);
  if (fromPoll && seen === state.lastPerms) return;
  state.lastPerms = seen;
  keepFocus($('grants'), perms.grants.map((g) => el('tr', {},
    el('td', { class: 'mono', text: hostPort(g.host, g.port) }),
    el('td', { text: g.protocol.toUpperCase() }),
    el('td', {}, tlsBadge(g.tls)),
    el('td', { class: 'time', text: g.created ? when(g.created) : '' }),
    el('td', {}, el('button', {
      type: 'button', class: 'danger', 'aria-label': 'Revoke ' + hostPort(g.host, g.port),
      'data-key': [g.protocol, g.mode, g.host, g.port, g.tls].join(' '), onclick: () => revoke(id, g),
    }, 'Revoke')))));
  $('no-grants').hidden = perms.grants.length > 0;
  const warn = $('grant-warning');
  warn.textContent = perms.warning || '';
  warn.hidden = !perms.warning;
  $('notes').replaceChildren(...perms.notes.map((n) => el('li', { text: n })));
  const effects = { 'pre-granted': 'Connects without asking', allowed: 'May ask to connect', blocked: 'Always refused' };
  fillTable($('managed'), perms.managed.map((r) => el('tr', {},
    el('td', { text: r.text }),
    el('td', {}, el('span', { class: 'badge ' + (r.effect === 'blocked' ? 'deny' : 'allow'), text: effects[r.effect] || r.effect })))));
  $('no-managed').hidden = perms.managed.length + perms.notes.length > 0;
  shown('managed', perms.managed.length);
  shown('permissions', perms.grants.length);
}

async function revoke(id, g) {
  await call('RevokeGrant', id, g);
  status('Revoked: ' + hostPort(g.host, g.port) + '. The site must ask again.');
  await renderPermissions(id);
  const first = $('grants').querySelector('button') || $('tab-permissions');
  first.focus();
}

function bytes(n) {
  if (n < 1024) return n + ' B';
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return v.toFixed(v < 10 ? 1 : 0) + ' ' + units[i];
}

// fillTable puts rows in a table body and hides the table, headings and all, while it has none
// (WebKitGTK does not restyle a :has(tbody:empty) rule when the last row goes).
function fillTable(tbody, rows) {
  tbody.replaceChildren(...rows);
  tbody.closest('table').hidden = rows.length === 0;
}

// keepFocus re-renders a table body without losing the keyboard focus: the button that had it
// (named by its data-key) has it again afterwards, so a periodic refresh never moves the user.
function keepFocus(tbody, rows) {
  const had = tbody.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  fillTable(tbody, rows);
  if (had) {
    const again = tbody.querySelector('[data-key="' + CSS.escape(had) + '"]');
    (again || $('tab-' + state.tab)).focus();
  }
}

async function renderActivity(id, fromPoll) {
  const ins = await api().Inspect(id);
  if (state.selected !== id || state.tab !== 'activity') return;
  $('activity-state').textContent = ins.error || (ins.running
    ? 'Live: the sockets the site holds right now. Closing one ends the connection; the page sees it fail.'
    : 'The site is not open, so it holds no sockets.');
  keepFocus($('sockets'), ins.sockets.map((s) => el('tr', {},
    el('td', { class: 'mono', text: s.destination, title: s.remote && s.remote !== s.destination ? 'Connected to ' + s.remote : null }),
    el('td', { text: s.protocol.toUpperCase() }),
    el('td', {}, tlsBadge(s.tls)),
    el('td', { class: 'num', text: bytes(s.bytesIn) }),
    el('td', { class: 'num', text: bytes(s.bytesOut) }),
    el('td', { class: 'time', text: when(s.opened) }),
    el('td', {}, el('button', {
      type: 'button', class: 'danger', 'aria-label': 'Close the socket to ' + s.destination,
      'data-key': String(s.id), onclick: () => closeSocket(id, s),
    }, 'Close')))));
  $('no-sockets').hidden = ins.sockets.length > 0 || !ins.running;
  fillTable($('decisions'), ins.decisions.map((d) => el('tr', {},
    el('td', { class: 'time', text: when(d.time) }),
    el('td', { class: 'mono', text: d.destination }),
    el('td', {}, el('span', { class: 'badge ' + (d.outcome === 'allowed' ? 'allow' : 'deny'), text: d.summary })),
    el('td', { text: d.why }))));
  $('no-decisions').hidden = ins.decisions.length > 0;
  // A refresh that changed nothing is not worth a line in the log.
  if (!fromPoll || state.lastSockets !== ins.sockets.length) shown('activity', ins.sockets.length);
  state.lastSockets = ins.sockets.length;
}

async function closeSocket(id, s) {
  await call('CloseSocket', id, s.id);
  status('Closed the connection to ' + s.destination + '.');
  await renderActivity(id);
}

// ---- actions ----

async function openProfile(id) {
  const p = state.profiles.find((x) => x.id === id);
  await call('OpenProfile', id);
  status((p && p.running ? 'Showing ' : 'Opening ') + (p ? p.name : 'the site') + '…');
  // A window process that fails before its window shows says why; call shows it as an error. The
  // page does not wait for it.
  call('WaitOpened', id).catch(() => {});
}

async function desktopEntry() {
  const p = selectedProfile();
  if (!p) return;
  const path = await call('CreateDesktopEntry', p.id);
  status('"' + p.name + '" is in your applications menu (' + path + ').');
  await refreshList();
}

function openDialog(d, focus) {
  for (const e of d.querySelectorAll('.error')) e.hidden = true;
  d.showModal();
  if (focus) focus.focus();
}

function dialogError(id, e) {
  const p = $(id);
  p.textContent = String(e && e.message ? e.message : e);
  p.hidden = false;
}

// Add a site: look it up (name and icon from its manifest), optionally trust its certificate, add.
const add = { preview: null, trustSHA: '' };

function resetAdd() {
  add.preview = null;
  add.trustSHA = '';
  $('add-url').value = '';
  $('add-name').value = '';
  $('add-cert').hidden = true;
  $('add-preview').hidden = true;
  $('add-note').hidden = true;
  $('add-submit').disabled = true;
}

async function lookup() {
  const url = $('add-url').value.trim();
  if (!url) return;
  $('add-error').hidden = true;
  $('add-lookup').disabled = true;
  try {
    const pv = await api().Preview(url.includes('://') ? url : 'https://' + url, add.trustSHA);
    add.preview = pv;
    $('add-url').value = pv.url;
    $('add-cert').hidden = !pv.untrusted;
    $('add-fp').textContent = pv.fingerprint;
    const note = $('add-note');
    note.textContent = pv.existingID ? 'You have a profile for this site already.' : pv.note;
    note.hidden = !note.textContent;
    $('add-preview').hidden = pv.untrusted;
    if (!pv.untrusted) {
      $('add-name').value = pv.name;
      setIcon($('add-icon'), { name: pv.name, icon: pv.icon });
      $('add-origin').textContent = pv.origin;
    }
    $('add-submit').disabled = pv.untrusted || !!pv.existingID;
    $('add-submit').textContent = 'Add';
    (pv.untrusted ? $('add-trust') : pv.existingID ? $('add-url') : $('add-name')).focus();
    shown('add-preview', pv.untrusted ? 0 : 1);
  } catch (e) {
    dialogError('add-error', e);
  } finally {
    $('add-lookup').disabled = false;
  }
}

async function submitAdd(ev) {
  ev.preventDefault();
  if (!add.preview || $('add-submit').disabled) {
    await lookup();
    return;
  }
  try {
    const p = await api().AddProfile({ url: add.preview.url, name: $('add-name').value, trustSHA: add.trustSHA });
    $('add-dialog').close();
    state.selected = p.id;
    await refreshList();
    await renderDetail();
    status('Added ' + p.name + '.');
    $('profiles').focus();
  } catch (e) {
    dialogError('add-error', e);
  }
}

function editProfile() {
  const p = selectedProfile();
  if (!p) return;
  $('edit-name').value = p.name;
  $('edit-start').value = p.startURL;
  setIcon($('edit-icon'), p);
  openDialog($('edit-dialog'), $('edit-name'));
  shown('edit', 1);
}

async function submitEdit(ev) {
  ev.preventDefault();
  const p = selectedProfile();
  try {
    await api().UpdateProfile(p.id, $('edit-name').value, $('edit-start').value);
    $('edit-dialog').close();
    await refreshList();
    status('Saved.');
  } catch (e) {
    dialogError('edit-error', e);
  }
}

async function chooseIcon() {
  const p = selectedProfile();
  try {
    const updated = await api().ChooseIcon(p.id);
    setIcon($('edit-icon'), updated);
    await refreshList();
    $('edit-name').focus();
  } catch (e) {
    dialogError('edit-error', e);
  }
}

function removeProfile() {
  const p = selectedProfile();
  if (!p) return;
  $('remove-title').textContent = 'Remove ' + p.name + '?';
  openDialog($('remove-dialog'), $('remove-dialog').querySelector('[data-close]'));
  shown('remove', 1);
}

async function submitRemove(ev) {
  ev.preventDefault();
  const p = selectedProfile();
  try {
    await api().RemoveProfile(p.id);
    $('remove-dialog').close();
    state.selected = null;
    await refreshList();
    await renderDetail();
    status('Removed ' + p.name + '.');
    $('profiles').focus();
  } catch (e) {
    dialogError('remove-error', e);
  }
}

// ---- keyboard ----

function onListKey(ev) {
  const i = state.profiles.findIndex((p) => p.id === state.selected);
  const go = (j) => {
    if (state.profiles.length === 0) return;
    select(state.profiles[Math.max(0, Math.min(state.profiles.length - 1, j))].id);
    ev.preventDefault();
  };
  switch (ev.key) {
    case 'ArrowDown': go(i + 1); break;
    case 'ArrowUp': go(i - 1); break;
    case 'Home': go(0); break;
    case 'End': go(state.profiles.length - 1); break;
    case 'Enter': if (state.selected) { openProfile(state.selected); ev.preventDefault(); } break;
    default:
  }
}

function onTabKey(ev) {
  if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
    const next = state.tab === 'permissions' ? 'activity' : 'permissions';
    showTab(next);
    $('tab-' + next).focus();
    ev.preventDefault();
  }
}

function onGlobalKey(ev) {
  if (ev.ctrlKey && !ev.altKey && (ev.key === 'n' || ev.key === 'N')) {
    ev.preventDefault();
    startAdd();
    return;
  }
  // Delete removes the selected profile (after asking) wherever the focus is, except in a field.
  const inField = ev.target instanceof HTMLInputElement;
  if (ev.key === 'Delete' && !inField && !document.querySelector('dialog[open]')) {
    ev.preventDefault();
    removeProfile();
  }
}

function startAdd() {
  if (document.querySelector('dialog[open]')) return;
  resetAdd();
  openDialog($('add-dialog'), $('add-url'));
  shown('add-form', 0);
}

// ---- start ----

async function poll() {
  if (document.querySelector('dialog[open]')) return;
  await refreshList();
  const p = selectedProfile();
  if (p && state.tab === 'activity') await renderActivity(p.id, true);
  if (p && state.tab === 'permissions') await renderPermissions(p.id, true);
}

async function start() {
  $('add-site').addEventListener('click', startAdd);
  $('add-lookup').addEventListener('click', lookup);
  // Enter in the address looks the site up (the Add button is not ready before that).
  $('add-url').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      lookup();
    }
  });
  $('add-url').addEventListener('input', () => { $('add-submit').disabled = true; add.preview = null; add.trustSHA = ''; $('add-cert').hidden = true; });
  $('add-trust').addEventListener('click', () => { add.trustSHA = add.preview.sha256; lookup(); });
  $('add-form').addEventListener('submit', submitAdd);
  $('edit-form').addEventListener('submit', submitEdit);
  $('edit-icon-choose').addEventListener('click', chooseIcon);
  $('remove-form').addEventListener('submit', submitRemove);
  for (const b of document.querySelectorAll('[data-close]')) {
    b.addEventListener('click', () => b.closest('dialog').close());
  }
  $('p-open').addEventListener('click', () => openProfile(state.selected));
  $('p-edit').addEventListener('click', editProfile);
  $('p-desktop').addEventListener('click', desktopEntry);
  $('p-remove').addEventListener('click', removeProfile);
  $('tab-permissions').addEventListener('click', () => showTab('permissions'));
  $('tab-activity').addEventListener('click', () => showTab('activity'));
  $('tab-permissions').addEventListener('keydown', onTabKey);
  $('tab-activity').addEventListener('keydown', onTabKey);
  $('profiles').addEventListener('keydown', onListKey);
  $('restore-demo').addEventListener('click', async () => { await call('RestoreDemo'); await refreshList(); await renderDetail(); });
  document.addEventListener('keydown', onGlobalKey);

  await refreshList();
  await renderDetail();
  $('profiles').focus();
  shown(state.profiles.length ? 'list' : 'empty', state.profiles.length);
  setInterval(() => { poll().catch(() => {}); }, POLL_MS);
}

// Wails defines window.go when its runtime script has run, which is before this deferred script.
start().catch((e) => status(String(e), true));
