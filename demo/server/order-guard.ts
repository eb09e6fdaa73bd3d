import { problem, type Reply } from '../../server/index.js';

/**
 * Uses sw-outbox's Outbox-Client-Id and Outbox-Sequence headers where order matters: a
 * write older than one already processed from the same device is refused rather than
 * applied over it. The outbox never sends out of order; this guards the server against
 * any client that would. Writes without the headers (curl, other apps) are not checked.
 * Only an applied write (2xx) moves a client's order on: a refused one changed nothing,
 * and a conflict the person resolves is sent again with its own sequence number.
 */
export class OrderGuard {
  readonly #latest: Map<string, number>;

  /** `latest` is what toJSON gave: each client's latest sequence number. */
  constructor(latest: [string, number][] = []) {
    this.#latest = new Map(latest);
  }

  toJSON(): [string, number][] {
    return [...this.#latest];
  }

  /** Handles a write with `apply` unless it is older than the client's latest applied write. */
  guard(clientId: string | undefined, sequence: string | undefined, apply: () => Reply): Reply {
    if (clientId === undefined || sequence === undefined) return apply();
    const seq = Number(sequence);
    if (!Number.isSafeInteger(seq) || seq < 1) {
      return problem(400, 'Outbox-Sequence is malformed', `Outbox-Sequence must be a positive integer, got "${sequence}".`);
    }
    const latest = this.#latest.get(clientId) ?? 0;
    if (seq <= latest) {
      return problem(409, 'Out of order', `Write ${seq} of client ${clientId} arrived after its write ${latest}; it would overwrite a later change.`);
    }
    const reply = apply();
    if (reply.status >= 200 && reply.status < 300) this.#latest.set(clientId, seq);
    return reply;
  }
}
