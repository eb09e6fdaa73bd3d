/**
 * The outbox's side of provisional identities (option `collections`, decision 0022): which
 * writes are creates, what a kept write's page is answered, which lane a write naming a
 * provisional identity goes in, and what it is sent as. The vocabulary is identities.ts.
 */
import type { Draft, Entry, LiveEntry, StoredRequest } from './entry.js';
import { bodyText, collectionTests, echoAnswer, identityFromAnswer, newProvisional, provisionalAnswer, provisionalIdsIn, rewriteJson, rewriteText, rewriteUrl, type IdentityRecord, type Provisional, type RealIdentity } from './identities.js';
import type { CollectionsOptions } from './options.js';
import type { OutboxStore } from './outbox-store.js';
import { bump, countsOf, DURABILITY, laneRange } from './store-changes.js';
import { withdrawn, type Change, type Committed } from './transitions.js';
import type { Json } from '../contract/json-merge.js';
import { contentTypeOf } from './stored-request.js';

/** How a write naming provisional identities may go out now. */
export type Resolved =
  /** Named none, or every one is known: send it as this. */
  | { kind: 'send'; url: string; request: StoredRequest }
  /** A create it names is still waiting (in another lane): try again later. */
  | { kind: 'wait'; why: string }
  /** A create it names will never give an identity: never send it (it would reach a wrong URL). */
  | { kind: 'never'; why: string };

type Known = Map<string, { provisional: Provisional; real: RealIdentity }>;

export class ProvisionalIdentities {
  readonly #options: CollectionsOptions;
  readonly #collections: ((pathname: string) => boolean)[];
  readonly #store: OutboxStore;

  constructor(options: CollectionsOptions, store: OutboxStore) {
    this.#options = options;
    this.#collections = collectionTests(options.paths);
    this.#store = store;
  }

  /** A create (a POST to a collection) gets its provisional identity when it is kept. */
  forCreate(draft: Pick<Draft, 'method' | 'url'>): Provisional | undefined {
    if (draft.method !== 'POST' || !this.isCollection(draft.url)) return undefined;
    return newProvisional(draft.url);
  }

  /**
   * The lane of a create still waiting that this write names, if any: the write waits
   * behind it there, whatever lane it would have had, so that it is sent after the create's
   * answer gave the real identity.
   */
  async laneFor(draft: Draft): Promise<string | undefined> {
    const ids = this.#mentions(draft.url, draft.request);
    if (ids.length === 0) return undefined;
    const found = await this.#lookup(ids);
    return found.find(({ record, createState }) => record && !record.real && createState !== undefined && createState !== 'dead')?.record?.lane;
  }

