// One instance of an app's key endpoint as a deployment runs it: node:http, sw-outbox/server's
// DeviceKeys on RedisDeviceKeyStore (REDIS_URL). The `X-User` header stands for the app's
// session. Prints "keys: <url>" once listening; run with `node --import tsx`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'redis';
import { DeviceKeys, keyEndpoint, RedisDeviceKeyStore } from '../../server/index.js';

const client = await createClient({ url: process.env.REDIS_URL }).connect();
const keys = new DeviceKeys({ store: new RedisDeviceKeyStore({ client }) });
const server = createServer(keyEndpoint(keys, (req) => req.headers['x-user'] as string | undefined)).listen(0, '127.0.0.1', () => {
  console.log(`keys: http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
