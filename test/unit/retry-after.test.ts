import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRetryAfter } from '../../sw/retry-after.js';

const NOW = Date.parse('Sun, 06 Nov 1994 08:49:37 GMT');

test('delay-seconds', () => {
  assert.equal(parseRetryAfter('120', NOW), 120_000);
  assert.equal(parseRetryAfter(' 0 ', NOW), 0);
});

test('the three HTTP-date forms, read as GMT', () => {
  assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:47 GMT', NOW), 10_000);
  assert.equal(parseRetryAfter('Sunday, 06-Nov-94 08:49:47 GMT', NOW), 10_000);
  assert.equal(parseRetryAfter('Sun Nov  6 08:49:47 1994', NOW), 10_000);
});

test('a date in the past means now', () => {
  assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:00:00 GMT', NOW), 0);
});

test('absent or malformed values give undefined', () => {
  for (const value of [null, undefined, '', '-5', '1.5', 'soon', '2024-01-01T00:00:00Z', 'Sun, 06 Nov 1994 08:49:47']) {
    assert.equal(parseRetryAfter(value, NOW), undefined, String(value));
  }
});
