import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyMergePatch, composeMergePatches, mergePatchBetween, threeWayMerge, type Json } from '../../contract/json-merge.js';

test('applyMergePatch follows RFC 7396’s own examples', () => {
  // RFC 7396, Appendix A: [target, patch, result].
  const examples: [Json, Json, Json][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, result] of examples) assert.deepEqual(applyMergePatch(target, patch), result, JSON.stringify([target, patch]));
});

test('threeWayMerge: members changed on one side take that side; the same change on both is no conflict', () => {
  const base = { name: 'Tea', done: false, qty: 1 };
  assert.deepEqual(threeWayMerge(base, { ...base, name: 'Green tea' }, { ...base, done: true }), { merged: { name: 'Green tea', done: true, qty: 1 }, conflicts: [] });
  assert.deepEqual(threeWayMerge(base, { ...base, qty: 2 }, { ...base, qty: 2 }), { merged: { name: 'Tea', done: false, qty: 2 }, conflicts: [] });
  assert.deepEqual(threeWayMerge(base, base, base), { merged: base, conflicts: [] });
});

test('threeWayMerge: members added and removed on either side', () => {
  const base = { a: 1, b: 2 };
  assert.deepEqual(threeWayMerge(base, { a: 1, b: 2, c: 3 }, { a: 1 }), { merged: { a: 1, c: 3 }, conflicts: [] });
  assert.deepEqual(threeWayMerge(base, { b: 2 }, { a: 1, b: 2, d: 4 }), { merged: { b: 2, d: 4 }, conflicts: [] });
  // Removed on one side, changed on the other: a conflict.
  assert.deepEqual(threeWayMerge(base, { b: 2 }, { a: 5, b: 2 }), { conflicts: ['/a'] });
  // Added on both with different values: a conflict.
  assert.deepEqual(threeWayMerge({}, { c: 1 }, { c: 2 }), { conflicts: ['/c'] });
});

test('threeWayMerge: both sides changing one member differently is a conflict named by its JSON Pointer, nested too', () => {
  assert.deepEqual(threeWayMerge({ name: 'Tea' }, { name: 'Green tea' }, { name: 'Black tea' }), { conflicts: ['/name'] });
  const base = { address: { street: 'Main St', city: 'Oslo' }, 'a/b': 1 };
  assert.deepEqual(
    threeWayMerge(base, { address: { street: 'High St', city: 'Oslo' }, 'a/b': 2 }, { address: { street: 'Main St', city: 'Bergen' }, 'a/b': 3 }),
    { conflicts: ['/a~1b'] },
  );
  assert.deepEqual(threeWayMerge(base, { ...base, address: { street: 'High St', city: 'Oslo' } }, { ...base, address: { street: 'Main St', city: 'Bergen' } }), {
    merged: { address: { street: 'High St', city: 'Bergen' }, 'a/b': 1 },
    conflicts: [],
  });
  assert.deepEqual(threeWayMerge({ p: { q: 1 } }, { p: { q: 2 } }, { p: { q: 3 } }), { conflicts: ['/p/q'] });
});

test('threeWayMerge: arrays are values; types that differ are a conflict', () => {
  assert.deepEqual(threeWayMerge({ tags: ['a'] }, { tags: ['a', 'b'] }, { tags: ['a'] }), { merged: { tags: ['a', 'b'] }, conflicts: [] });
  assert.deepEqual(threeWayMerge({ tags: ['a'] }, { tags: ['a', 'b'] }, { tags: ['c'] }), { conflicts: ['/tags'] });
  assert.deepEqual(threeWayMerge({ v: 1 }, { v: { n: 1 } }, { v: '1' }), { conflicts: ['/v'] });
  assert.deepEqual(threeWayMerge({ v: { n: 1 } }, { v: { n: 1, m: 2 } }, { v: null }), { conflicts: ['/v'] });
  // Member order does not make a change.
  assert.deepEqual(threeWayMerge({ a: 1, b: 2 }, { b: 2, a: 1 }, { a: 1, b: 3 }), { merged: { a: 1, b: 3 }, conflicts: [] });
});

