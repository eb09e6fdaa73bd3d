import { describe } from 'node:test';
import { MemoryDeviceKeyStore, RedisDeviceKeyStore } from '../../server/index.js';
import { deviceKeyStoreContract } from '../support/device-key-store-contract.js';
import { redisForTests } from '../support/redis-server.js';

deviceKeyStoreContract('MemoryDeviceKeyStore', () => new MemoryDeviceKeyStore());

describe('RedisDeviceKeyStore on a real redis-server', () => {
  const redis = redisForTests();
  deviceKeyStoreContract('RedisDeviceKeyStore', () => new RedisDeviceKeyStore({ client: redis.client() }));
});
