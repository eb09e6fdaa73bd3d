/**
 * npm start: the grocery-list demo on http://localhost:8080/ (PORT to change it). It
 * serves the built files, so `npm start` builds first.
 *
 *   REDIS_URL=redis://127.0.0.1:6379   keep the lists and Idempotency-Keys in Redis
 *   INSTANCES=3                        run that many server processes behind the one port
 *                                      (node:cluster; needs REDIS_URL, which they share)
 *   LEASE_MS=60000                     how long a write's key stays claimed while processed
 */
import cluster from 'node:cluster';
import { createClient } from 'redis';
import { DemoServer } from './server/demo-server.js';

const port = Number(process.env.PORT ?? 8080);
const instances = Number(process.env.INSTANCES ?? 1);
const redisUrl = process.env.REDIS_URL;

if (!Number.isInteger(instances) || instances < 1) fail(`INSTANCES must be a whole number of server processes, 1 or more; got "${process.env.INSTANCES}".`);
if (instances > 1 && !redisUrl) fail('INSTANCES needs REDIS_URL: instances share their lists and keys through Redis, e.g. REDIS_URL=redis://127.0.0.1:6379 INSTANCES=3 npm start.');

if (instances > 1 && cluster.isPrimary) {
  for (let i = 0; i < instances; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => console.log(`instance ${worker.process.pid} stopped (${signal ?? code})`));
} else {
  const redis = redisUrl ? await createClient({ url: redisUrl }).on('error', (error: Error) => console.error(`Redis: ${error.message}`)).connect().catch((error: Error) => fail(`Cannot reach Redis at ${redisUrl}: ${error.message}`)) : undefined;
  const leaseMs = process.env.LEASE_MS === undefined ? undefined : Number(process.env.LEASE_MS);
  const server = await DemoServer.start({ port, host: 'localhost', redis, leaseMs }).catch((error: NodeJS.ErrnoException) =>
    fail(error.code === 'EADDRINUSE' ? `Port ${port} is in use: set PORT to another one, e.g. PORT=8081 npm start.` : String(error)),
  );
  const where = redis ? `data in Redis at ${redisUrl}, instance pid ${process.pid}` : 'data in this process';
  console.log(`sw-outbox grocery demo: ${server.url}/  (${where}; Ctrl+C to stop)`);
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}
