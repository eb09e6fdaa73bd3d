/**
 * Conflicts (decision 0018): a write the server refused because the record changed (412,
 * 428, a 409 that is not "in flight") holds its lane until it is settled, by the
 * `resolve` hook, its path's policy (options `merge`, `keepTheirs`, `keepMine`) or the
 * app. For merges, the JSON representations seen with an ETag are kept here too.
 */
import type { Json } from '../contract/json-merge.js';
import type { AtRest } from './at-rest.js';
import { encode, fetchCurrent, mergeConflict, oursOf, readResolution } from './conflict-sides.js';
import type { Credentials } from './credentials.js';
import { isSealed, type ConflictEntry, type Draft, type PendingEntry, type Representation, type StoredRequest } from './entry.js';
import type { OutboxOptions } from './options.js';
import type { OutboxDb } from './outbox-db.js';
import { OutboxError } from './outbox-error.js';
import type { ConflictDetails, ConflictPolicy, EntryMeta, Resolution } from './protocol.js';
import { toPathTest } from './route-matcher.js';
import { contentTypeOf } from './stored-request.js';
import { DURABILITY } from './store-changes.js';
import { resolved, toMeta, type Transition } from './transitions.js';
import type { OutboxStore } from './outbox-store.js';

/** How many representations `merge` paths keep, and the largest kept (in characters of JSON). */
const MAX_REPRESENTATIONS = 200;
const MAX_REPRESENTATION_CHARS = 64 * 1024;

export interface ConflictsDeps {
  options: OutboxOptions;
  hook: ((conflict: ConflictDetails) => ConflictPolicy | Resolution | undefined | Promise<ConflictPolicy | Resolution | undefined>) | undefined;
  store: OutboxStore;
  fetch: (request: Request) => Promise<Response>;
  credentials: Credentials;
  atRest: AtRest | undefined;
  now: () => number;
  log: (...args: unknown[]) => void;
  /** The signed-in user: a representation is sealed to their key. */
  user: () => string | undefined;
  /** Persists and dispatches a conflict's resolution, then replays: the entry once that replay is over (undefined when dropped). */
  settle: (seen: ConflictEntry, transition: Transition<PendingEntry | null>) => Promise<EntryMeta | undefined>;
}

export class Conflicts {
  readonly #deps: ConflictsDeps;
  /** Each path policy's paths, as tests. */
  readonly #policyPaths: readonly (readonly [ConflictPolicy, (pathname: string) => boolean])[];

