import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryIdempotencyStore } from '../../server/index.js';
import { RedisIdempotencyStore } from '../../server/redis-store.js';
import { redisForTests } from '../support/redis-server.js';
import { storeContract } from '../support/store-contract.js';

storeContract('MemoryIdempotencyStore', () => new MemoryIdempotencyStore());

describe('RedisIdempotencyStore on a real redis-server', () => {
  const redis = redisForTests();
  storeContract('RedisIdempotencyStore', () => new RedisIdempotencyStore({ client: redis.client() }));

  test('keys go under the prefix, with the lease, then the key\'s lifetime, as Redis TTLs', async () => {
    const client = redis.client();
    const store = new RedisIdempotencyStore({ client, prefix: 'app-a:' });
    const now = Date.now();
    const claimed = { state: 'in-flight' as const, fingerprint: 'f', expiresAt: now + 5_000, token: 't' };
    await store.claim('\nk', claimed, now);
    assert.deepEqual(await client.keys('app-a:*'), ['app-a:\nk']);
    const lease = await client.pTTL('app-a:\nk');
    assert.ok(lease > 4_000 && lease <= 5_000, `lease TTL ${lease}`);
    await store.complete('\nk', claimed, { state: 'done', fingerprint: 'f', expiresAt: now + 3_600_000, reply: { status: 204, headers: {}, body: '' } }, now);
    const lifetime = await client.pTTL('app-a:\nk');
    assert.ok(lifetime > 3_500_000 && lifetime <= 3_600_000, `reply TTL ${lifetime}`);
  });

  test('a client that is not one is refused, saying what to pass', () => {
    assert.throws(() => new RedisIdempotencyStore({ client: {} as never }), /client must be a connected node-redis client/);
  });
});
