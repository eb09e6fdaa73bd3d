import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { createClient } from 'redis';

/** A real redis-server (Debian's package) on a free loopback port. */
export interface RedisServer {
  url: string;
  stop(): Promise<void>;
  /** Shuts it down (SIGTERM: with AOF on, everything written is on disk) and starts it again on the same port and files. */
  restart(): Promise<void>;
}

/** A connected node-redis client, as an app makes one. */
export function connectRedis(url: string) {
  return createClient({ url }).connect();
}
export type RedisClient = Awaited<ReturnType<typeof connectRedis>>;

/**
 * Starts one. By default nothing is saved to disk; with `aof`, every write is appended to
 * the append-only file in `dir` (a fresh temporary folder) and fsynced each second, as
 * Redis's own default for AOF.
 */
export async function startRedis({ aof = false }: { aof?: boolean } = {}): Promise<RedisServer> {
  const dir = aof ? await mkdtemp(join(tmpdir(), 'sw-outbox-redis-')) : undefined;
  const args = (port: number) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...(dir ? ['--appendonly', 'yes', '--dir', dir] : ['--appendonly', 'no'])];
  // A port found free can be taken before redis-server binds it; try another then.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    let process = spawn('redis-server', args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
    const stop = async () => {
      if (process.exitCode !== null || process.signalCode !== null) return;
      process.kill('SIGTERM');
      await once(process, 'exit');
    };
    try {
      await ready(process);
      return {
        url: `redis://127.0.0.1:${port}`,
        async stop() {
          await stop();
          if (dir) await rm(dir, { recursive: true, force: true });
        },
        async restart() {
          await stop();
          process = spawn('redis-server', args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
          await ready(process);
        },
      };
    } catch (error) {
      process.kill('SIGKILL');
      if (attempt === 3) throw error;
    }
  }
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

function ready(process: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    process.once('error', (error) => reject(new Error(`redis-server could not start (${error.message}); install it: apt-get install redis-server`)));
    process.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
    process.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
  });
}

/**
 * A redis-server and a client on it for the tests of a file or a describe: started before
 * them, stopped after. `client()` is the connected client, once they run.
 */
export function redisForTests(): { client(): RedisClient } {
  let redis: RedisServer | undefined;
  let client: RedisClient | undefined;
  before(async () => {
    redis = await startRedis();
    client = await connectRedis(redis.url);
  });
  after(async () => {
    client?.destroy();
    await redis?.stop();
  });
  return {
    client() {
      if (!client) throw new Error('redisForTests(): the client is there once the tests run, not while they are declared.');
      return client;
    },
  };
}
