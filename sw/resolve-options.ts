/** Checks the options a caller gave, and fills in the documented defaults. */
import { OutboxError } from './outbox-error.js';
import { CHOICES, flatten, invalid, isOptionName, KINDS, NAMES } from './option-names.js';
import { DEFAULT_CONCURRENCY, DEFAULT_MAX_AGE_MS, DEFAULT_MAX_RETRYABLE_ANSWERS, DEFAULT_RETRY_BASE_MS, DEFAULT_RETRY_MAX_MS, DEFAULT_TIMEOUT_MS, WRITE_METHODS, type Groups, type OptionName, type OutboxOptions, type OutboxOptionsInput } from './options.js';

function defaults(): OutboxOptions {
  return {
    include: ['/'],
    exclude: [],
    methods: [...WRITE_METHODS],
    origins: [],
    timeoutMs: DEFAULT_TIMEOUT_MS,
    pageWaitMs: DEFAULT_TIMEOUT_MS,
    whenQueued: 'accept',
    retry: { baseMs: DEFAULT_RETRY_BASE_MS, maxMs: DEFAULT_RETRY_MAX_MS, maxRetryableAnswers: DEFAULT_MAX_RETRYABLE_ANSWERS },
    maxAgeMs: DEFAULT_MAX_AGE_MS,
    concurrency: DEFAULT_CONCURRENCY,
    reads: { paths: [], shell: [], strategy: 'network-first', maxEntries: 200, maxAgeMs: DEFAULT_MAX_AGE_MS },
    forms: { enabled: false, savedPath: undefined },
    fold: [],
    conflicts: { merge: [], theirs: [], mine: [], idKey: undefined },
    credentialHeaders: ['authorization', 'proxy-authorization'],
    signInPaths: ['/login', '/signin', '/sign-in', '/sign_in', '/users/sign_in', '/session/new', '/accounts/login', '/auth/login'],
    encryptionKeyPath: undefined,
    collections: { paths: [], idMember: 'id', urlMember: undefined },
    debug: false,
  };
}

/** Checks every option a caller gave and fills in the defaults. Throws {@link OutboxError}. */
export function resolveOptions(input: OutboxOptionsInput = {}): OutboxOptions {
  if (typeof input !== 'object' || input === null) {
    throw new OutboxError('invalid-option', 'sw-outbox options must be an object, such as { include: ["/api/"] }.');
  }
  const options = defaults();
  const given = flatten(input);
  for (const [name, value] of given) {
    if (!isOptionName(name)) throw new OutboxError('unknown-option', `sw-outbox has no option "${name}". Known options: ${NAMES.join(', ')}.`);
    const checked = check(name, value);
    const [group, member] = name.split('.') as [string, string | undefined];
    if (member === undefined) (options as unknown as Record<string, unknown>)[group] = checked;
    else (options[group as Groups] as unknown as Record<string, unknown>)[member] = checked;
  }
  // A page waits for its write as long as an attempt may take, unless told otherwise.
  if (!given.has('pageWaitMs')) options.pageWaitMs = options.timeoutMs;
  const { conflicts, retry } = options;
  const policies = (['merge', 'theirs', 'mine'] as const).flatMap((policy) => conflicts[policy].map((path) => [path, policy] as const));
  for (const [path, policy] of policies) {
    const other = policies.find(([again, which]) => again === path && which !== policy);
    if (other) throw invalid(`conflicts.${policy}`, `has "${path}", which conflicts.${other[1]} has too`, 'Give each path one conflict policy.');
  }
  if (retry.maxMs < retry.baseMs) {
    throw invalid('retry.maxMs', `(${retry.maxMs}) is below retry.baseMs (${retry.baseMs})`, 'Make it at least retry.baseMs.');
  }
  return options;
}

function check(name: OptionName, value: unknown): unknown {
  switch (KINDS[name]) {
    case 'paths': {
      const paths = stringList(name, value);
      if (name === 'include' && paths.length === 0) throw invalid(name, 'is empty', 'List at least one path, or leave it out to handle every path.');
      return paths.map((path) => {
        if (!path.startsWith('/')) throw invalid(name, `has "${path}", which does not start with "/"`, 'Write paths from the root, such as "/api/".');
        if (name === 'reads.shell' && /[*?#]/.test(path)) throw invalid(name, `has "${path}"`, 'List exact paths of the shell, such as "/" or "/app.js", without "*", "?" or "#".');
        return path;
      });
    }
    case 'headers':
      return stringList(name, value).map((header) => {
        if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(header)) throw invalid(name, `has "${header}", which is not a header name`, 'Give header names, such as "authorization" or "x-api-key".');
        return header.toLowerCase();
      });
    case 'methods': {
      const methods = stringList(name, value).map((method) => method.toUpperCase());
      if (methods.length === 0) throw invalid(name, 'is empty', `List at least one of ${WRITE_METHODS.join(', ')}.`);
      for (const method of methods) {
        if (!(WRITE_METHODS as readonly string[]).includes(method)) {
          throw invalid(name, `has "${method}"`, `Use only ${WRITE_METHODS.join(', ')}: other methods are not writes.`);
        }
      }
      return [...new Set(methods)];
    }
    case 'origins':
      return stringList(name, value).map((origin) => {
        let parsed: URL | undefined;
        try {
          parsed = new URL(origin);
        } catch {
          parsed = undefined;
        }
        if (!parsed || parsed.origin !== origin || !/^https?:$/.test(parsed.protocol)) {
          throw invalid(name, `has "${origin}", which is not an origin`, 'Write scheme://host[:port] with no path or trailing slash, such as "https://api.example.com".');
        }
        return origin;
      });
    case 'ms':
    case 'count': {
      // retryBaseMs 0 too: a zero backoff stays zero however often it doubles.
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        const unit = KINDS[name] === 'ms' ? 'milliseconds' : 'a count';
        throw invalid(name, `is ${JSON.stringify(value)}`, `Give a whole number of ${unit}, 1 or more.`);
      }
      return value;
    }
    case 'choice': {
      const choices = CHOICES[name]!;
      if (typeof value !== 'string' || !Object.hasOwn(choices, value)) {
        const said = Object.entries(choices).map(([choice, what]) => `"${choice}" (${what})`);
        throw invalid(name, `is ${JSON.stringify(value)}`, `Use ${said.join(' or ')}.`);
      }
      return value;
    }
    case 'path':
      if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//')) {
        throw invalid(name, `is ${JSON.stringify(value)}`, `Give a same-origin path from the root, such as "${name === 'encryptionKeyPath' ? '/outbox-key' : '/saved.html'}".`);
      }
      return value;
    case 'member':
      if (typeof value !== 'string' || value === '') throw invalid(name, `is ${JSON.stringify(value)}`, 'Give the name of a member, such as "id".');
      return value;
    case 'flag':
      if (typeof value !== 'boolean') throw invalid(name, `is ${JSON.stringify(value)}`, 'Use true or false.');
      return value;
  }
}

function stringList(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw invalid(name, `is ${JSON.stringify(value)}`, 'Give a list of strings.');
  }
  return value;
}
