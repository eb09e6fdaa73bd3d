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
    whenQueued: 'accept',
    retryBaseMs: 1_000,
    retryMaxMs: 60_000,
    maxAttempts: 10,
    maxAgeMs: 604_800_000,
    concurrency: 6,
    shell: [],
    reads: [],
    readStrategy: 'network-first',
    readsMaxEntries: 200,
    readsMaxAgeMs: 604_800_000,
    forms: false,
    formSavedUrl: undefined,
    fold: [],
    merge: [],
    keepTheirs: [],
    mergeIdKey: undefined,
    keepMine: [],
    credentialHeaders: ['authorization', 'proxy-authorization'],
    signInPaths: ['/login', '/signin', '/sign-in', '/sign_in', '/users/sign_in', '/session/new', '/accounts/login', '/auth/login'],
    encryptionKeyUrl: undefined,
    collections: [],
    idMember: 'id',
    urlMember: undefined,
    debug: false,
  });
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
  const input: OutboxOptionsInput = { include: ['/api/', '/rpc/*'], origins: ['https://api.example.com'], maxAttempts: 3, debug: true };
  assert.deepEqual(resolveOptions(parseOptionsQuery(toOptionsQuery(input))), resolveOptions(input));
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
  fails(() => resolveOptions({ retryBaseMs: 0 }), 'invalid-option', '1 or more');
  fails(() => resolveOptions({ maxAttempts: 2.5 }), 'invalid-option', 'whole number');
  fails(() => resolveOptions({ retryBaseMs: 5_000, retryMaxMs: 1_000 }), 'invalid-option', 'below retryBaseMs');
  fails(() => resolveOptions({ whenQueued: 'drop' } as unknown as OutboxOptionsInput), 'invalid-option', '"accept"');
  fails(() => resolveOptions({ debug: 'yes' } as unknown as OutboxOptionsInput), 'invalid-option', 'true or false');
  fails(() => resolveOptions(null as unknown as OutboxOptionsInput), 'invalid-option', 'must be an object');
  fails(() => resolveOptions(parseOptionsQuery('timeoutMs=soon')), 'invalid-option', '"timeoutMs" is "soon"');
  fails(() => resolveOptions({ shell: ['/assets/*'] }), 'invalid-option', 'exact paths of the shell');
  fails(() => resolveOptions({ shell: ['index.html'] }), 'invalid-option', 'does not start with "/"');
  fails(() => resolveOptions({ readStrategy: 'cache-first' } as unknown as OutboxOptionsInput), 'invalid-option', '"stale-while-revalidate"');
  fails(() => resolveOptions({ readsMaxEntries: 0 }), 'invalid-option', '"readsMaxEntries" is 0');
  fails(() => resolveOptions({ formSavedUrl: 'https://elsewhere.example/saved' }), 'invalid-option', 'same-origin path');
  fails(() => resolveOptions({ encryptionKeyUrl: 'outbox-key' }), 'invalid-option', '"/outbox-key"');
});

test('offline reads from the query string', () => {
  const input = parseOptionsQuery('?shell=/,/app.js&reads=/api/lists&readStrategy=stale-while-revalidate&readsMaxEntries=50');
  assert.deepEqual(resolveOptions(input), { ...resolveOptions(), shell: ['/', '/app.js'], reads: ['/api/lists'], readStrategy: 'stale-while-revalidate', readsMaxEntries: 50 });
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
