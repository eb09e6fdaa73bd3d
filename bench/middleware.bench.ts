/**
 * What the Idempotency-Key middleware adds to a write on Express, Fastify and Hono:
 * latency per request with the memory store and with Redis (a real redis-server on
 * loopback), beside the same route without the middleware, in one run. Each framework
 * serves from its own process; one client sends sequential POSTs over a kept-alive
 * connection, each with a new key, the three routes taking turns round by round.
 * Prints figures; passes or fails nothing.
 *
 *   npm run bench:server               (about a minute)
 *   BENCH_REQUESTS=2000 BENCH_ROUNDS=5 requests per route per round, and rounds
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { startRedis } from '../test/support/redis-server.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP = 500;
const ROOT = new URL('..', import.meta.url).pathname;
const ARMS = ['plain', 'memory', 'redis'] as const;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const body = JSON.stringify({ name: 'Oat milk' });

async function serverOf(framework: string, redisUrl: string): Promise<{ port: number; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/middleware-server.ts', framework, redisUrl], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  for await (const chunk of child.stdout) return { port: Number(String(chunk).trim()), stop: () => child.kill() };
  throw new Error(`the ${framework} server exited before it listened`);
}

let sent = 0;
/** One POST; resolves with its latency in milliseconds once the reply is read. */
function post(port: number, arm: string): Promise<number> {
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length), 'idempotency-key': `"bench-${++sent}"` };
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request({ agent, port, host: '127.0.0.1', method: 'POST', path: `/${arm}/things`, headers }, (res) => {
      if (res.statusCode !== 201) reject(new Error(`${arm}: ${res.statusCode}`));
      res.resume().on('end', () => resolve(Number(process.hrtime.bigint() - start) / 1e6));
    });
    req.on('error', reject).end(body);
  });
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const redis = await startRedis();
console.log(`Idempotency-Key middleware: ${ROUNDS} rounds of ${REQUESTS} sequential POSTs per route, Node ${process.version}, redis-server on loopback\n`);
console.log('| Framework | no middleware, median | memory store: median, added, ratio | Redis store: median, added, ratio | p95 none / memory / Redis |');
console.log('| --- | --- | --- | --- | --- |');
try {
  for (const framework of ['express', 'fastify', 'hono']) {
    const server = await serverOf(framework, redis.url);
    const times: Record<(typeof ARMS)[number], number[]> = { plain: [], memory: [], redis: [] };
    for (const arm of ARMS) for (let i = 0; i < WARMUP; i++) await post(server.port, arm);
    for (let round = 0; round < ROUNDS; round++) {
      for (const arm of ARMS) for (let i = 0; i < REQUESTS; i++) times[arm].push(await post(server.port, arm));
    }
    server.stop();
    const [plain, memory, withRedis] = ARMS.map((arm) => times[arm].sort((a, b) => a - b));
    const median = (sorted: number[]) => quantile(sorted, 0.5);
    const cell = (sorted: number[]) => `${(median(sorted) * 1000).toFixed(0)} µs, +${((median(sorted) - median(plain!)) * 1000).toFixed(0)} µs, ×${(median(sorted) / median(plain!)).toFixed(2)}`;
    const p95 = [plain!, memory!, withRedis!].map((sorted) => `${(quantile(sorted, 0.95) * 1000).toFixed(0)}`).join(' / ');
    console.log(`| ${framework} | ${(median(plain!) * 1000).toFixed(0)} µs | ${cell(memory!)} | ${cell(withRedis!)} | ${p95} µs |`);
  }
} finally {
  agent.destroy();
  await redis.stop();
}
