/**
 * What the outbox is doing, for `<outbox-status>` to say: the write being sent, the next
 * retry, the last error, whether the session ended. Folded from the status messages as they
 * come, and read afresh from a snapshot.
 */
import type { Snapshot } from '../sw/commands.js';
import type { EntryMeta, StatusMessage } from '../sw/protocol.js';

export interface Activity {
  sending: EntryMeta | undefined;
  lastError: string | null;
  /** When the next attempt is due (0: none scheduled). */
  retryAt: number;
  /** The next attempt waits for a time the server asked for (5xx, Retry-After): Send now cannot help. */
  serverWait: boolean;
  /** Writes wait for credentials (a 401 or 403 on replay): the person has to sign in. */
  needsAuth: boolean;
}

/** Nothing going on: the outbox drained. */
export const IDLE: Activity = { sending: undefined, lastError: null, retryAt: 0, serverWait: false, needsAuth: false };

/** The activity after one status message. */
export function activityAfter(activity: Activity, message: StatusMessage): Activity {
  switch (message.type) {
    case 'sending':
      return { ...activity, sending: message.entry };
    case 'sent':
    case 'dead-lettered':
    case 'conflict':
      return { ...activity, sending: undefined };
    case 'retry-scheduled':
      return { ...activity, sending: undefined, lastError: message.error, retryAt: message.retryAt, serverWait: message.entry.waitsFor === 'server' };
    case 'needs-auth':
      return { ...activity, sending: undefined, needsAuth: true };
    case 'resumed':
      return { ...activity, needsAuth: false };
    case 'drained':
      return IDLE;
    case 'storage-full':
      return {
        ...activity,
        lastError: message.kept
          ? 'This device is out of storage space; changes already saved here are still being sent.'
          : 'Changes are not protected: this device would not keep the last one for sending later (no room, or storage blocked).',
      };
    default:
      return activity;
  }
}

/** The activity a snapshot shows; a snapshot does not say which write is being sent, so `sending` is kept. */
export function activityOf(snapshot: Snapshot, sending: EntryMeta | undefined, now: number): Activity {
  return {
    sending,
    lastError: snapshot.lastError,
    needsAuth: snapshot.lanes.some((lane) => lane.state === 'needs-auth'),
    retryAt: snapshot.counts.pending > 0 && snapshot.lastError ? (snapshot.nextAttemptAt ?? 0) : 0,
    serverWait: snapshot.entries.some((entry) => entry.waitsFor === 'server' && (entry.nextAttemptAt ?? 0) > now),
  };
}
