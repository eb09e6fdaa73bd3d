import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createClient } from 'redis';

/** A real redis-server (Debian's package) on a free loopback port, with nothing saved to disk. */
export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

/** A connected node-redis client, as an app makes one. */
export function connectRedis(url: string) {
  return createClient({ url }).connect();
}
export type RedisClient = Awaited<ReturnType<typeof connectRedis>>;

export async function startRedis(): Promise<RedisServer> {
  // A port found free can be taken before redis-server binds it; try another then.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const process = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await ready(process);
      return {
        url: `redis://127.0.0.1:${port}`,
        async stop() {
          if (process.exitCode !== null) return;
          process.kill('SIGTERM');
          await once(process, 'exit');
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
