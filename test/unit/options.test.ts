import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { documentedOptions } from '../../scripts/options-reference.js';
import { OutboxError } from '../../sw/outbox-error.js';
import { type OutboxOptionsInput } from '../../sw/options.js';
import { NAMES } from '../../sw/option-names.js';
import { resolveOptions } from '../../sw/resolve-options.js';
import { hostQueryParameters, parseOptionsQuery, toOptionsQuery } from '../../sw/options-query.js';

const fails = (fn: () => unknown, code: string, mention: string) =>
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof OutboxError);
    assert.equal(error.code, code);
    assert.ok(error.message.includes(mention), `"${error.message}" should mention ${mention}`);
    return true;
  });

/**
 * The value an option's `@default` names: the literal it starts with (`10_000 (ms)`,
 * `['/']`, `'accept'`, `none`), or another option's value (`` `timeoutMs` ``).
 */
function documentedValue(fallback: string, resolved: Record<string, unknown>): unknown {
  const other = /^`([\w.]+)`/.exec(fallback);
  if (other) return resolved[other[1]!];
  const literal = /^(\[[^\]]*\]|'[^']*'|[\d_]+|true|false|none|undefined)/.exec(fallback)?.[1];
  if (literal === undefined) throw new Error(`@default "${fallback}" does not start with a value`);
  if (literal === 'none' || literal === 'undefined') return undefined;
  return /^[\d_]+$/.test(literal) ? Number(literal.replaceAll('_', '')) : JSON.parse(literal.replaceAll("'", '"'));
}

test("no options give the defaults sw/options.ts documents, option by option (the @default of each, as the options reference shows it)", () => {
  const options = resolveOptions() as unknown as Record<string, Record<string, unknown>>;
  const resolved = Object.fromEntries(NAMES.map((name) => [name, name.includes('.') ? options[name.split('.')[0]!]![name.split('.')[1]!] : options[name]]));
  const documented = documentedOptions(readFileSync(new URL('../../sw/options.ts', import.meta.url), 'utf8'));
  assert.deepEqual(documented.map(({ name }) => name).sort(), [...NAMES].sort(), 'every option is documented, and nothing else');
  for (const { name, fallback } of documented) assert.deepEqual(resolved[name], documentedValue(fallback, resolved), `${name}: its @default says ${fallback}`);
});

test('groups: retry, reads, forms, conflicts and collections, each member on its own; a group given a list or a flag sets its main member', () => {
  const options = resolveOptions({ retry: { baseMs: 500 }, reads: { paths: ['/api/'], strategy: 'stale-while-revalidate' }, forms: { enabled: true, savedPath: '/saved.html' }, conflicts: { merge: ['/api/docs/'], idKey: 'id' } });
  assert.deepEqual(options.retry, { baseMs: 500, maxMs: 60_000, maxRetryableAnswers: 10 });
  assert.deepEqual(options.reads, { paths: ['/api/'], shell: [], strategy: 'stale-while-revalidate', maxEntries: 200, maxAgeMs: 604_800_000 });
  assert.deepEqual(options.forms, { enabled: true, savedPath: '/saved.html' });
  assert.deepEqual(options.conflicts, { merge: ['/api/docs/'], theirs: [], mine: [], idKey: 'id' });
  assert.deepEqual(resolveOptions({ reads: ['/api/'], forms: true }).reads.paths, ['/api/']);
  assert.equal(resolveOptions({ forms: true }).forms.enabled, true);
  assert.deepEqual(resolveOptions({ collections: { paths: ['/todos'], urlMember: 'url' } }).collections, { paths: ['/todos'], idMember: 'id', urlMember: 'url' });
  assert.deepEqual(resolveOptions({ collections: ['/todos'] }).collections.paths, ['/todos']);
  assert.deepEqual(resolveOptions(parseOptionsQuery('collections=/todos,/todos/*/notes&collections.urlMember=url')).collections, { paths: ['/todos', '/todos/*/notes'], idMember: 'id', urlMember: 'url' });
  assert.deepEqual(resolveOptions(parseOptionsQuery('outbox.retry.baseMs=250&outbox.reads=/api/&outbox.forms')), resolveOptions({ retry: { baseMs: 250 }, reads: { paths: ['/api/'] }, forms: { enabled: true } }));
});

