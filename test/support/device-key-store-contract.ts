import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { DeviceKeys, type DeviceKeyRecord, type DeviceKeyStore } from '../../server/index.js';

/** What every DeviceKeyStore must do, run against each (memory, Redis). */
export function deviceKeyStoreContract(name: string, makeStore: () => DeviceKeyStore): void {
  const record = (user = `user-${randomUUID()}`, device = `device-${randomUUID()}`): DeviceKeyRecord => ({
    kid: randomUUID(),
    user,
    device,
    publicKey: { kty: 'EC', crv: 'P-256', x: randomUUID(), y: 'y' },
    privateKey: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: randomUUID() },
    createdAt: Date.now(),
  });

  test(`${name}: a key put is found by its id and by its user's device, and by nothing else`, async () => {
    const store = makeStore();
    const key = record();
    await store.put(key);
    assert.deepEqual(await store.get(key.kid), key);
    assert.deepEqual(await store.find(key.user, key.device), key);
    assert.equal(await store.get(randomUUID()), undefined);
    assert.equal(await store.find(key.user, 'another device'), undefined);
    assert.equal(await store.find('another user', key.device), undefined);
  });

  test(`${name}: a user and a device are kept apart whatever characters they hold`, async () => {
    const store = makeStore();
    const suffix = randomUUID();
    const first = record(`a:b${suffix}`, 'c');
    const second = record('a', `b:c${suffix}`);
    const third = record(`a","b${suffix}`, '"\n');
    for (const key of [first, second, third]) await store.put(key);
    assert.deepEqual(await store.find(first.user, first.device), first);
    assert.deepEqual(await store.find(second.user, second.device), second);
    assert.deepEqual(await store.find(third.user, third.device), third);
  });

  test(`${name}: a device has one key: the first put stays, a later one for the same device is not kept`, async () => {
    const store = makeStore();
    const first = record();
    const later = { ...record(first.user, first.device) };
    await store.put(first);
    await store.put(later);
    assert.deepEqual(await store.find(first.user, first.device), first);
    assert.equal(await store.get(later.kid), undefined, 'nothing of the other is left to revoke');
  });

  test(`${name}: of twenty keys put at once for one device, one is kept`, async () => {
    const store = makeStore();
    const first = record();
    const keys = [first, ...Array.from({ length: 19 }, () => record(first.user, first.device))];
    await Promise.all(keys.map((key) => store.put(key)));
    const kept = await store.find(first.user, first.device);
    assert.ok(kept);
    const stored = await Promise.all(keys.map((key) => store.get(key.kid)));
    assert.deepEqual(stored.filter(Boolean), [kept]);
  });

  test(`${name}: a deleted key is gone by its id and its device, which can then be given a new one; deleting an unknown id does nothing`, async () => {
    const store = makeStore();
    const key = record();
    const other = record();
    await store.put(key);
    await store.put(other);
    await store.delete(key.kid);
    assert.equal(await store.get(key.kid), undefined);
    assert.equal(await store.find(key.user, key.device), undefined);
    await store.delete(randomUUID());
    assert.deepEqual(await store.get(other.kid), other, 'the others stay');
    const next = record(key.user, key.device);
    await store.put(next);
    assert.deepEqual(await store.find(key.user, key.device), next);
  });

  test(`${name}: DeviceKeys on it, asked twenty times at once for one device's key, gives one key to all`, async () => {
    const keys = new DeviceKeys({ store: makeStore() });
    const device = `phone-${randomUUID()}`;
    const issued = await Promise.all(Array.from({ length: 20 }, () => keys.issue('ann', device)));
    assert.equal(new Set(issued.map(({ kid }) => kid)).size, 1);
    assert.equal(await keys.revoke('ann', { device }), 1);
    assert.equal(await keys.privateKey('ann', issued[0]!.kid), undefined, 'revoking the device leaves no key of it');
  });
}
