import type { AttemptResult } from './retry-policy.js';
import { toRequest, type Stamp } from './stored-request.js';
import type { EntryDraft } from './outbox-store.js';

/**
 * Sends a write once. The timeout covers the wait for the response headers and then
 * aborts the request, so an abandoned attempt does not linger beside its replay.
 */
export async function sendAttempt(entry: EntryDraft, stamp: Stamp | undefined, timeoutMs: number): Promise<AttemptResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    // The body is left unread: it goes to the waiting page as it is, or is cancelled.
    return { kind: 'response', response: await fetch(toRequest(entry, stamp, controller.signal)) };
  } catch (error) {
    if (controller.signal.aborted) return { kind: 'timeout' };
    return { kind: 'network-error', message: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
