/**
 * The names options go by: each option's full name and kind, the renamed ones of 0.1 and
 * 0.2, and the groups' shorthands. Shared by the worker's options, its query string and the
 * page's register helper.
 */
import { OutboxError } from './outbox-error.js';
import type { DeprecatedOptions, Groups, OptionName } from './options.js';

/** Each renamed option, with the name it has now. */
export const ALIASES: Record<keyof DeprecatedOptions, OptionName> = {
  retryBaseMs: 'retry.baseMs',
  retryMaxMs: 'retry.maxMs',
  maxAttempts: 'retry.maxRetryableAnswers',
  shell: 'reads.shell',
  readStrategy: 'reads.strategy',
  readsMaxEntries: 'reads.maxEntries',
  readsMaxAgeMs: 'reads.maxAgeMs',
  formSavedUrl: 'forms.savedPath',
  merge: 'conflicts.merge',
  keepTheirs: 'conflicts.theirs',
  keepMine: 'conflicts.mine',
  mergeIdKey: 'conflicts.idKey',
  encryptionKeyUrl: 'encryptionKeyPath',
  idMember: 'collections.idMember',
  urlMember: 'collections.urlMember',
};

/** The member a group given a list or a flag sets (`reads=/api/`, `forms=true`). */
const SHORTHANDS: Partial<Record<Groups, OptionName>> = { reads: 'reads.paths', collections: 'collections.paths', forms: 'forms.enabled' };

/** What an option's value is, for checking it and reading it from a query string. */
export type Kind = 'paths' | 'path' | 'member' | 'headers' | 'methods' | 'origins' | 'ms' | 'count' | 'choice' | 'flag';

/** The values an option of kind `choice` takes, each with what it does. */
export const CHOICES: Partial<Record<OptionName, Record<string, string>>> = {
  whenQueued: { accept: 'answer 202', reject: 'a network error' },
  'reads.strategy': { 'network-first': 'the network whenever it answers', 'stale-while-revalidate': 'the cache first, refreshed behind it' },
};

export const KINDS: Record<OptionName, Kind> = {
  include: 'paths',
  exclude: 'paths',
  methods: 'methods',
  origins: 'origins',
  timeoutMs: 'ms',
  pageWaitMs: 'ms',
  whenQueued: 'choice',
  'retry.baseMs': 'ms',
  'retry.maxMs': 'ms',
  'retry.maxRetryableAnswers': 'count',
  maxAgeMs: 'ms',
  concurrency: 'count',
  'reads.paths': 'paths',
  'reads.shell': 'paths',
  'reads.strategy': 'choice',
  'reads.maxEntries': 'count',
  'reads.maxAgeMs': 'ms',
  'forms.enabled': 'flag',
  'forms.savedPath': 'path',
  fold: 'paths',
  'conflicts.merge': 'paths',
  'conflicts.theirs': 'paths',
  'conflicts.mine': 'paths',
  'conflicts.idKey': 'member',
  credentialHeaders: 'headers',
  signInPaths: 'paths',
  encryptionKeyPath: 'path',
  'collections.paths': 'paths',
  'collections.idMember': 'member',
  'collections.urlMember': 'member',
  debug: 'flag',
};

export const NAMES = Object.keys(KINDS) as OptionName[];

export function isOptionName(name: string): name is OptionName {
  return Object.hasOwn(KINDS, name);
}

const GROUPS: ReadonlySet<Groups> = new Set(['retry', 'reads', 'forms', 'conflicts', 'collections']);

export function isGroup(name: string): name is Groups {
  return GROUPS.has(name as Groups);
}

/**
 * The option a name stands for now: an option's own name, a renamed option's new one, or,
 * for a group given a list or a flag (`reads: ['/api/']`, `forms=true`), its main member.
 * Undefined for anything else.
 */
export function optionNamed(name: string, value?: unknown): OptionName | undefined {
  if (Object.hasOwn(ALIASES, name)) return ALIASES[name as keyof DeprecatedOptions];
  if (isGroup(name) && (Array.isArray(value) || typeof value !== 'object' || value === null)) return SHORTHANDS[name];
  return isOptionName(name) ? name : undefined;
}

/** Says once (per worker or page) in the console that a renamed option has a new name. */
export function warnIfRenamed(name: string): void {
  if (!Object.hasOwn(ALIASES, name) || warned.has(name)) return;
  warned.add(name);
  console.warn(`[sw-outbox] option "${name}" is now "${ALIASES[name as keyof DeprecatedOptions]}": the old name still works, and will be removed in 1.0.`);
}
const warned = new Set<string>();

export function invalid(name: string, problem: string, fix: string): OutboxError {
  return new OutboxError('invalid-option', `sw-outbox option "${name}" ${problem}. ${fix}`);
}

/** The options given, one entry per option by its full name (`retry.baseMs`), renamed ones under their names now. */
export function flatten(input: object): Map<string, unknown> {
  const leaves = new Map<string, unknown>();
  const set = (given: string, name: string, value: unknown) => {
    if (leaves.has(name)) throw invalid(name, `is given twice (once as "${given}")`, 'Give it once, under its name now.');
    leaves.set(name, value);
  };
  for (const [given, value] of Object.entries(input)) {
    if (value === undefined) continue;
    warnIfRenamed(given);
    const name = optionNamed(given, value) ?? given;
    if (isGroup(name)) {
      for (const [member, memberValue] of Object.entries(value as object)) if (memberValue !== undefined) set(`${given}.${member}`, `${name}.${member}`, memberValue);
    } else {
      set(given, name, value);
    }
  }
  return leaves;
}
