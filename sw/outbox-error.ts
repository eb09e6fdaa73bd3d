/** Stable codes: tests and apps branch on these, never on message text. */
export type OutboxErrorCode =
  | 'invalid-option'
  | 'unknown-option'
  | 'not-found'
  | 'not-a-dead-letter'
  | 'not-a-conflict'
  | 'invalid-resolution'
  | 'not-pending'
  | 'sending'
  | 'invalid-lane'
  | 'invalid-user'
  | 'no-worker'
  | 'out-of-scope'
  | 'not-controlled'
  | 'timeout'
  | 'protocol-mismatch'
  | 'worker-error'
  /** A write sealed at rest whose device key cannot be had now (offline, signed out) or at all (revoked). */
  | 'undecryptable';

/** The one error type sw-outbox throws. The message names what is at fault and how to fix it. */
export class OutboxError extends Error {
  override readonly name = 'OutboxError';

  constructor(
    readonly code: OutboxErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Any thrown value, as one line for a log or a status message. */
export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
