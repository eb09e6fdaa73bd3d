import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { DoneRecord, IdempotencyStore, InFlightRecord } from '../../server/index.js';

/**
 * What every IdempotencyStore must do, run against each (memory, Redis). Expiry is real
 * time here, as Redis keeps it: records are given lifetimes of a few tens of milliseconds.
 */
export function storeContract(name: string, makeStore: () => IdempotencyStore): void {
  const claim = (leaseMs = 60_000): InFlightRecord => ({ state: 'in-flight', fingerprint: 'f', expiresAt: Date.now() + leaseMs, token: randomUUID() });
  const done = (body: DoneRecord['reply']['body'] = '{"n":1}', ttlMs = 60_000): DoneRecord => ({
    state: 'done',
    fingerprint: 'f',
    expiresAt: Date.now() + ttlMs,
    reply: { status: 201, headers: { 'content-type': 'application/json', location: '/things/1' }, body },
  });
  const key = () => `\n${randomUUID()}`;

  test(`${name}: the first claim stores; later ones get it, and store nothing`, async () => {
    const store = makeStore();
    const k = key();
    const first = claim();
    assert.equal(await store.claim(k, first, Date.now()), undefined);
    assert.deepEqual(await store.claim(k, claim(), Date.now()), first);
    assert.deepEqual(await store.claim(k, claim(), Date.now()), first);
  });

  test(`${name}: of many claims at once of one key, exactly one stores`, async () => {
    const store = makeStore();
    const k = key();
    const results = await Promise.all(Array.from({ length: 25 }, () => store.claim(k, claim(), Date.now())));
    assert.equal(results.filter((live) => live === undefined).length, 1);
  });

  test(`${name}: complete keeps the reply, text or bytes, for the next claim`, async () => {
    const store = makeStore();
    for (const body of ['{"n":1}', new Uint8Array([0, 255, 10, 13, 128])]) {
      const k = key();
      const first = claim();
      await store.claim(k, first, Date.now());
      const record = done(body);
      await store.complete(k, first, record, Date.now());
      assert.deepEqual(await store.claim(k, claim(), Date.now()), record);
    }
  });

  test(`${name}: release frees the key for a new claim`, async () => {
    const store = makeStore();
    const k = key();
    const first = claim();
    await store.claim(k, first, Date.now());
    await store.release(k, first);
    assert.equal(await store.claim(k, claim(), Date.now()), undefined);
  });

  test(`${name}: a claim whose lease ran out is gone, and cannot settle the claim made after it`, async () => {
    const store = makeStore();
    const k = key();
    const stale = claim(20);
    await store.claim(k, stale, Date.now());
    await waitUntil(stale.expiresAt + 5);
    const next = claim();
    assert.equal(await store.claim(k, next, Date.now()), undefined, 'an expired lease frees the key');
    await store.complete(k, stale, done('stale'), Date.now());
    await store.release(k, stale);
    assert.deepEqual(await store.claim(k, claim(), Date.now()), next, 'the later claim is untouched');
  });

  test(`${name}: a reply is kept until its record expires, then the key is new`, async () => {
    const store = makeStore();
    const k = key();
    const first = claim();
    await store.claim(k, first, Date.now());
    const record = done('{"n":1}', 30);
    await store.complete(k, first, record, Date.now());
    assert.deepEqual(await store.claim(k, claim(), Date.now()), record);
    await waitUntil(record.expiresAt + 5);
    assert.equal(await store.claim(k, claim(), Date.now()), undefined);
  });
}

/** Waits for a moment on the clock: expiry is the very thing being tested. */
async function waitUntil(time: number): Promise<void> {
  while (Date.now() < time) await new Promise((resolve) => setTimeout(resolve, time - Date.now()));
}
