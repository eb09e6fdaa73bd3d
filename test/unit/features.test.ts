/** Which features options use, and the error for one that was not loaded (decision 0031). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { feature, featuresFor } from '../../sw/features.js';
import { OutboxError } from '../../sw/outbox-error.js';
import { resolveOptions } from '../../sw/resolve-options.js';

test('the features options use: none by default, one per option that asks', () => {
  assert.deepEqual(featuresFor(resolveOptions({})), []);
  assert.deepEqual(featuresFor(resolveOptions({ shell: ['/'] })), ['reads']);
  assert.deepEqual(featuresFor(resolveOptions({ reads: ['/api/'], encryptionKeyPath: '/key', collections: ['/todos'] })), ['reads', 'atRest', 'collections']);
  assert.deepEqual(featuresFor(resolveOptions({ conflicts: { merge: ['/api/'] }, forms: true, fold: ['/api/'] })), [], 'in the core');
});

test('a feature the options use that was not loaded: an invalid-option error naming the option, the file to serve and the module to import', () => {
  assert.throws(
    () => feature('reads'),
    (error: unknown) => error instanceof OutboxError && error.code === 'invalid-option' && /option reads needs its feature/.test(error.message) && error.message.includes('outbox-sw-reads.js') && error.message.includes("import 'sw-outbox/sw/reads'"),
  );
});
