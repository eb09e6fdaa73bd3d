import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { connectRedis, startRedis } from './redis-server.js';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface StormOptions {
  /** Distinct writes, each with a key of its own. */
  writes: number;
  /**
   * The share of writes sent more than once, each copy at once (two or three copies).
   * Besides, one write in ten is sent again half a storm later, as a retry.
   */
  duplicateShare: number;
  connections: number;
  /** What happens halfway: nothing, one instance killed (SIGKILL), or the keys' Redis restarted. */
  fault: 'none' | 'kill-instance' | 'restart-redis';
  /** The keys' Redis: AOF on, or no persistence at all. */
  persistence: 'aof' | 'none';
}

export interface StormResult {
  writes: number;
  /** Requests the load generator sent (copies included). */
  requests: number;
  /** Writes applied, counting each application. */
  applied: number;
  /** Writes applied more than once, and how many extra times in all. */
  appliedTwice: number;
  /** Writes never applied, after the retries. */
  lost: number;
  /** Answers sent again from the key store (Idempotent-Replayed). */
  replayed: number;
  /** 409 "in flight" answers. */
  inFlight: number;
  /** Requests with no answer (connection reset, timeout) or a 5xx. */
  failed: number;
  /** Writes the client had to send again afterwards, as the outbox would, until answered. */
  retried: number;
  p50: number;
  p99: number;
  requestsPerSecond: number;
}

interface Write {
  id: string;
  key: string;
  body: string;
}

/**
 * A duplicate storm: three instances on one Redis, writes sent with their copies at once by
 * autocannon, a fault halfway, then every write not yet answered sent again with its key
 * until it is (as sw-outbox does), and the orders counted from the app's database.
 */
export async function storm(options: StormOptions): Promise<StormResult> {
  const keysRedis = await startRedis({ aof: options.persistence === 'aof' });
  const dataRedis = await startRedis();
  const app = spawn(process.execPath, ['--import', 'tsx', 'test/support/storm-app.ts'], {
    cwd: ROOT,
    env: { ...process.env, INSTANCES: '3', KEYS_REDIS_URL: keysRedis.url, DATA_REDIS_URL: dataRedis.url },
    // Its errors ("the reply could not be kept" while Redis restarts) are the storm's, not news.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  app.stderr!.on('data', (chunk: Buffer) => (errors = (errors + String(chunk)).slice(-4_000)));
  try {
    let output = '';
    let url = '';
    let pids: number[] = [];
    for await (const chunk of app.stdout!) {
      output += String(chunk);
      const ready = /storm: (\S+) ([\d ]+)\n/.exec(output);
      if (ready) {
        url = ready[1]!;
        pids = ready[2]!.split(' ').map(Number);
        break;
      }
    }
    if (!url) throw new Error(`the storm app exited before it listened: ${output}${errors}`);

    const run = Date.now().toString(36);
    const writes: Write[] = Array.from({ length: options.writes }, (_, i) => ({ id: `w${i}`, key: `"${run}-${i}"`, body: JSON.stringify({ id: `w${i}` }) }));
    const every = Math.round(1 / options.duplicateShare);
    // Copies one after another: the load generator's connections send them at the same time.
    const atOnce = writes.flatMap((write, i) => Array.from({ length: i % every === 0 ? 2 + ((i / every) % 2) : 1 }, () => write));
    // And one write in ten once more, half a storm later, as a client whose answer was lost
    // retries it: across the fault, for those sent before it.
    const later = atOnce.length / 2;
    const sequence = [
      ...atOnce.map((write, at) => ({ write, at })),
      ...atOnce.flatMap((write, at) => (atOnce[at - 1] !== write && Number(write.id.slice(1)) % 10 === 5 ? [{ write, at: at + later + 0.5 }] : [])),
    ]
      .sort((a, b) => a.at - b.at)
      .map(({ write }) => write);
    const answered = new Set<string>();
    let next = 0;
    let responses = 0;
    let replayed = 0;
    let inFlight = 0;
    let failedAnswers = 0;
    let fault: Promise<void> | undefined;
    const injectFault = () => {
      if (options.fault === 'kill-instance') process.kill(pids[0]!, 'SIGKILL');
      if (options.fault === 'restart-redis') return keysRedis.restart();
      return Promise.resolve();
    };

    const result = await autocannon({
      url,
      connections: options.connections,
      amount: sequence.length,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          path: '/orders',
          setupRequest: (request: autocannon.Request, context: object) => {
            const write = sequence[next++ % sequence.length]!;
            (context as { write?: Write }).write = write;
            return { ...request, headers: { 'content-type': 'application/json', 'idempotency-key': write.key }, body: write.body };
          },
          onResponse: (status: number, _body: string, context: object, headers: autocannon.Request['headers']) => {
            const write = (context as { write: Write }).write;
            if (status === 201) answered.add(write.id);
            if (headers?.['idempotent-replayed']) replayed += 1;
            if (status === 409) inFlight += 1;
            if (status >= 500) failedAnswers += 1;
            if (++responses === Math.floor(sequence.length / 2)) fault = injectFault();
          },
        },
      ],
    });
    await fault;

    // As the outbox does: each write without its answer goes again with its key until it has one.
    let retried = 0;
    for (const write of writes) {
      if (answered.has(write.id)) continue;
      retried += 1;
      for (;;) {
        const reply = await fetch(`${url}/orders`, { method: 'POST', body: write.body, headers: { 'content-type': 'application/json', 'idempotency-key': write.key } }).catch(() => undefined);
        if (reply?.status === 201) break;
        await reply?.body?.cancel();
        await delay(reply?.status === 409 ? 200 : 100);
      }
    }

    const data = await connectRedis(dataRedis.url);
    const applications = await data.lRange('storm:applied', 0, -1);
    data.destroy();
    const counts = new Map<string, number>();
    for (const id of applications) counts.set(id, (counts.get(id) ?? 0) + 1);
    return {
      writes: writes.length,
      requests: sequence.length,
      applied: applications.length,
      appliedTwice: [...counts.values()].filter((count) => count > 1).length,
      lost: writes.filter((write) => !counts.has(write.id)).length,
      replayed,
      inFlight,
      failed: result.errors + result.timeouts + failedAnswers,
      retried,
      p50: result.latency.p50,
      p99: result.latency.p99,
      requestsPerSecond: result.requests.average,
    };
  } finally {
    // The primary, then its instances: killed with it, a cluster's workers end as their channel closes.
    app.kill('SIGKILL');
    await once(app, 'exit').catch(() => {});
    await Promise.all([keysRedis.stop(), dataRedis.stop()]);
  }
}
