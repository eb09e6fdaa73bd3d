import { build } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;
const built = new Map<string, Promise<string>>();

/** Builds a worker of test/workers/ (a Workbox or Serwist app's) as its app would: one bundled script. Returns its path. */
export function buildWorker(name: `${'workbox' | 'serwist'}-${'sync' | 'outbox'}-sw`): Promise<string> {
  let path = built.get(name);
  if (!path) {
    const outfile = join(mkdtempSync(join(tmpdir(), 'sw-outbox-worker-')), `${name}.js`);
    path = build({ entryPoints: [join(ROOT, 'test/workers', `${name}.ts`)], outfile, bundle: true, format: 'iife', define: { 'process.env.NODE_ENV': '"production"' }, logLevel: 'warning' }).then(() => outfile);
    built.set(name, path);
  }
  return path;
}