test('composeMergePatches: one patch that does what two do in turn, or none where merge patch cannot say it', () => {
  const targets: Json[] = [{}, { a: 'x', b: { c: 1, d: 2 }, e: [1] }, { a: { deep: true } }, 'scalar'];
  const pairs: [Json, Json][] = [
    [{ a: 'y' }, { a: 'z' }],
    [{ a: 'y' }, { b: { c: null } }],
    [{ b: { c: 5 } }, { b: { d: null, f: 3 } }],
    [{ a: null }, { a: 'back' }],
    [{ e: [2] }, { e: null }],
    [{ a: 1 }, 'replaced'],
  ];
  for (const [first, second] of pairs) {
    const composed = composeMergePatches(first, second);
    assert.notEqual(composed, undefined, JSON.stringify([first, second]));
    for (const target of targets) assert.deepEqual(applyMergePatch(target, composed!), applyMergePatch(applyMergePatch(target, first), second), JSON.stringify([target, first, second]));
  }
  // An object set where the first patch removed or set a value: in turn it replaces; one patch would merge.
  assert.equal(composeMergePatches({ a: null }, { a: { y: 1 } }), undefined);
  assert.equal(composeMergePatches({ a: 'x' }, { a: { y: 1 } }), undefined);
  assert.equal(composeMergePatches('whole', { y: 1 }), undefined);
});

test('threeWayMerge with an idKey: arrays of objects merged element by element, matched by id', () => {
  const base = { items: [{ id: 'a', name: 'Milk', done: false }, { id: 'b', name: 'Eggs', done: false }, { id: 'c', name: 'Tea', done: false }] };
  const ours = { items: [{ id: 'a', name: 'Oat milk', done: false }, { id: 'b', name: 'Eggs', done: false }, { id: 'd', name: 'Bread', done: false }] }; // renamed a, removed c, added d
  const theirs = { items: [{ id: 'a', name: 'Milk', done: true }, { id: 'b', name: 'Eggs', done: false }, { id: 'c', name: 'Tea', done: false }, { id: 'e', name: 'Jam', done: false }] }; // ticked a, added e
  assert.deepEqual(threeWayMerge(base, ours, theirs, { idKey: 'id' }), {
    merged: { items: [{ id: 'a', name: 'Oat milk', done: true }, { id: 'b', name: 'Eggs', done: false }, { id: 'd', name: 'Bread', done: false }, { id: 'e', name: 'Jam', done: false }] },
    conflicts: [],
  });
  // Without it, the arrays are values, changed on both sides: a conflict.
  assert.deepEqual(threeWayMerge(base, ours, theirs), { conflicts: ['/items'] });
  // One element changed on both sides differently; one removed by us and changed by them.
  const clash = { items: [{ id: 'a', name: 'Soy milk', done: false }, { id: 'b', name: 'Eggs', done: false }, { id: 'c', name: 'Green tea', done: false }] };
  assert.deepEqual(threeWayMerge(base, ours, clash, { idKey: 'id' }), { conflicts: ['/items/0/name', '/items/2'] });
  // Arrays that are not of objects with distinct ids stay values.
  assert.deepEqual(threeWayMerge({ tags: [1, 2] }, { tags: [1, 2, 3] }, { tags: [0, 1, 2] }, { idKey: 'id' }), { conflicts: ['/tags'] });
});

test('mergePatchBetween: the merge patch from one document to another, which applyMergePatch carries out', () => {
  const cases: [Json, Json][] = [
    [{ a: 1, b: { c: 2, d: 3 }, e: [1] }, { a: 1, b: { c: 4 }, e: [1, 2], f: 'new' }],
    [{ a: 1 }, {}],
    [{ a: { b: 1 } }, { a: 'flat' }],
    ['text', { a: 1 }],
  ];
  for (const [from, to] of cases) assert.deepEqual(applyMergePatch(from, mergePatchBetween(from, to)), to);
  assert.deepEqual(mergePatchBetween({ a: 1, b: { c: 2, d: 3 } }, { a: 1, b: { c: 4, d: 3 } }), { b: { c: 4 } }, 'only what changed');
});
