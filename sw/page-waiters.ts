/**
 * Pages waiting for their own write's answer (up to `pageWaitMs`): each gets the server's
 * answer if it comes in time, else the queued answer (`undefined` here), once.
 */
import type { WaiterAnswer } from './outbox-deps.js';
import { cancelBody } from './page-answers.js';

export class PageWaiters {
  readonly #waiting = new Map<number, { lane: string; resolve: (answer: WaiterAnswer) => void }>();

  /** The answer for the page that made write `id`, in `lane`. */
  wait(id: number, lane: string): Promise<WaiterAnswer> {
    return new Promise((resolve) => this.#waiting.set(id, { lane, resolve }));
  }

  has(id: number): boolean {
    return this.#waiting.has(id);
  }

  get size(): number {
    return this.#waiting.size;
  }

  /** Hands a waiting page its answer; an answer nobody waits for any more is dropped unread. */
  answer(id: number, response: Response | undefined, signIn?: string): void {
    const waiter = this.#waiting.get(id);
    this.#waiting.delete(id);
    if (waiter) waiter.resolve({ response, signIn });
    else cancelBody(response);
  }

  /** Every page waiting on a write of this lane, but those being sent, gets the queued answer: its write waits behind others. */
  releaseLane(lane: string, sending: ReadonlyMap<number, string>): void {
    for (const [id, waiter] of this.#waiting) if (waiter.lane === lane && !sending.has(id)) this.answer(id, undefined);
  }
}
