/**
 * One attempt of a claimed write, from its kept request to what its answer makes of it:
 * opened if it was sealed, sent to the real identities it names, stamped and timed out
 * (send-attempt.ts), and judged (transitions.ts's `answered`). The outbox then tells the
 * waiting page and queues the transition (outbox.ts, #run).
 */
import type { AtRest } from './at-rest.js';
import type { Credentials } from './credentials.js';
import { isSealed, type SendingEntry, type StoredRequest } from './entry.js';
import type { OutboxDeps } from './outbox-deps.js';
import type { Claimed } from './outbox-store.js';
import type { ProvisionalIdentities } from './provisional-identities.js';
import { sendAttempt } from './send-attempt.js';
import type { AttemptResult, RetryPolicy, Verdict } from './retry-policy.js';
import { answered, type Transition } from './transitions.js';

/** A write that fails unanswered while its origin answered others this recently is flagged. */
const FAILING_ALONE_WINDOW_MS = 60_000;

export interface AttemptsDeps {
  deps: Pick<OutboxDeps, 'fetch' | 'now' | 'random' | 'timer'>;
  credentials: Credentials;
  atRest: AtRest | undefined;
  identities: ProvisionalIdentities | undefined;
  policy: RetryPolicy;
  timeoutMs: number;
  /** Whether a page waits for this write's answer: a final 4xx is then the page's to handle. */
  pageWaiting: (id: number) => boolean;
}

/** What an attempt came to. */
export type Attempted =
  /** Never sent, and never will be: its device key was revoked, or the create it names gave no identity. */
  | { kind: 'unsendable'; code: 'undecryptable' | 'no-identity'; why: string }
  | {
      kind: 'done';
      result: AttemptResult;
      transition: Transition & { verdict: Verdict };
      /** The request as it was sent (opened), absent when it could not be opened now. */
      plain: StoredRequest | undefined;
      /** The credentials this attempt was sent with, held in memory. */
      held: [string, string][] | undefined;
      /** The URL it went to (the real one, for a write naming a provisional identity); undefined if it waited. */
      sentTo: string | undefined;
    };

export class Attempts {
  readonly #c: AttemptsDeps;
  /** When a write to each origin last got an answer, whatever it was. */
  readonly #answeredAt = new Map<string, number>();

  constructor(context: AttemptsDeps) {
    this.#c = context;
  }

  /**
   * Sends a claimed entry's request as it is: for a write sent while its transaction runs
   * (decision 0029), which names no provisional identity and is not sealed.
   */
  send(entry: SendingEntry, request: StoredRequest, clientId: string): Promise<AttemptResult> {
    const { deps, credentials } = this.#c;
    const go = (withCredentials: StoredRequest) => sendAttempt(deps.fetch, entry, withCredentials, { clientId, seq: entry.seq, lane: entry.lane, user: entry.user }, this.#c.timeoutMs, deps.timer);
    // Without credentials to add, the request goes out before this returns.
    return request.credentialNames ? credentials.addTo(entry, request).then(go) : go(request);
  }

  /** One attempt of `claimed`; `sent`: its request went out already (see send()), and this is its answer. */
  async run({ entry, request }: Claimed, clientId: string, sent?: Promise<AttemptResult>): Promise<Attempted> {
    const { deps, atRest, identities, credentials } = this.#c;
    if (sent && !isSealed(request)) {
      const result = await sent;
      return { kind: 'done', result, transition: await this.#judged(entry, result, request), plain: request, held: credentials.held(entry.id), sentTo: entry.url };
    }
    // Only a sealed request costs an await more on the way out.
    const opened = !isSealed(request) ? { request } : atRest ? await atRest.open(request) : { revoked: 'it was sealed at rest, and this worker has no encryptionKeyPath to open it with' };
    if ('revoked' in opened) return { kind: 'unsendable', code: 'undecryptable', why: opened.revoked };
    const plain = 'request' in opened ? opened.request : undefined;
    const held = credentials.held(entry.id);
    // A write naming provisional identities goes to the real ones, or waits for them, or, if they never come, nowhere.
    const resolved = plain && identities ? await identities.resolve(entry, plain) : plain && { kind: 'send' as const, url: entry.url, request: plain };
    if (resolved?.kind === 'never') return { kind: 'unsendable', code: 'no-identity', why: resolved.why };
    const result: AttemptResult = 'result' in opened
      ? opened.result
      : resolved?.kind === 'wait'
        ? { kind: 'network-error', message: `not sent yet: ${resolved.why}` }
        : await sendAttempt(deps.fetch, { ...entry, url: resolved!.url }, await credentials.addTo(entry, resolved!.request), { clientId, seq: entry.seq, lane: entry.lane, user: entry.user }, this.#c.timeoutMs, deps.timer);
    const transition = await this.#judged(entry, result, plain);
    return { kind: 'done', result, transition, plain, held, sentTo: resolved?.kind === 'send' ? resolved.url : undefined };
  }

  /** What the answer makes of the entry; a conflict's "theirs", kept beside the write, sealed too. */
  async #judged(entry: SendingEntry, result: AttemptResult, plain: StoredRequest | undefined): Promise<Transition & { verdict: Verdict }> {
    const at = this.#c.deps.now();
    const origin = new URL(entry.url).origin;
    const othersAnswered = (this.#answeredAt.get(origin) ?? -Infinity) > at - FAILING_ALONE_WINDOW_MS;
    if (result.kind === 'response' && plain) this.#answeredAt.set(origin, at);
    const answer = answered(entry, result, { policy: this.#c.policy, now: at, random: this.#c.deps.random, pageWaiting: this.#c.pageWaiting(entry.id), othersAnswered, ...(plain ? { request: plain } : {}) });
    return answer.request && this.#c.atRest ? this.#c.atRest.sealed(answer, entry.user) : answer;
  }
}