test('a page waits for its write as long as an attempt may take, unless pageWaitMs says otherwise', () => {
  assert.equal(resolveOptions({ timeoutMs: 3_000 }).pageWaitMs, 3_000);
  assert.deepEqual([resolveOptions({ timeoutMs: 3_000, pageWaitMs: 500 }).timeoutMs, resolveOptions({ timeoutMs: 3_000, pageWaitMs: 500 }).pageWaitMs], [3_000, 500]);
});

test('the names of 0.1 and 0.2 still work, each saying once in the console what it is now', (t) => {
  const warnings = t.mock.method(console, 'warn', () => {});
  const old = resolveOptions({ retryBaseMs: 500, retryMaxMs: 5_000, maxAttempts: 3, shell: ['/'], reads: ['/api/'], readStrategy: 'stale-while-revalidate', readsMaxEntries: 10, readsMaxAgeMs: 1_000, forms: true, formSavedUrl: '/saved.html', merge: ['/a/'], keepTheirs: ['/b/'], keepMine: ['/c/'], mergeIdKey: 'id', encryptionKeyUrl: '/outbox-key', collections: ['/todos'], idMember: '_id', urlMember: 'href' });
  const now = resolveOptions({ retry: { baseMs: 500, maxMs: 5_000, maxRetryableAnswers: 3 }, reads: { paths: ['/api/'], shell: ['/'], strategy: 'stale-while-revalidate', maxEntries: 10, maxAgeMs: 1_000 }, forms: { enabled: true, savedPath: '/saved.html' }, conflicts: { merge: ['/a/'], theirs: ['/b/'], mine: ['/c/'], idKey: 'id' }, encryptionKeyPath: '/outbox-key', collections: { paths: ['/todos'], idMember: '_id', urlMember: 'href' } });
  assert.deepEqual(old, now);
  const said = warnings.mock.calls.map((call) => String(call.arguments[0]));
  assert.ok(said.some((line) => line.includes('"maxAttempts" is now "retry.maxRetryableAnswers"')), said.join('\n'));
  resolveOptions({ maxAttempts: 4 });
  assert.equal(warnings.mock.calls.filter((call) => String(call.arguments[0]).includes('"maxAttempts"')).length, 1, 'once, however often it is given');
  assert.equal(resolveOptions(parseOptionsQuery('retryBaseMs=700')).retry.baseMs, 700);
  fails(() => resolveOptions({ retryBaseMs: 1, retry: { baseMs: 2 } }), 'invalid-option', '"retry.baseMs" is given twice');
});

test('the query string: lists comma-separated or repeated, numbers, flags', () => {
  const input = parseOptionsQuery('?include=/api/,/v2/&include=/rpc/*&methods=post,put&timeoutMs=5000&debug&whenQueued=reject');
  assert.deepEqual(input, { include: ['/api/', '/v2/', '/rpc/*'], methods: ['post', 'put'], timeoutMs: 5_000, debug: true, whenQueued: 'reject' });
  assert.deepEqual(resolveOptions(input).methods, ['POST', 'PUT']);
  assert.equal(parseOptionsQuery('debug=0').debug, false);
  assert.deepEqual(parseOptionsQuery(''), {});
});

test('an empty list survives the query string: signInPaths [] turns the sign-in rule off, rather than reading as the default', () => {
  assert.deepEqual(resolveOptions(parseOptionsQuery(toOptionsQuery({ signInPaths: [] }))).signInPaths, []);
  assert.deepEqual(resolveOptions({}).signInPaths.slice(0, 2), ['/login', '/signin']);
});

test('toOptionsQuery writes what parseOptionsQuery reads back', () => {
  const input: OutboxOptionsInput = { include: ['/api/', '/rpc/*'], origins: ['https://api.example.com'], retry: { maxRetryableAnswers: 3 }, reads: { paths: ['/api/'] }, debug: true };
  assert.deepEqual(resolveOptions(parseOptionsQuery(toOptionsQuery(input))), resolveOptions(input));
  assert.match(toOptionsQuery(input), /retry\.maxRetryableAnswers=3/);
});

