import 'fake-indexeddb/auto';
import assert from 'node:assert/strict';
import { type OutboxOptionsInput } from '../../sw/options.js';
import { resolveOptions } from '../../sw/resolve-options.js';
// The features the unit tests use (offline reads, with workbox-strategies, run only in a worker).
import '../../sw/at-rest-feature.js';
import '../../sw/collections-feature.js';
import { Outbox } from '../../sw/outbox.js';
import type { OutboxDeps, OutboxHooks } from '../../sw/outbox-deps.js';
import { OutboxStore } from '../../sw/outbox-store.js';
import type { Counts, StatusEvent } from '../../sw/protocol.js';

/** The unit tests' outbox: fake-indexeddb, an injected clock and an injected server. */
export const ORIGIN = 'https://app.test';
let dbCount = 0;

/** A clock and timers that move only when the test says so. */
export class FakeClock {
  at = 1_000_000;
  #timers: { at: number; callback: () => void }[] = [];
  now = () => this.at;
  timer = (callback: () => void, delayMs: number): (() => void) => {
    const timer = { at: this.at + delayMs, callback };
    this.#timers.push(timer);
    return () => void (this.#timers = this.#timers.filter((t) => t !== timer));
  };
  /** When the next timer is due; undefined when none is set (never Infinity, which would move the clock there). */
  get next(): number | undefined {
    return this.#timers.length === 0 ? undefined : Math.min(...this.#timers.map((t) => t.at));
  }
  /** Moves the clock on and fires every timer that falls due, in order. */
  advance(ms: number): void {
    this.at += ms;
    for (const timer of [...this.#timers].sort((a, b) => a.at - b.at)) {
      if (timer.at > this.at) break;
      this.#timers = this.#timers.filter((t) => t !== timer);
      timer.callback();
    }
  }
}

export type Server = (request: Request) => Promise<Response>;

/** The outbox's short settle window (25 ms) passes on the next turn; longer waits wait for the test's clock. */
export function settleWindowAtOnce(timer: FakeClock['timer']): FakeClock['timer'] {
  return (callback, delayMs) => {
    if (delayMs > 25) return timer(callback, delayMs);
    const handle = setImmediate(callback);
    return () => clearImmediate(handle);
  };
}

/** Resolves once `predicate` holds; fake-indexeddb completes transactions on later turns of the event loop. */
export async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 10_000; turn++) {
    if (predicate()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.fail(`never happened: ${what}`);
}
export const answer = (status: number, headers: Record<string, string> = {}, body: string | null = null) => Promise.resolve(new Response(body, { status, headers }));
export const refused: Server = () => Promise.reject(new TypeError('Failed to fetch'));

/** An outbox on fake-indexeddb with an injected clock and fetch, recording what it does. */
export function harness(options: OutboxOptionsInput = {}, hooks: OutboxHooks = {}, deps: Pick<OutboxDeps, 'askPages'> = {}) {
  const clock = new FakeClock();
  const store = new OutboxStore(ORIGIN, `outbox-${++dbCount}`);
  const steps: string[] = [];
  for (const method of ['add', 'addMany', 'commit'] as const) {
    const original = store[method].bind(store) as (...args: unknown[]) => Promise<unknown>;
    (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      steps.push(method);
      return original(...args);
    };
  }
  // A write sent while it is stored (decision 0029): its transaction begins before its fetch.
  const addAtOnce = store.addAtOnce.bind(store);
  store.addAtOnce = (...args) => {
    const begun = addAtOnce(...args);
    if (begun) steps.push('add at once');
    return begun;
  };
  const events: (StatusEvent & { counts: Counts })[] = [];
  const sent: Request[] = [];
  const logs: string[] = [];
  const state = { server: ((request: Request) => answer(201, {}, request.url)) as Server, online: true };
  const outbox = new Outbox(resolveOptions({ retryBaseMs: 1_000, ...options }), hooks, {
    store,
    publish: (counts, event) => events.push({ ...event, counts }),
    fetch: (request) => {
      steps.push('fetch');
      sent.push(request);
      return state.server(request);
    },
    now: clock.now,
    random: () => 0.5,
    timer: settleWindowAtOnce(clock.timer),
    log: (...args) => logs.push(args.map(String).join(' ')),
    origin: ORIGIN,
    online: () => state.online,
    ...deps,
  });
  const background: Promise<unknown>[] = [];
  const write = async (path: string, body: unknown = {}, headers: Record<string, string> = {}, method = 'POST') => {
    const request = new Request(`${ORIGIN}${path}`, { method, body: method === 'DELETE' ? null : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
    return outbox.handle(request, (promise) => background.push(promise));
  };
  /** Resolves once every waitUntil promise handed out so far has settled. */
  const settle = async () => {
    while (background.length > 0) await Promise.allSettled(background.splice(0));
  };
  return { outbox, clock, store, name: `outbox-${dbCount}`, steps, events, sent, logs, state, write, settle, types: () => events.map((event) => event.type) };
}
