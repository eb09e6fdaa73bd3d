import { after, before, describe } from 'node:test';
import { MemoryDeviceKeyStore, RedisDeviceKeyStore } from '../../server/index.js';
import { deviceKeyStoreContract } from '../support/device-key-store-contract.js';
import { connectRedis, startRedis, type RedisClient, type RedisServer } from '../support/redis-server.js';

deviceKeyStoreContract('MemoryDeviceKeyStore', () => new MemoryDeviceKeyStore());

describe('RedisDeviceKeyStore on a real redis-server', () => {
  let redis: RedisServer;
  let client: RedisClient;
  before(async () => {
    redis = await startRedis();
    client = await connectRedis(redis.url);
  });
  after(async () => {
    client.destroy();
    await redis.stop();
  });
  deviceKeyStoreContract('RedisDeviceKeyStore', () => new RedisDeviceKeyStore({ client }));
});
