/**
 * The package as users get it: `npm pack` (which builds, through prepack), installed from
 * the tarball into a new project, then every entry point used as that project would:
 * imported under Node, bundled with esbuild, and type-checked under node16 and bundler.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { build } from 'esbuild';
import { FEATURE_FILES } from '../../sw/features.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
let project: string;

before(() => {
  project = mkdtempSync(join(tmpdir(), 'sw-outbox-package-'));
  execFileSync('npm', ['pack', '--silent', '--pack-destination', project], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(project).find((name) => name.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack made no tarball');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'adopter', private: true, type: 'module' }));
  // No runtime dependencies: the install needs no registry.
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--silent', `./${tarball}`], { cwd: project, stdio: ['ignore', 'ignore', 'inherit'] });
});
after(() => rmSync(project, { recursive: true, force: true }));

const node = (code: string) => execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: project, encoding: 'utf8' }).trim();

test('the tarball holds the built files, the licence and no sources or tests', () => {
  const files = execFileSync('tar', ['-tzf', readdirSync(project).find((name) => name.endsWith('.tgz'))!], { cwd: project, encoding: 'utf8' }).split('\n');
  for (const file of ['package/LICENSE', 'package/README.md', 'package/dist/outbox-sw.js', 'package/dist/outbox-sw.min.js', 'package/dist/outbox-register.js', 'package/dist/sw/index.js', 'package/dist/client/index.js', 'package/dist/server/index.js', 'package/dist/server/express.js', 'package/dist/server/fastify.js', 'package/dist/server/hono.js', 'package/dist/client/react.js', 'package/dist/types/sw/index.d.ts']) {
    assert.ok(files.includes(file), `${file} is in the tarball`);
  }
  assert.deepEqual(files.filter((file) => /^package\/(sw|client|server|test|demo|bench)\//.test(file)), []);
  // The drop-in as a core and one file per feature, each with its source map: the files sw/features.ts loads.
  const split = ['outbox-sw.js', ...Object.values(FEATURE_FILES).map(({ file }) => file)];
  assert.deepEqual(files.filter((file) => file.startsWith('package/dist/outbox-sw/')).sort(), split.flatMap((file) => [`package/dist/outbox-sw/${file}`, `package/dist/outbox-sw/${file}.map`]).sort());
});

test('sw-outbox/server works under Node, and sw-outbox/sw and sw-outbox/client import there without side effects', () => {
  assert.equal(node("const { Idempotency, json } = await import('sw-outbox/server'); const reply = await new Idempotency().run({ method: 'POST', path: '/x', key: '\"k\"', body: '' }, () => json(201, {})); console.log(reply.status);"), '201');
  assert.equal(node("const sw = await import('sw-outbox/sw'); const client = await import('sw-outbox/client'); console.log(typeof sw.installOutbox, typeof client.registerOutbox);"), 'function function');
  assert.equal(node("console.log((await import('sw-outbox/package.json', { with: { type: 'json' } })).default.version);"), JSON.parse(execFileSync('npm', ['pkg', 'get', 'version'], { cwd: ROOT, encoding: 'utf8' })));
});

test('the framework adapters run under Node with their framework, an optional peer the core never loads', () => {
  for (const file of ['index.js', 'express.js']) assert.doesNotMatch(readFileSync(join(project, 'node_modules/sw-outbox/dist/server', file), 'utf8'), /from ["'](express|fastify|hono|redis)/, `dist/server/${file} imports no framework`);
  // The app has its framework installed: this project gets the ones this repository tests with.
  mkdirSync(join(project, 'node_modules/@types'), { recursive: true });
  for (const peer of ['express', 'fastify', 'hono', 'react', '@types/react']) symlinkSync(join(ROOT, 'node_modules', peer), join(project, 'node_modules', peer));
  const write = "{ method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': '\"k\"' }, body: '{}' }";
  assert.equal(node(`
    const { Hono } = await import('hono');
    const { idempotency } = await import('sw-outbox/server/hono');
    const app = new Hono().use(idempotency()).post('/x', (c) => c.json({ made: 1 }, 201));
    const first = await app.request('/x', ${write});
    const again = await app.request('/x', ${write});
    console.log(first.status, again.headers.get('idempotent-replayed'));`), '201 ?1');
  assert.equal(node(`
    const { default: Fastify } = await import('fastify');
    const { idempotency } = await import('sw-outbox/server/fastify');
    const app = Fastify();
    await app.register(idempotency);
    app.post('/x', async (request, reply) => reply.code(201).send({ made: 1 }));
    const inject = () => app.inject({ method: 'POST', url: '/x', headers: { 'idempotency-key': '"k"' }, payload: {} });
    await inject();
    console.log((await inject()).headers['idempotent-replayed']);`), '?1');
  assert.equal(node("const { default: express } = await import('express'); const { idempotency } = await import('sw-outbox/server/express'); express().use(express.json(), idempotency()); console.log(typeof idempotency);"), 'function');
});

test('every entry bundles with esbuild: the worker API, the page helper, and the drop-in imported from a worker', async () => {
  const entries = {
    'worker.js': "import { installOutbox } from 'sw-outbox/sw'; installOutbox({ include: ['/api/'] });",
    'page.js': "import { registerOutbox, defineOutboxStatus } from 'sw-outbox/client'; defineOutboxStatus(); await registerOutbox();",
    'dropin.js': "import 'sw-outbox/outbox-sw.js';",
    'react.js': "import { useOutbox } from 'sw-outbox/react'; import { registerOutbox } from 'sw-outbox/client'; export { useOutbox, registerOutbox };",
  };
  for (const [name, contents] of Object.entries(entries)) {
    const result = await build({ stdin: { contents, resolveDir: project, sourcefile: name }, bundle: true, format: 'esm', write: false, absWorkingDir: project, logLevel: 'silent' });
    assert.equal(result.errors.length, 0);
    assert.ok(result.outputFiles[0]!.text.length > 1_000, `${name} bundled the package's code`);
    if (name === 'react.js') assert.equal(result.outputFiles[0]!.text.match(/\bOutboxClient\d* = class\b/g)?.length, 1, 'the hook and the page helper share one OutboxClient');
  }
});

test('sw-outbox/sw/core bundles without the optional features, and each feature\'s subpath brings its own in', async () => {
  const bundle = async (contents: string) => (await build({ stdin: { contents, resolveDir: project, sourcefile: 'worker.js' }, bundle: true, format: 'esm', write: false, absWorkingDir: project, logLevel: 'silent' })).outputFiles[0]!.text;
  // A class of each feature, as esbuild names it in an unminified bundle.
  const has = (code: string) => ({ reads: /\bNetworkFirst\d* = class\b/.test(code), atRest: /\bAtRest\d* = class\b/.test(code), collections: /\bProvisionalIdentities\d* = class\b/.test(code) });
  const install = "installOutbox({ include: ['/api/'] });";
  assert.deepEqual(has(await bundle(`import { installOutbox } from 'sw-outbox/sw/core'; ${install}`)), { reads: false, atRest: false, collections: false });
  assert.deepEqual(has(await bundle(`import { installOutbox } from 'sw-outbox/sw/core'; import 'sw-outbox/sw/reads'; ${install}`)), { reads: true, atRest: false, collections: false });
  assert.deepEqual(has(await bundle(`import { installOutbox } from 'sw-outbox/sw/core'; import 'sw-outbox/sw/at-rest'; import 'sw-outbox/sw/collections'; ${install}`)), { reads: false, atRest: true, collections: true });
  assert.deepEqual(has(await bundle(`import { installOutbox } from 'sw-outbox/sw'; ${install}`)), { reads: true, atRest: true, collections: true });
});

test('the types resolve under node16 and bundler module resolution', () => {
  writeFileSync(join(project, 'use.ts'), [
    "import { installOutbox, type OutboxOptions } from 'sw-outbox/sw';",
    "import { createOutbox } from 'sw-outbox/sw/core';",
    "import 'sw-outbox/sw/reads';",
    "import { OutboxClient, type PendingWrite } from 'sw-outbox/client';",
    "import { Idempotency, RedisIdempotencyStore, type Reply } from 'sw-outbox/server';",
    "import { idempotency as forExpress } from 'sw-outbox/server/express';",
    "import { idempotency as forFastify } from 'sw-outbox/server/fastify';",
    "import { idempotency as forHono } from 'sw-outbox/server/hono';",
    "import { useOutbox, type UseOutbox } from 'sw-outbox/react';",
    'const options: Partial<OutboxOptions> = { include: ["/api/"] };',
    'export const uses: unknown[] = [installOutbox, createOutbox, options, OutboxClient, Idempotency, RedisIdempotencyStore, forExpress, forFastify, forHono, useOutbox, {} as PendingWrite | Reply | UseOutbox];',
  ].join('\n'));
  for (const [module, moduleResolution] of [['node16', 'node16'], ['esnext', 'bundler']] as const) {
    // A Node project has @types/node, which sw-outbox/server's types (node:http) need.
    const config = { compilerOptions: { target: 'ES2022', module, moduleResolution, strict: true, noEmit: true, lib: ['ES2022', 'DOM'], typeRoots: [join(ROOT, 'node_modules/@types')], types: ['node'] }, files: ['use.ts'] };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(config));
    try {
      execFileSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      assert.fail(`types under ${moduleResolution}: ${(error as { stdout: string }).stdout}`);
    }
  }
});
