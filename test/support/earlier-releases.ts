import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = new URL('../..', import.meta.url).pathname;
/** The last commit of sw-outbox 0.1.0: the release whose users' browsers hold waiting writes. */
export const RELEASE_0_1 = 'd916779';
/** The last commit whose outbox kept store version 2 (before conflicts held their lanes). */
export const STORE_V2 = '3e190c2';
/** The last commit whose outbox kept store version 3 (before encryption at rest). */
export const STORE_V3 = '2b965d7';
/** The last commit of store version 4 with the queued body's top-level id (then provisional identities came). */
export const STORE_V4 = 'a59a682';

/**
 * Builds the drop-in worker of an earlier commit, as that commit built it, and returns
 * its path. Its sources are unpacked under node_modules/.cache, so that they resolve
 * their dependencies (idb-keyval, idb, workbox-*) from the project's own node_modules.
 */
export async function buildWorkerAt(commit: string): Promise<string> {
  const dir = join(ROOT, `node_modules/.cache/sw-outbox-${commit}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    // server/ too: later workers import its JSON merge.
    const paths = execFileSync('git', ['-C', ROOT, 'ls-tree', '--name-only', commit, 'sw', 'server'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const tar = execFileSync('git', ['-C', ROOT, 'archive', '--format=tar', commit, ...paths], { maxBuffer: 16 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
  } catch (error) {
    throw new Error(`cannot unpack sw-outbox from commit ${commit}: the upgrade tests need the project's git history (not a shallow clone). ${String(error)}`);
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