  /** For a DELETE of a provisional URL itself: the create it names, if that create still waits (the store checks it was never tried). */
  async createDeletedBy(draft: Pick<Draft, 'method' | 'url'>): Promise<IdentityRecord | undefined> {
    if (draft.method !== 'DELETE') return undefined;
    const [id, ...more] = provisionalIdsIn(draft.url);
    if (id === undefined || more.length > 0) return undefined;
    const [found] = await this.#lookup([id]);
    const record = found?.record;
    return record && !record.real && !record.lost && found.createState === 'pending' && record.url === draft.url.replace(/[?#].*$/, '') ? record : undefined;
  }

  /** What a page gets for a write kept for later, where the queued 202 would mislead a model library; undefined: the queued 202. */
  answerFor(entry: LiveEntry, body: ArrayBuffer | null): Response | undefined {
    if (entry.provisional) return provisionalAnswer(body, entry.provisional, entry.id, this.#options);
    if ((entry.method === 'PUT' || entry.method === 'PATCH') && this.#isMember(new URL(entry.url).pathname)) return echoAnswer(body, entry.id);
    return undefined;
  }

  /** The write as it is to be sent: every provisional identity it names replaced by the real one. */
  /** Whether a write names a provisional identity (in its URL or its body): it is then rewritten, or waits, before it is sent. */
  names(draft: Pick<Draft, 'url' | 'request'>): boolean {
    return this.#mentions(draft.url, draft.request).length > 0;
  }

  async resolve(entry: Pick<LiveEntry, 'id' | 'url'>, request: StoredRequest): Promise<Resolved> {
    const ids = this.#mentions(entry.url, request);
    if (ids.length === 0) return { kind: 'send', url: entry.url, request };
    const known: Known = new Map();
    for (const [index, { record, createState }] of (await this.#lookup(ids)).entries()) {
      const id = ids[index]!;
      if (record?.real) known.set(id, { provisional: { id, url: record.url }, real: record.real });
      else if (record?.lost) return { kind: 'never', why: `it names ${id}, whose create #${record.createdBy} was answered with no identity (${record.lost})` };
      else if (!record) return { kind: 'never', why: `it names ${id}, a provisional identity this outbox has no record of (made on another device, or forgotten after maxAgeMs)` };
      else if (createState === 'dead') return { kind: 'never', why: `it names ${id}, whose create #${record.createdBy} is a dead letter: retry that create, then this write` };
      else if (createState === undefined) return { kind: 'never', why: `it names ${id}, whose create #${record.createdBy} was settled without an identity` };
      else return { kind: 'wait', why: `it waits for its create #${record.createdBy} to be delivered` };
    }
    return { kind: 'send', url: rewriteUrl(entry.url, known), request: { ...request, body: rewriteBody(request, known) } };
  }

  /**
   * A create's answer: the record of its provisional identity with the real one (or why
   * there is none), to store as the create settles.
   */
  async identify(entry: LiveEntry, response: Response, now: number): Promise<IdentityRecord | undefined> {
    const { provisional } = entry;
    if (!provisional || !response.ok) return undefined;
    const record: IdentityRecord = { provisional: provisional.id, url: provisional.url, createdBy: entry.id, lane: entry.lane, at: now };
    let json: unknown;
    if (/json/i.test(response.headers.get('Content-Type') ?? '')) {
      try {
        json = await response.clone().json();
      } catch {
        json = undefined;
      }
    }
    const real = identityFromAnswer(response, json, entry.url, this.#options);
    if (real) record.real = real;
    else record.lost = `HTTP ${response.status} with no Location header${this.#options.urlMember ? `, no "${this.#options.urlMember}"` : ''} and no "${this.#options.idMember}" member`;
    return record;
  }

  /**
   * A GET naming provisional identities: sent to the real URL once every one is known;
   * else, for a provisional URL itself, what the outbox knows (the create's JSON with its
   * identity: the create waits); else a 404 saying what it waits for. Undefined: it names none.
   */
  async read(request: Request, fetch: (request: Request) => Promise<Response>, createBody: (id: number) => Promise<ArrayBuffer | null | undefined>): Promise<Response | undefined> {
    const ids = provisionalIdsIn(request.url);
    if (ids.length === 0) return undefined;
    const found = await this.#lookup(ids);
    const known: Known = new Map();
    for (const [index, { record }] of found.entries()) if (record?.real) known.set(ids[index]!, { provisional: { id: ids[index]!, url: record.url }, real: record.real });
    if (known.size === ids.length) return fetch(new Request(rewriteUrl(request.url, known), { headers: request.headers, credentials: request.credentials }));
    const own = found.find(({ record }) => record && !record.real && record.url === request.url.replace(/[?#].*$/, ''));
    const body = own?.record && own.createState !== undefined && own.createState !== 'dead' ? await createBody(own.record.createdBy) : undefined;
    if (own?.record && body !== undefined) return provisionalAnswer(body, { id: own.record.provisional, url: own.record.url }, own.record.createdBy, this.#options, true);
    const problem = { type: 'about:blank', title: 'Not created yet', status: 404, detail: `${request.url} names a record the outbox has not delivered, or could not: its create waits, or was not delivered. It can be read once the create is.` };
    return new Response(JSON.stringify(problem), { status: 404, headers: { 'Content-Type': 'application/problem+json' } });
  }

  /**
   * Waiting writes as they will be sent as far as is known now: provisional identities
   * whose creates were delivered are replaced by the real ones (for the read overlay,
   * whose reads name the real ones once refreshed).
   */
  async known<W extends { url: string; json: Json | undefined }>(writes: W[]): Promise<W[]> {
    const ids = provisionalIdsIn(writes.map((write) => `${write.url}\n${JSON.stringify(write.json ?? null)}`).join('\n'));
    if (ids.length === 0) return writes;
    const known: Known = new Map();
    for (const [index, { record }] of (await this.#lookup(ids)).entries()) if (record?.real) known.set(ids[index]!, { provisional: { id: ids[index]!, url: record.url }, real: record.real });
    if (known.size === 0) return writes;
    return writes.map((write) => ({ ...write, url: rewriteUrl(write.url, known), json: write.json === undefined ? undefined : (rewriteJson(write.json, known) as Json) }));
  }

  /** Whether a URL is one of the `collections` (a read of it is a collection for the overlay). */
  isCollection(url: string): boolean {
    const { pathname } = new URL(url);
    return this.#collections.some((test) => test(pathname));
  }

  #isMember(pathname: string): boolean {
    const parent = pathname.replace(/\/[^/]+\/?$/, '');
    return parent !== pathname && this.#collections.some((test) => test(parent));
  }

  #mentions(url: string, request: StoredRequest): string[] {
    const text = bodyText(request.body, contentTypeOf(request));
    return provisionalIdsIn(text === undefined ? url : `${url}\n${text}`);
  }

  /**
   * Withdraws a create that was never attempted, with the never-attempted writes to its
   * URL and under it: a DELETE of it made them moot, and nothing of it is sent. Its
   * identity is marked lost, so that a write naming it elsewhere is never sent. Undefined
   * when the create is no longer waiting untried (it may be on its way): the DELETE is then
   * kept and sent after it.
   */
  async withdraw(identity: IdentityRecord, why: string): Promise<Committed | undefined> {
    const { createdBy, url } = identity;
    return this.#store.change(async (tx, meta) => {
      const create = await tx.objectStore('entries').get(createdBy);
      const kept = create?.provisional && (await tx.objectStore('identities').get(create.provisional.id));
      if (!create || create.state !== 'pending' || create.attempts > 0 || !kept) return undefined;
      const moot: Entry[] = [create];
      let cursor = await tx.objectStore('entries').index('queue').openCursor(laneRange(create.lane));
      while (cursor) {
        const entry = cursor.value;
        const under = entry.url === url || entry.url.startsWith(`${url}/`) || entry.url.startsWith(`${url}?`);
        if (entry.id !== createdBy && entry.state === 'pending' && entry.attempts === 0 && under) moot.push(entry);
        cursor = await cursor.continue();
      }
      const applied: Change[] = moot.map((entry) => {
        void tx.objectStore('entries').delete(entry.id);
        void tx.objectStore('requests').delete(entry.id);
        bump(meta, entry, -1);
        return { id: entry.id, transition: withdrawn(entry), was: entry };
      });
      void tx.objectStore('identities').put({ ...kept, lost: why });
      return { applied, counts: countsOf(meta) };
    });
  }

  /** Drops the provisional identities made before `before` whose creates are no longer waiting. */
  async forget(before: number): Promise<number> {
    const tx = (await this.#store.db()).transaction(['identities', 'entries'], 'readwrite', DURABILITY);
    let dropped = 0;
    let cursor = await tx.objectStore('identities').index('at').openCursor(IDBKeyRange.upperBound(before, true));
    while (cursor) {
      if (!(await tx.objectStore('entries').getKey(cursor.value.createdBy))) {
        void cursor.delete();
        dropped += 1;
      }
      cursor = await cursor.continue();
    }
    await tx.done;
    return dropped;
  }

  /**
   * The records of these provisional identities, each with the state of its create's
   * entry (undefined once it is gone): what a write naming them may do.
   */
  async #lookup(ids: readonly string[]): Promise<{ record: IdentityRecord | undefined; createState: Entry['state'] | undefined }[]> {
    if (ids.length === 0) return [];
    const tx = (await this.#store.db()).transaction(['identities', 'entries'], 'readonly');
    const records = await Promise.all(ids.map((id) => tx.objectStore('identities').get(id)));
    const creates = await Promise.all(records.map((record) => (record ? tx.objectStore('entries').get(record.createdBy) : undefined)));
    return records.map((record, index) => ({ record, createState: creates[index]?.state }));
  }
}

/** The body with every known identity replaced: JSON value by value, other text in its text. */
function rewriteBody(request: StoredRequest, known: Known): ArrayBuffer | null {
  const contentType = contentTypeOf(request);
  const text = bodyText(request.body, contentType);
  if (text === undefined) return request.body;
  let rewritten: string;
  if (/json/i.test(contentType ?? '')) {
    try {
      rewritten = JSON.stringify(rewriteJson(JSON.parse(text), known));
    } catch {
      rewritten = rewriteText(text, known);
    }
  } else {
    rewritten = rewriteText(text, known);
  }
  return new TextEncoder().encode(rewritten).buffer as ArrayBuffer;
}