  constructor(deps: ConflictsDeps) {
    this.#deps = deps;
    const { merge, theirs, mine } = deps.options.conflicts;
    this.#policyPaths = [
      ...merge.map((path) => ['merge', toPathTest(path)] as const),
      ...theirs.map((path) => ['theirs', toPathTest(path)] as const),
      ...mine.map((path) => ['mine', toPathTest(path)] as const),
    ];
  }

  /** Whether anything settles conflicts without the app's page: the hook or a path policy. */
  get settlesAlone(): boolean {
    return this.#deps.hook !== undefined || this.#policyPaths.length > 0;
  }

  /** Whether answers are kept as versions to merge from (some path has a policy). */
  get keepsVersions(): boolean {
    return this.#policyPaths.length > 0;
  }

  /** A conflict as a page shows it: the entry, "ours", and "theirs" (from the conflict's answer, else a GET of the URL). */
  async details(id: number): Promise<ConflictDetails> {
    const { entry, request } = await this.#read(id);
    return details(entry, request, (await this.#current(entry, request)).theirs);
  }

  /**
   * Settles a conflict as the app chose. `{ keep: 'theirs' }` drops the write (reported as
   * superseded); `{ keep: 'mine' }`, `{ body }` and `{ json }` send it again, in its place
   * at the head of its lane, with a new key and If-Match on the current version: the
   * conflict's ETag, else a GET's.
   */
  async resolve(id: number, resolution: Resolution): Promise<EntryMeta | undefined> {
    const { how, body } = readResolution(resolution);
    const { entry, request } = await this.#read(id);
    const etag = how === 'theirs' ? undefined : (await this.#current(entry, request)).etag;
    return this.#resolveAs(entry, request, how, etag, body);
  }

  /**
   * A conflict just came: the `resolve` hook, else its path's policy, may settle it at
   * once. What they cannot (ask, a merge with clashes or no base) waits for the page.
   */
  async settle(seen: ConflictEntry): Promise<void> {
    try {
      const { entry, request } = await this.#read(seen.id);
      // The current version is asked for (a GET, when the answer lacked it) once, and only if needed.
      let current: Promise<{ theirs?: Json; etag?: string }> | undefined;
      const currentVersion = () => (current ??= this.#current(entry, request));
      const hook = this.#deps.hook;
      const decided = (hook ? await hook(details(entry, request, (await currentVersion()).theirs)) : undefined) ?? this.policyOf(entry.url);
      if (decided === 'ask') return;
      if (decided === 'merge') return await this.#merge(entry, request, await currentVersion());
      const { how, body } = readResolution(decided === 'mine' || decided === 'theirs' ? { keep: decided } : decided);
      await this.#resolveAs(entry, request, how, how === 'theirs' ? undefined : (await currentVersion()).etag, body);
    } catch (error) {
      this.#deps.log(`#${seen.id} conflict left to the app:`, error);
    }
  }

  /** The policy of a path: the first of conflicts.merge, .theirs, .mine that lists it, else ask. */
  policyOf(url: string): ConflictPolicy {
    if (this.#policyPaths.length === 0) return 'ask'; // no URL parsed on the write path
    const { pathname } = new URL(url);
    return this.#policyPaths.find(([, test]) => test(pathname))?.[0] ?? 'ask';
  }

  /** On a `merge` path, the representation a write's If-Match names goes with it, if the outbox kept one. */
  async attachBase(draft: Draft): Promise<void> {
    if (this.policyOf(draft.url) !== 'merge') return;
    const ifMatch = draft.request.headers.find(([name]) => name === 'if-match')?.[1];
    if (!ifMatch) return;
    const base = await (await this.#deps.store.db()).get('representations', [draft.url, ifMatch]).catch(() => undefined);
    if (!base) return;
    if ('body' in base) draft.request.base = base.body;
    // Sealed: opened only with a private key this worker holds already (no network on the write path).
    else if (this.#deps.atRest) {
      const text = await this.#deps.atRest.openIfHeld(base.sealed);
      if (text) draft.request.base = JSON.parse(new TextDecoder().decode(text)) as Json;
    }
  }

  /**
   * Keeps a GET's or a write's JSON answer with its ETag, on a `merge` path, as a version
   * a later conflict may be merged from; drops the oldest beyond 200. Reads a copy; never
   * fails the answer, and nothing a page waits for depends on it.
   */
  async keepRepresentation(url: string, response: Response): Promise<void> {
    const etag = response.headers.get('ETag');
    if (!response.ok || !etag || this.policyOf(url) !== 'merge' || !/json/i.test(response.headers.get('Content-Type') ?? '')) return;
    try {
      const text = await response.clone().text();
      if (text.length > MAX_REPRESENTATION_CHARS) return;
      const body = JSON.parse(text) as Json;
      const atRest = this.#deps.atRest;
      const kept = atRest ? { sealed: await atRest.seal(new TextEncoder().encode(text), this.#deps.user()) } : { body };
      await keep(await this.#deps.store.db(), { url, etag, at: this.#deps.now(), ...kept });
    } catch (error) {
      this.#deps.log('could not keep a representation of', url, error);
    }
  }

  async #resolveAs(entry: ConflictEntry, request: StoredRequest, how: 'mine' | 'theirs' | 'body' | 'merged', etag: string | undefined, body?: ArrayBuffer): Promise<EntryMeta | undefined> {
    const transition = resolved(entry, request, how, this.#deps.now(), etag, body);
    return this.#deps.settle(entry, this.#deps.atRest ? await this.#deps.atRest.sealed(transition, entry.user) : transition);
  }

  /** The current version: the conflict's answer when it gave both the representation and its ETag, else a GET of the URL (whose two go together). */
  async #current(entry: ConflictEntry, request: StoredRequest): Promise<{ theirs?: Json; etag?: string }> {
    if (request.theirs !== undefined && entry.answer.etag !== undefined) return { theirs: request.theirs, etag: entry.answer.etag };
    const current = await fetchCurrent(this.#deps.fetch, entry.url, await this.#deps.credentials.addTo(entry, request));
    const theirs = current.body ?? request.theirs;
    const etag = current.etag ?? entry.answer.etag;
    return { ...(theirs === undefined ? {} : { theirs }), ...(etag === undefined ? {} : { etag }) };
  }

  /** The `merge` policy: a clean three-way merge is sent in the write's place; anything else is left to the page. */
  async #merge(entry: ConflictEntry, request: StoredRequest, { theirs, etag }: { theirs?: Json; etag?: string }): Promise<void> {
    const merged = theirs === undefined ? undefined : mergeConflict(entry.method, request, theirs, this.#deps.options.conflicts.idKey);
    if (merged === undefined || 'clashes' in merged) {
      this.#deps.log(`#${entry.id} not merged:`, merged ? `both changed ${merged.clashes.join(', ')}` : 'no base or no current version known');
      return;
    }
    await this.#resolveAs(entry, request, 'merged', etag, encode(JSON.stringify(merged.body)));
  }

  /** A conflict with its request read (opened, if sealed: the page must see "ours"). */
  async #read(id: number): Promise<{ entry: ConflictEntry; request: StoredRequest }> {
    const { entry, request } = await this.#deps.store.conflict(id);
    if (!isSealed(request)) return { entry, request };
    if (!this.#deps.atRest) throw new OutboxError('undecryptable', `sw-outbox entry ${id} is sealed at rest, and this worker has no encryptionKeyUrl: give it the option it was stored with.`);
    return { entry, request: await this.#deps.atRest.openForPage(id, request) };
  }
}

/** A conflict as pages are shown it. */
function details(entry: ConflictEntry, request: StoredRequest, theirs: Json | undefined): ConflictDetails {
  return { entry: toMeta(entry), ours: oursOf(request), theirs, ...(request.base === undefined ? {} : { base: request.base }), contentType: contentTypeOf(request) };
}

/** Keeps a representation and drops the oldest beyond MAX_REPRESENTATIONS, in one transaction. */
async function keep(db: OutboxDb, representation: Representation): Promise<void> {
  const tx = db.transaction('representations', 'readwrite', DURABILITY);
  void tx.store.put(representation);
  const excess = (await tx.store.count()) - MAX_REPRESENTATIONS;
  let oldest = excess > 0 ? await tx.store.index('at').openCursor() : null;
  for (let dropped = 0; oldest && dropped < excess; dropped++) {
    void oldest.delete();
    oldest = await oldest.continue();
  }
  await tx.done;
}
