// The grocery app, written as an ordinary online app: plain fetch() to a REST API,
// ids made on the device, the screen updated at once. It knows of the outbox in three
// places, marked below: it draws the writes still waiting over what the server sent, it
// reloads from the server when the outbox drains, and it offers a form to settle a
// rename that clashed with someone else's.

import { SharedNote } from '/build/shared-note.js';

const lists = new Map(); // id -> { id, name, version, unsent, items: [{ id, name, done, version, unsent }] }
let currentId = null;
/** Edits made on this page so far: a reload that began before the latest one would draw an older list. */
let edits = 0;

const $ = (selector) => document.querySelector(selector);

async function api(method, path, body, headers = {}) {
  edits += 1;
  let response;
  try {
    response = await fetch(`/api${path}`, {
      method,
      // A PATCH says which fields change, and nothing else: a JSON Merge Patch, which the
      // outbox may fold into the next one to the same item while both wait.
      headers: body === undefined ? headers : { 'Content-Type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    showError(`Could not reach the server for ${method} ${path}.`);
    return null;
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    showError(`${method} ${path}: ${problem.title ?? response.status}. ${problem.detail ?? ''}`);
    await reload();
    return null;
  }
  return response;
}

function showError(message) {
  const error = $('#app-error');
  error.textContent = message;
  error.hidden = false;
}
$('#app-error').onclick = (event) => (event.target.hidden = true);

/**
 * Replaces what is on screen with the server's lists (offline: as the server last sent
 * them, which the outbox keeps), with this device's writes that still wait drawn over them.
 */
async function reload() {
  const since = edits;
  try {
    const response = await fetch('/api/lists');
    if (!response.ok) return;
    const summaries = await response.json();
    const fresh = new Map();
    await Promise.all(
      summaries.map(async ({ id }) => {
        const detail = await fetch(`/api/lists/${id}`);
        if (detail.ok) fresh.set(id, await detail.json());
      }),
    );
    const waiting = await pendingWrites();
    // An edit made meanwhile is on screen already, and this data may predate it: the reload
    // its write causes (kept offline, or the outbox drained) draws it.
    if (edits !== since) return;
    lists.clear();
    for (const [id, list] of fresh) lists.set(id, list);
    for (const write of waiting) applyPending(write);
    if (!lists.has(currentId)) currentId = lists.keys().next().value ?? null;
    render();
    if (currentId) await showNote(waiting);
  } catch {
    // Offline with nothing kept: keep what is on screen.
  }
}

// --- The outbox, part 1: writes not yet sent -----------------------------------------

/** The outbox's waiting writes with their bodies; none where there is no outbox. */
async function pendingWrites() {
  const outbox = window.outbox;
  if (!outbox) return [];
  try {
    const writes = await outbox.pending({ bodies: true, limit: 500 });
    const json = (write) => write.body && /^application\/(merge-patch\+)?json/.test(write.contentType ?? '');
    return writes.map((write) => ({ ...write, data: json(write) ? JSON.parse(new TextDecoder().decode(write.body)) : undefined }));
  } catch {
    return [];
  }
}

// The shared note is a CRDT (Yjs, in /build/shared-note.js): its writes are edits that
// merge with anyone's, so the page applies its waiting ones to what the server has.
const note = new SharedNote($('#note'), showError);

async function showNote(waiting) {
  const url = `/api/lists/${currentId}/note`;
  await note.show(currentId, waiting.filter((write) => new URL(write.url).pathname === url && write.body).map((write) => write.body));
}

/** Does to the lists what a waiting write will do on the server, and marks what it touches. */
function applyPending({ method, url, data }) {
  const path = new URL(url).pathname.replace(/^\/api/, '').split('/').filter(Boolean);
  if (path[2] === 'note') return; // drawn by the note itself
  const [, listId, kind, itemId] = path; // lists/:id[/items[/:id] | /moves]
  const list = lists.get(listId);
  if (path.length === 1 && method === 'POST' && !lists.has(data.id)) lists.set(data.id, { id: data.id, name: data.name, version: 1, items: [], unsent: true });
  if (!list) return;
  if (path.length === 2 && method === 'PATCH') Object.assign(list, data, { unsent: true });
  if (path.length === 2 && method === 'DELETE') lists.delete(listId);
  if (kind === 'items' && !itemId && method === 'POST' && !list.items.some((item) => item.id === data.id)) list.items.push({ id: data.id, name: data.name, done: false, version: 1, unsent: true });
  const item = list.items.find((candidate) => candidate.id === itemId);
  if (item && method === 'PATCH') Object.assign(item, data, { unsent: true });
  if (item && method === 'DELETE') list.items.splice(list.items.indexOf(item), 1);
  if (kind === 'moves') {
    const moved = list.items.find((candidate) => candidate.id === data.item);
    if (!moved) return;
    list.items.splice(list.items.indexOf(moved), 1);
    list.items.splice(data.after === null ? 0 : list.items.findIndex((candidate) => candidate.id === data.after) + 1, 0, moved);
    moved.unsent = true;
  }
}

// --- What the user does -------------------------------------------------------------

function addList(name) {
  const list = { id: crypto.randomUUID(), name, version: 1, items: [] };
  lists.set(list.id, list);
  currentId = list.id;
  render();
  api('POST', '/lists', { id: list.id, name });
}

function renameList(name) {
  const list = lists.get(currentId);
  if (!list || name === list.name) return;
  const ifMatch = `"${list.version}"`;
  list.name = name;
  list.version++;
  render();
  api('PATCH', `/lists/${list.id}`, { name }, { 'If-Match': ifMatch });
}

function deleteList() {
  const list = lists.get(currentId);
  if (!list) return;
  lists.delete(list.id);
  currentId = lists.keys().next().value ?? null;
  render();
  api('DELETE', `/lists/${list.id}`);
}

function addItem(name) {
  const list = lists.get(currentId);
  const item = { id: crypto.randomUUID(), name, done: false, version: 1 };
  list.items.push(item);
  list.version++;
  render();
  api('POST', `/lists/${list.id}/items`, { id: item.id, name });
}

// A tick sends only `done`, a rename only `name`: two people changing one item in
// different ways both keep their change. A rename says which version it was made to
// (If-Match), so it never silently overwrites someone else's rename.
function updateItem(edited, change) {
  const list = lists.get(currentId);
  // A reload may have replaced the item drawn when the edit began: change the current one.
  const item = list.items.find(({ id }) => id === edited.id) ?? edited;
  const headers = change.name === undefined ? {} : { 'If-Match': `"${item.version}"` };
  Object.assign(item, change);
  item.version++;
  list.version++;
  render();
  api('PATCH', `/lists/${list.id}/items/${item.id}`, change, headers);
}

function deleteItem(item) {
  const list = lists.get(currentId);
  list.items.splice(list.items.indexOf(item), 1);
  list.version++;
  render();
  api('DELETE', `/lists/${list.id}/items/${item.id}`);
}

// A move says where the item goes ("after eggs"), not the whole new order, so others'
// moves are not undone.
function moveItem(item, by) {
  const list = lists.get(currentId);
  const from = list.items.indexOf(item);
  const to = from + by;
  if (to < 0 || to >= list.items.length) return;
  list.items.splice(from, 1);
  list.items.splice(to, 0, item);
  list.version++;
  render();
  api('POST', `/lists/${list.id}/moves`, { item: item.id, after: list.items[to - 1]?.id ?? null });
}

// --- Rendering ----------------------------------------------------------------------

function render() {
  const nav = $('#lists');
  nav.replaceChildren(
    ...[...lists.values()].map((list) => {
      const li = document.createElement('li');
      const link = document.createElement('button');
      link.type = 'button';
      link.textContent = `${list.name} (${list.items.length})`;
      if (list.unsent) link.append(unsentMark());
      link.setAttribute('aria-current', String(list.id === currentId));
      link.onclick = () => {
        currentId = list.id;
        render();
        void pendingWrites().then(showNote);
      };
      li.append(link);
      return li;
    }),
  );

  const list = lists.get(currentId);
  $('#list').hidden = !list;
  if (!list) return;
  if (document.activeElement !== $('#list-name')) $('#list-name').value = list.name;
  renderItems(list.items);
}

/**
 * Draws the items again. A reload (every 5 s, or when a write is kept offline) must not
 * take the field the person is typing in away from under them: that row stays in the
 * document, so its name field keeps the focus and what was typed, and only the parts
 * around it are drawn again.
 */
function renderItems(items) {
  const rows = items.map(renderItem);
  const field = document.activeElement;
  const typing = field instanceof HTMLInputElement && field.matches('#items input[aria-label="Item name"]') ? field.closest('li') : null;
  const at = typing ? items.findIndex(({ id }) => id === typing.dataset.id) : -1;
  if (at < 0) return void $('#items').replaceChildren(...rows);

  for (const row of [...$('#items').children]) if (row !== typing) row.remove();
  typing.before(...rows.slice(0, at));
  typing.after(...rows.slice(at + 1));
  const fresh = rows[at];
  const freshField = fresh.querySelector('input[aria-label="Item name"]');
  const parts = [...fresh.children];
  for (const part of [...typing.children]) if (part !== field) part.remove();
  field.before(...parts.slice(0, parts.indexOf(freshField)));
  field.after(...parts.slice(parts.indexOf(freshField) + 1));
  typing.className = fresh.className;
  field.onchange = freshField.onchange;
  if (field.value === field.defaultValue) field.value = freshField.value;
  field.defaultValue = freshField.defaultValue;
}

function renderItem(item, index, items) {
  const li = document.createElement('li');
  li.dataset.id = item.id;
  li.classList.toggle('done', item.done);
  li.classList.toggle('unsent', item.unsent === true);

  const tick = document.createElement('input');
  tick.type = 'checkbox';
  tick.checked = item.done;
  tick.setAttribute('aria-label', `Got ${item.name}`);
  tick.onchange = () => updateItem(item, { done: tick.checked });

  const name = document.createElement('input');
  name.defaultValue = item.name;
  name.maxLength = 200;
  name.setAttribute('aria-label', 'Item name');
  name.onchange = (event) => {
    const field = event.currentTarget;
    const value = field.value.trim();
    field.value = field.defaultValue = value || item.name;
    if (value && value !== item.name) updateItem(item, { name: value });
  };

  li.append(
    tick,
    name,
    ...(item.unsent ? [unsentMark()] : []),
    button('↑', `Move ${item.name} up`, index === 0, () => moveItem(item, -1)),
    button('↓', `Move ${item.name} down`, index === items.length - 1, () => moveItem(item, +1)),
    button('✕', `Delete ${item.name}`, false, () => deleteItem(item)),
  );
  return li;
}

function unsentMark() {
  const mark = document.createElement('span');
  mark.className = 'unsent-mark';
  mark.textContent = 'not sent yet';
  return mark;
}

function button(text, label, disabled, onclick) {
  const element = document.createElement('button');
  element.type = 'button';
  element.textContent = text;
  element.title = label;
  element.setAttribute('aria-label', label);
  element.disabled = disabled;
  element.onclick = onclick;
  return element;
}

// --- Wiring -------------------------------------------------------------------------

$('#new-list').onsubmit = (event) => {
  event.preventDefault();
  const input = event.target.elements.name;
  addList(input.value.trim());
  input.value = '';
};
$('#new-item').onsubmit = (event) => {
  event.preventDefault();
  const input = event.target.elements.name;
  addItem(input.value.trim());
  input.value = '';
};
$('#list-name').onchange = (event) => {
  const value = event.target.value.trim();
  if (value) renameList(value);
};
$('#delete-list').onclick = deleteList;

// --- The outbox, part 2: once it has delivered everything, the server has all of this
// device's writes, and a reload shows others' changes too, with nothing left unsent.
// Offline, a write the outbox keeps is marked at once ("not sent yet"), from the cache.
document.addEventListener('outbox-change', (event) => {
  if (event.detail.type === 'drained' || (event.detail.type === 'queued' && !navigator.onLine)) reload();
  if (event.detail.type === 'conflict' || event.detail.type === 'resolved') showMerge();
});

// --- The outbox, part 3: a rename that clashes with someone else's waits for this
// person's choice. <outbox-status> offers "keep mine" and "keep theirs"; this form lets
// them write the name to keep, which the outbox sends in the rename's place.
async function showMerge() {
  const form = $('#merge');
  const outbox = window.outbox;
  const snapshot = await outbox?.snapshot().catch(() => undefined);
  const clash = snapshot?.conflicts.find((entry) => entry.method === 'PATCH' && /\/items\/[^/]+$/.test(new URL(entry.url).pathname));
  const sides = clash && (await outbox.conflict(clash.id).catch(() => undefined));
  if (!sides || typeof sides.ours?.name !== 'string' || typeof sides.theirs?.name !== 'string') {
    form.hidden = true;
    return;
  }
  form.dataset.id = String(clash.id);
  form.querySelector('.ours').textContent = sides.ours.name;
  form.querySelector('.theirs').textContent = sides.theirs.name;
  if (form.hidden) form.elements.name.value = sides.ours.name;
  form.hidden = false;
}
$('#merge').onsubmit = async (event) => {
  event.preventDefault();
  const form = event.target;
  const name = form.elements.name.value.trim();
  form.hidden = true;
  await window.outbox.resolve(Number(form.dataset.id), { json: { name } }).catch((error) => showError(error.message));
};
document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && reload());
setInterval(reload, 5000);

window.groceries = { reload, lists };
await reload();
await showMerge();
document.body.dataset.ready = 'true';
