import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = new URL('../..', import.meta.url).pathname;
/** The last commit of sw-outbox 0.1.0: the release whose users' browsers hold waiting writes. */
export const RELEASE_0_1 = 'd916779';

/**
 * Builds the 0.1 drop-in worker from its commit, as that release built it, and returns
 * its path. Its sources are unpacked under node_modules/.cache, so that they resolve
 * idb-keyval and workbox-routing from the project's own node_modules.
 */
export async function buildRelease01(): Promise<string> {
  const dir = join(ROOT, 'node_modules/.cache/sw-outbox-0.1');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const tar = execFileSync('git', ['-C', ROOT, 'archive', '--format=tar', RELEASE_0_1, 'sw'], { maxBuffer: 16 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
  } catch (error) {
    throw new Error(`cannot unpack sw-outbox 0.1 from commit ${RELEASE_0_1}: the upgrade test needs the project's git history (not a shallow clone). ${String(error)}`);
  }
  const outfile = join(dir, 'outbox-sw.js');
  await build({
    entryPoints: [join(dir, 'sw/outbox-sw.ts')],
    outfile,
    bundle: true,
    format: 'iife',
    target: ['chrome100', 'firefox102', 'safari15.4'],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  return outfile;
}
