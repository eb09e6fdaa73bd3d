import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutboxError } from '../../sw/outbox-error.js';
import { resolveOptions, type OutboxOptionsInput } from '../../sw/options.js';
import { hostQueryParameters, parseOptionsQuery, toOptionsQuery } from '../../sw/options-query.js';

const fails = (fn: () => unknown, code: string, mention: string) =>
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof OutboxError);
    assert.equal(error.code, code);
    assert.ok(error.message.includes(mention), `"${error.message}" should mention ${mention}`);
    return true;
  });

test('no options give the documented defaults', () => {
  assert.deepEqual(resolveOptions(), {
    include: ['/'],
    exclude: [],
    methods: ['POST', 'PUT', 'PATCH', 'DELETE'],
    origins: [],
    timeoutMs: 10_000,
    pageWaitMs: 10_000,
    whenQueued: 'accept',
    retry: { baseMs: 1_000, maxMs: 60_000, maxRetryableAnswers: 10 },
    maxAgeMs: 604_800_000,
    concurrency: 6,
    reads: { paths: [], shell: [], strategy: 'network-first', maxEntries: 200, maxAgeMs: 604_800_000 },
    forms: { enabled: false, savedPath: undefined },
    fold: [],
    conflicts: { merge: [], theirs: [], mine: [], idKey: undefined },
    credentialHeaders: ['authorization', 'proxy-authorization'],
    signInPaths: ['/login', '/signin', '/sign-in', '/sign_in', '/users/sign_in', '/session/new', '/accounts/login', '/auth/login'],
    encryptionKeyPath: undefined,
    collections: [],
    idMember: 'id',
    urlMember: undefined,
    debug: false,
  });
});

test('groups: retry, reads, forms and conflicts, each member on its own; a group given a list or a flag sets its main member', () => {
  const options = resolveOptions({ retry: { baseMs: 500 }, reads: { paths: ['/api/'], strategy: 'stale-while-revalidate' }, forms: { enabled: true, savedPath: '/saved.html' }, conflicts: { merge: ['/api/docs/'], idKey: 'id' } });
  assert.deepEqual(options.retry, { baseMs: 500, maxMs: 60_000, maxRetryableAnswers: 10 });
  assert.deepEqual(options.reads, { paths: ['/api/'], shell: [], strategy: 'stale-while-revalidate', maxEntries: 200, maxAgeMs: 604_800_000 });
  assert.deepEqual(options.forms, { enabled: true, savedPath: '/saved.html' });
  assert.deepEqual(options.conflicts, { merge: ['/api/docs/'], theirs: [], mine: [], idKey: 'id' });
  assert.deepEqual(resolveOptions({ reads: ['/api/'], forms: true }).reads.paths, ['/api/']);
  assert.equal(resolveOptions({ forms: true }).forms.enabled, true);
  assert.deepEqual(resolveOptions(parseOptionsQuery('outbox.retry.baseMs=250&outbox.reads=/api/&outbox.forms')), resolveOptions({ retry: { baseMs: 250 }, reads: { paths: ['/api/'] }, forms: { enabled: true } }));
});

test('a page waits for its write as long as an attempt may take, unless pageWaitMs says otherwise', () => {
  assert.equal(resolveOptions({ timeoutMs: 3_000 }).pageWaitMs, 3_000);
  assert.deepEqual([resolveOptions({ timeoutMs: 3_000, pageWaitMs: 500 }).timeoutMs, resolveOptions({ timeoutMs: 3_000, pageWaitMs: 500 }).pageWaitMs], [3_000, 500]);
});

test('the names of 0.1 and 0.2 still work, each saying once in the console what it is now', (t) => {
  const warnings = t.mock.method(console, 'warn', () => {});
  const old = resolveOptions({ retryBaseMs: 500, retryMaxMs: 5_000, maxAttempts: 3, shell: ['/'], reads: ['/api/'], readStrategy: 'stale-while-revalidate', readsMaxEntries: 10, readsMaxAgeMs: 1_000, forms: true, formSavedUrl: '/saved.html', merge: ['/a/'], keepTheirs: ['/b/'], keepMine: ['/c/'], mergeIdKey: 'id', encryptionKeyUrl: '/outbox-key' });
  const now = resolveOptions({ retry: { baseMs: 500, maxMs: 5_000, maxRetryableAnswers: 3 }, reads: { paths: ['/api/'], shell: ['/'], strategy: 'stale-while-revalidate', maxEntries: 10, maxAgeMs: 1_000 }, forms: { enabled: true, savedPath: '/saved.html' }, conflicts: { merge: ['/a/'], theirs: ['/b/'], mine: ['/c/'], idKey: 'id' }, encryptionKeyPath: '/outbox-key' });
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
