/**
 * Options in a worker script's query string: the zero-build way to configure the drop-in
 * (`/outbox-sw.js?include=/api/&timeoutMs=5000`), read here and written for the page's
 * one line. What each option means and accepts is options.ts.
 */
import { OutboxError } from './outbox-error.js';
import { type OutboxOptionsInput } from './options.js';
import { flatten, KINDS, NAMES, optionNamed, warnIfRenamed, type Kind } from './option-names.js';
import { resolveOptions } from './resolve-options.js';

/** Marks a worker URL's query parameter as the outbox's in a host worker: `?v=2&outbox.include=/api/`. */
export const QUERY_PREFIX = 'outbox.';

/**
 * Reads options from a worker script's query string, the zero-build way to configure
 * the drop-in worker: `/outbox-sw.js?include=/api/&timeoutMs=5000&debug`.
 * Lists are comma-separated or repeated (`include=/a/,/b/` or `include=/a/&include=/b/`).
 *
 * A worker that imports the outbox has query parameters of its own (`/sw.js?v=2`): those
 * are never an error. A parameter is the outbox's when it is named `outbox.<option>`, or
 * plainly `<option>` when no parameter carries the prefix. An `outbox.` name that is no
 * option is an error, so a typo is caught where the prefix says it was meant for us.
 */
export function parseOptionsQuery(search: string): OutboxOptionsInput {
  const params = new URLSearchParams(search);
  const prefixed = [...params.keys()].some((name) => name.startsWith(QUERY_PREFIX));
  const input: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) {
    const given = prefixed ? (key.startsWith(QUERY_PREFIX) ? key.slice(QUERY_PREFIX.length) : undefined) : key;
    if (given === undefined) continue; // the host's own
    const name = optionNamed(given);
    if (!name) {
      if (!prefixed) continue; // the host's own, in a worker that uses plain names
      throw new OutboxError('unknown-option', `sw-outbox has no option "${given}" (in the worker's query string, as "${key}"). Known options: ${NAMES.join(', ')}.`);
    }
    warnIfRenamed(given);
    const values = params.getAll(key);
    const [group, member] = name.split('.') as [string, string | undefined];
    const into = member === undefined ? input : ((input[group] ??= {}) as Record<string, unknown>);
    into[member ?? group] = fromQuery(KINDS[name], values);
  }
  return input;
}

/** A parameter's values as the option's kind reads them; anything unreadable is passed on, for resolveOptions to refuse by name. */
function fromQuery(kind: Kind, values: string[]): unknown {
  const last = values[values.length - 1] ?? '';
  switch (kind) {
    case 'paths':
    case 'headers':
    case 'methods':
    case 'origins':
      return values.flatMap((value) => value.split(',')).map((item) => item.trim()).filter(Boolean);
    case 'ms':
    case 'count':
      return /^\d+$/.test(last) ? Number(last) : last;
    case 'flag':
      return last === '' || last === '1' || last === 'true' ? true : last === '0' || last === 'false' ? false : last;
    case 'choice':
    case 'member':
    case 'path':
      return last;
  }
}

/** The query parameters that are not the outbox's: a host worker's own. */
export function hostQueryParameters(search: string): string[] {
  const params = new URLSearchParams(search);
  const prefixed = [...params.keys()].some((name) => name.startsWith(QUERY_PREFIX));
  return [...new Set(params.keys())].filter((key) => (prefixed ? !key.startsWith(QUERY_PREFIX) : !optionNamed(key)));
}

/** Writes options as a query string that {@link parseOptionsQuery} reads back, each under its name now (`retry.baseMs`). */
export function toOptionsQuery(input: OutboxOptionsInput): string {
  resolveOptions(input);
  const params = new URLSearchParams();
  for (const [name, value] of flatten(input)) {
    // An empty list is said as an empty value (`signInPaths=`), or it would read as the default.
    if (Array.isArray(value)) value.length === 0 ? params.set(name, '') : value.forEach((item) => params.append(name, String(item)));
    else params.set(name, String(value));
  }
  return params.toString();
}
