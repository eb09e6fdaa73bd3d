// The storm's server: an orders API as a deployment runs it, INSTANCES processes (node:cluster)
// behind one port, each with sw-outbox/server's Express middleware on one shared Redis for
// the keys (KEYS_REDIS_URL), and the orders in another Redis, the app's database
// (DATA_REDIS_URL). POST /orders { id } appends the order: applying it twice would show as
// its id twice. Prints "storm: <url> <pid> <pid> …" once every instance listens.
// Why not the demo server: its lists are one JSON document under one lock, which would
// measure that lock rather than the key store (docs/decisions/0025-duplicate-storms.md).
import cluster from 'node:cluster';
import express from 'express';
import { createClient } from 'redis';
import { idempotency } from '../../server/express.js';
import { RedisIdempotencyStore } from '../../server/index.js';

const instances = Number(process.env.INSTANCES ?? 3);

if (cluster.isPrimary) {
  const pids = Array.from({ length: instances }, () => cluster.fork().process.pid);
  let listening = 0;
  cluster.on('listening', (_worker, { port }) => {
    if (++listening === instances) console.log(`storm: http://127.0.0.1:${port} ${pids.join(' ')}`);
  });
} else {
  // Errors are reported by the commands that meet them; a client reconnects by itself.
  const keys = await createClient({ url: process.env.KEYS_REDIS_URL }).on('error', () => {}).connect();
  const data = await createClient({ url: process.env.DATA_REDIS_URL }).on('error', () => {}).connect();
  const app = express();
  app.use(express.json(), idempotency({ store: new RedisIdempotencyStore({ client: keys }), required: true, leaseMs: Number(process.env.LEASE_MS ?? 2_000) }));
  app.post('/orders', async (req, res) => {
    const { id } = req.body as { id: string };
    const n = await data.rPush('storm:applied', id);
    res.status(201).location(`/orders/${id}`).json({ id, n });
  });
  // A store that cannot be reached: 503, which frees nothing it did not claim, and the client retries.
  app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(503).json({ title: 'Try again', detail: error.message }));
  app.listen(0, '127.0.0.1');
}
