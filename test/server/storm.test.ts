import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storm, type StormOptions } from '../support/storm.js';

/**
 * Duplicate storms on Redis at a size CI can run (the figures at full size are
 * `npm run bench:server`'s): three instances on one redis-server, 600 writes, a fifth of
 * them sent two or three times at once and a tenth again later, 30 connections.
 */
const SMALL: Omit<StormOptions, 'fault' | 'persistence'> = { writes: 600, duplicateShare: 0.2, connections: 30 };
const figures = (result: Awaited<ReturnType<typeof storm>>) => `applied ${result.applied} of ${result.writes} (${result.appliedTwice} twice), ${result.replayed} answered from the store, ${result.inFlight} in flight, ${result.failed} failed, ${result.retried} retried`;

test('a storm of duplicates: every write applied once; the copies are answered from the store or told the first is in flight', { timeout: 60_000 }, async (t) => {
  const result = await storm({ ...SMALL, fault: 'none', persistence: 'aof' });
  t.diagnostic(figures(result));
  assert.deepEqual([result.applied, result.appliedTwice, result.lost], [result.writes, 0, 0]);
  assert.ok(result.replayed > 0 && result.inFlight > 0, 'copies met both the kept answer and the first in flight');
});

test('Redis restarted in the middle of the storm, with AOF: every write applied once', { timeout: 60_000 }, async (t) => {
  const result = await storm({ ...SMALL, fault: 'restart-redis', persistence: 'aof' });
  t.diagnostic(figures(result));
  assert.deepEqual([result.applied, result.appliedTwice, result.lost], [result.writes, 0, 0]);
});

test('the control: Redis restarted with no persistence forgets the keys, and retries of writes answered before it are applied again', { timeout: 60_000 }, async (t) => {
  const result = await storm({ ...SMALL, fault: 'restart-redis', persistence: 'none' });
  t.diagnostic(figures(result));
  assert.equal(result.lost, 0);
  assert.ok(result.appliedTwice > 0, 'without persistence, some writes are applied twice');
});

test('an instance killed in the middle of the storm: nothing is lost; a write it had applied without keeping the reply is applied again after the lease', { timeout: 60_000 }, async (t) => {
  const result = await storm({ ...SMALL, fault: 'kill-instance', persistence: 'aof' });
  t.diagnostic(figures(result));
  assert.equal(result.lost, 0, 'every write applied at least once');
  // A request the killed instance held may end as a dropped connection (counted as failed)
  // or go unfinished when the storm's last request is out: either way its write had no
  // answer, and was sent again after the storm.
  assert.ok(result.retried > 0, 'the killed instance left writes without their answer, sent again after the storm');
});
