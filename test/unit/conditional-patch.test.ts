import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changedSince, ifMatchVersion, patchIfMatch, ResourceVersions } from '../../server/index.js';

test('patchIfMatch: no precondition, or a current one, applies the patch; a stale one merges from the kept base, or is refused', () => {
  const current = { name: 'Tea', done: true };
  assert.deepEqual(patchIfMatch({ current, version: 3, ifMatch: undefined, base: undefined, patch: { name: 'Mint tea' } }), { applied: true, value: { name: 'Mint tea', done: true }, merged: false });
  assert.deepEqual(patchIfMatch({ current, version: 3, ifMatch: 3, base: undefined, patch: { done: null } }), { applied: true, value: { name: 'Tea' }, merged: false });
  // Made to version 2, before the tick: the rename merges.
  assert.deepEqual(patchIfMatch({ current, version: 3, ifMatch: 2, base: { name: 'Tea', done: false }, patch: { name: 'Green tea' } }), { applied: true, value: { name: 'Green tea', done: true }, merged: true });
  // Made to version 2, before someone else's rename: a conflict on /name.
  assert.deepEqual(patchIfMatch({ current: { name: 'Black tea', done: false }, version: 3, ifMatch: 2, base: { name: 'Tea', done: false }, patch: { name: 'Green tea' } }), { applied: false, conflicts: ['/name'] });
  // The same rename made twice is no conflict.
  assert.deepEqual(patchIfMatch({ current: { name: 'Green tea', done: false }, version: 3, ifMatch: 2, base: { name: 'Tea', done: false }, patch: { name: 'Green tea' } }), { applied: true, value: { name: 'Green tea', done: false }, merged: true });
  // A version no longer kept cannot be merged from.
  assert.deepEqual(patchIfMatch({ current, version: 3, ifMatch: 1, base: undefined, patch: { name: 'Green tea' } }), { applied: false, conflicts: [] });
});

test('ResourceVersions keeps the last `keep` versions of each resource, and round-trips through toJSON', () => {
  const versions = new ResourceVersions({ keep: 2 });
  for (let v = 1; v <= 3; v++) versions.remember('item:1', v, { v });
  assert.equal(versions.at('item:1', 1), undefined);
  assert.deepEqual(versions.at('item:1', 3), { v: 3 });
  assert.deepEqual(new ResourceVersions({ keep: 2, versions: versions.toJSON() }).at('item:1', 2), { v: 2 });
  versions.forget('item:1');
  assert.equal(versions.at('item:1', 3), undefined);
  assert.throws(() => new ResourceVersions({ keep: 0 }), /keep must be a whole number of versions, 1 or more; got 0/);
});

test('ifMatchVersion and changedSince', () => {
  assert.equal(ifMatchVersion(undefined), undefined);
  assert.equal(ifMatchVersion(' * '), undefined);
  assert.equal(ifMatchVersion('"7"'), 7);
  assert.equal(ifMatchVersion('W/"7"'), -1);
  const reply = changedSince('Item 4', { name: 'Sourdough' }, 5, ['/name']);
  assert.equal(reply.status, 412);
  assert.equal(reply.headers.etag, '"5"');
  assert.equal(JSON.parse(String(reply.body)).detail, 'Item 4 was changed by someone else since this change was made, and both changed its name. Reload it and make the change again.');
  assert.match(JSON.parse(String(changedSince('Item 4', {}, 5, []).body)).detail, /at version 5, and the version this change was made to is no longer known/);
});