test('every invalid option is named, with how to fix it', () => {
  fails(() => resolveOptions({ methods: ['GET'] } as unknown as OutboxOptionsInput), 'invalid-option', '"methods" has "GET"');
  fails(() => resolveOptions({ methods: [] }), 'invalid-option', '"methods" is empty');
  fails(() => resolveOptions({ include: ['api/'] }), 'invalid-option', 'does not start with "/"');
  fails(() => resolveOptions({ include: [] }), 'invalid-option', '"include" is empty');
  fails(() => resolveOptions({ exclude: '/api/' } as unknown as OutboxOptionsInput), 'invalid-option', 'list of strings');
  fails(() => resolveOptions({ origins: ['https://api.example.com/'] }), 'invalid-option', 'not an origin');
  fails(() => resolveOptions({ origins: ['ftp://files.example.com'] }), 'invalid-option', 'not an origin');
  fails(() => resolveOptions({ timeoutMs: 0 }), 'invalid-option', '"timeoutMs" is 0');
  fails(() => resolveOptions({ retry: { baseMs: 0 } }), 'invalid-option', '"retry.baseMs" is 0');
  fails(() => resolveOptions({ retry: { maxRetryableAnswers: 2.5 } }), 'invalid-option', 'whole number');
  fails(() => resolveOptions({ retry: { baseMs: 5_000, maxMs: 1_000 } }), 'invalid-option', 'below retry.baseMs');
  fails(() => resolveOptions({ retry: { base: 5 } } as unknown as OutboxOptionsInput), 'unknown-option', '"retry.base"');
  fails(() => resolveOptions({ whenQueued: 'drop' } as unknown as OutboxOptionsInput), 'invalid-option', '"accept"');
  fails(() => resolveOptions({ debug: 'yes' } as unknown as OutboxOptionsInput), 'invalid-option', 'true or false');
  fails(() => resolveOptions(null as unknown as OutboxOptionsInput), 'invalid-option', 'must be an object');
  fails(() => resolveOptions(parseOptionsQuery('timeoutMs=soon')), 'invalid-option', '"timeoutMs" is "soon"');
  fails(() => resolveOptions({ reads: { shell: ['/assets/*'] } }), 'invalid-option', 'exact paths of the shell');
  fails(() => resolveOptions({ reads: { shell: ['index.html'] } }), 'invalid-option', 'does not start with "/"');
  fails(() => resolveOptions({ reads: { strategy: 'cache-first' } } as unknown as OutboxOptionsInput), 'invalid-option', '"stale-while-revalidate"');
  fails(() => resolveOptions({ reads: { maxEntries: 0 } }), 'invalid-option', '"reads.maxEntries" is 0');
  fails(() => resolveOptions({ forms: { savedPath: 'https://elsewhere.example/saved' } }), 'invalid-option', 'same-origin path');
  fails(() => resolveOptions({ encryptionKeyPath: 'outbox-key' }), 'invalid-option', '"/outbox-key"');
  fails(() => resolveOptions({ conflicts: { merge: ['/a/'], theirs: ['/a/'] } }), 'invalid-option', 'one conflict policy');
});

test('offline reads from the query string', () => {
  const input = parseOptionsQuery('?reads.shell=/,/app.js&reads.paths=/api/lists&reads.strategy=stale-while-revalidate&reads.maxEntries=50');
  const reads = { paths: ['/api/lists'], shell: ['/', '/app.js'], strategy: 'stale-while-revalidate' as const, maxEntries: 50, maxAgeMs: 604_800_000 };
  assert.deepEqual(resolveOptions(input), { ...resolveOptions(), reads });
  // The README of 0.2 taught `shell=` and `reads=`: the same options.
  assert.deepEqual(resolveOptions(parseOptionsQuery('?shell=/,/app.js&reads=/api/lists&readStrategy=stale-while-revalidate&readsMaxEntries=50')).reads, reads);
});

test('an unknown option is refused, never ignored; in the query string, one named outbox.<name>', () => {
  fails(() => resolveOptions({ timeout: 5 } as unknown as OutboxOptionsInput), 'unknown-option', '"timeout"');
  fails(() => parseOptionsQuery('v=2&outbox.tmeoutMs=5'), 'unknown-option', 'as "outbox.tmeoutMs"');
});

test("a host worker's own query parameters are never an error, and never read as the outbox's", () => {
  // Plain names: the outbox reads its own and leaves the rest to the host.
  assert.deepEqual(parseOptionsQuery('v=2&include=/api/&build=abc'), { include: ['/api/'] });
  assert.deepEqual(hostQueryParameters('v=2&include=/api/&build=abc'), ['v', 'build']);
  // With the prefix, only prefixed names are the outbox's: the host may have its own "debug".
  assert.deepEqual(parseOptionsQuery('debug=1&outbox.include=/api/&outbox.timeoutMs=5000'), { include: ['/api/'], timeoutMs: 5_000 });
  assert.deepEqual(hostQueryParameters('debug=1&outbox.include=/api/'), ['debug']);
  assert.deepEqual(parseOptionsQuery('v=2'), {});
});
