/**
 * Duplicate storms on Redis, at full size: three instances of an orders API (sw-outbox/server's
 * Express middleware, RedisIdempotencyStore) on one redis-server, 10,000 writes with a fifth
 * sent two or three times at once and a tenth again half a storm later, from autocannon at
 * 100 connections, all on 127.0.0.1. Halfway: nothing; one instance killed; the keys' Redis
 * restarted with AOF on; and with no persistence. Then every write left without an answer is
 * sent again with its key until it has one, as sw-outbox does, and the orders are counted.
 * Prints figures; passes or fails nothing (test/server/storm.test.ts asserts, smaller).
 *
 *   npm run bench:server            (with the middleware's latency figures)
 *   STORM_WRITES=10000 STORM_CONNECTIONS=100
 */
import { storm, type StormOptions } from '../test/support/storm.js';

const writes = Number(process.env.STORM_WRITES ?? 10_000);
const connections = Number(process.env.STORM_CONNECTIONS ?? 100);
const arms: [string, Pick<StormOptions, 'fault' | 'persistence'>][] = [
  ['no fault', { fault: 'none', persistence: 'aof' }],
  ['one instance killed', { fault: 'kill-instance', persistence: 'aof' }],
  ['Redis restarted, AOF on', { fault: 'restart-redis', persistence: 'aof' }],
  ['Redis restarted, no persistence', { fault: 'restart-redis', persistence: 'none' }],
];

console.log(`\nDuplicate storms: ${writes} writes (a fifth sent 2-3 times at once, a tenth again later), ${connections} connections, 3 instances on one redis-server, Node ${process.version}\n`);
console.log('| halfway | requests | applied (distinct writes) | applied twice | lost | answered from the store | 409 in flight | failed, then retried | p50 / p99 latency | requests/s |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [name, arm] of arms) {
  const r = await storm({ writes, duplicateShare: 0.2, connections, ...arm });
  console.log(`| ${name} | ${r.requests} | ${r.applied} (${r.writes}) | ${r.appliedTwice} | ${r.lost} | ${r.replayed} | ${r.inFlight} | ${r.failed}, ${r.retried} | ${r.p50} / ${r.p99} ms | ${Math.round(r.requestsPerSecond)} |`);
}
