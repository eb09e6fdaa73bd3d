import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Json } from '../../contract/json-merge.js';
import { overlay, type WaitingWrite } from '../../sw/read-overlay.js';

const ORIGIN = 'https://app.test';
const P = 'outbox-11111111-1111-4111-8111-111111111111';
const options = { idMember: 'id', urlMember: undefined };
const write = (method: string, path: string, json?: Json, extra: Partial<WaitingWrite> = {}): WaitingWrite => ({ method, url: `${ORIGIN}${path}`, json, contentType: json === undefined ? null : 'application/json', ...extra });
const todos: Json = [
  { id: 1, title: 'bread', completed: false },
  { id: 2, title: 'butter', completed: false },
];

test('a bare array gains the waiting creates with their identities, loses the deletes, and its members take PATCHes and PUTs, in order', () => {
  const writes = [
    write('POST', '/todos', { title: 'milk' }, { provisional: { id: P, url: `${ORIGIN}/todos/${P}` } }),
    write('PATCH', `/todos/${P}`, { completed: true }),
    write('PATCH', '/todos/1', { completed: true, note: null }),
    write('DELETE', '/todos/2'),
    write('PUT', '/todos/1', { title: 'rye bread', completed: true }),
    write('PATCH', '/elsewhere/1', { completed: false }),
  ];
  const { body, applied } = overlay(todos, `${ORIGIN}/todos`, writes, true, options);
  assert.deepEqual(body, [
    { id: 1, title: 'rye bread', completed: true },
    { title: 'milk', id: P, completed: true },
  ]);
  assert.equal(applied, 5, 'the write elsewhere is not counted');
});

test('a collection wrapped in an object: its first array member is the collection; the rest of the object stays', () => {
  const wrapped: Json = { total: 2, items: todos, links: { next: null } };
  const { body } = overlay(wrapped, `${ORIGIN}/todos?page=1`, [write('DELETE', '/todos/1'), write('POST', '/todos', { title: 'jam' })], true, options);
  assert.deepEqual(body, { total: 2, items: [{ id: 2, title: 'butter', completed: false }, { title: 'jam' }], links: { next: null } });
});

test('members named by their own URL member (urlMember) are found by it', () => {
  const byUrl: Json = [{ url: `${ORIGIN}/todos/a`, title: 'bread' }];
  const { body } = overlay(byUrl, `${ORIGIN}/todos`, [write('PATCH', '/todos/a', { title: 'rye' })], true, { idMember: 'id', urlMember: 'url' });
  assert.deepEqual(body, [{ url: `${ORIGIN}/todos/a`, title: 'rye' }]);
});

test('a single resource takes merge patches (null deletes a member), a PUT, and a DELETE says it is gone; JSON Patch and non-JSON bodies are not applied', () => {
  const one: Json = { id: 1, title: 'bread', tags: ['a'], note: 'x' };
  const patched = overlay(one, `${ORIGIN}/todos/1`, [write('PATCH', '/todos/1', { note: null, tags: ['b'] }), write('PATCH', '/todos/1', [{ op: 'remove', path: '/title' }], { contentType: 'application/json-patch+json' }), write('PATCH', '/todos/1', undefined)], false, options);
  assert.deepEqual(patched.body, { id: 1, title: 'bread', tags: ['b'] });
  assert.equal(patched.applied, 1);
  assert.deepEqual(overlay(one, `${ORIGIN}/todos/1`, [write('DELETE', '/todos/1')], false, options), { body: one, applied: 1, deleted: true });
  assert.equal(overlay(one, `${ORIGIN}/todos/1`, [write('POST', '/todos/1', { x: 1 })], false, options).applied, 0, 'a POST to a resource is an action, not applied');
});

test('a PUT of a member keeps the identity the collection gave it', () => {
  const { body } = overlay(todos, `${ORIGIN}/todos`, [write('PUT', '/todos/2', { title: 'salted butter' })], true, options);
  assert.deepEqual((body as Json[])[1], { title: 'salted butter', id: 2 });
});
