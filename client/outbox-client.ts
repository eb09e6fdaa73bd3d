import { OutboxError, type OutboxErrorCode } from '../sw/outbox-error.js';
import { CHANNEL_NAME, isChannelMessage, PROTOCOL_NAME, PROTOCOL_VERSION, type ChannelMessage, type ConflictDetails, type EntryMeta, type Resolution, type StatusMessage } from '../sw/protocol.js';
import { DEFAULT_SNAPSHOT_LIMIT, protocolMismatch, protocolVersionOf, type CommandAck, type Commands, type CommandType, type CredentialsReply, type CredentialsRequest, type SignOutPending, type SignOutResult, type PendingWrite, type CommandReply, type Snapshot } from '../sw/commands.js';

/** How long past an attempt's due answer a page waits before it asks the worker to replay. */
const WATCHDOG_MARGIN_MS = 2_000;

export type Listener = (message: StatusMessage) => void;

/** One row of {@link OutboxClient.table}. */
export interface TableRow {
  id: number;
  method: string;
  url: string;
  state: string;
  attempts: number;
  nextAttempt: string;
  lastStatus: number | '';
  error: string;
}

/**
 * A page's handle on the outbox: status messages in, commands out. It listens from the
 * moment it is made. It asks the worker to replay when it is made, when the page comes
 * online or becomes visible, and at the time the worker says its next retry is due: the
 * worker's own timer dies with the worker, which browsers stop soon after it goes idle,
 * and in Firefox and Safari, which have no Background Sync, nothing else wakes it.
 */
export interface OutboxClientOptions {
  /**
   * How long a call waits for the worker to acknowledge it before it fails with code
   * `timeout` (or `no-worker`). A stopped worker is started for the call, which takes a
   * moment. @default 5_000 (ms)
   */
  ackTimeoutMs?: number;
}

export class OutboxClient {
  readonly #channel = new BroadcastChannel(CHANNEL_NAME);
  readonly #ackTimeoutMs: number;
  /** The protocol version of a worker of another release, once one has spoken. */
  #workerVersion: unknown;
  #pageId: Promise<string> | undefined;
  readonly #listeners = new Set<Listener>();
  readonly #configErrorListeners = new Set<(error: OutboxError) => void>();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Attempts announced as sending, and the timer that asks for a replay if they never report back. */
  readonly #watchdogs = new Map<number, ReturnType<typeof setTimeout>>();

  readonly #replayNow = () => void this.replay().catch(() => {});
  readonly #onVisible = () => {
    if (document.visibilityState === 'visible') this.#replayNow();
  };

  constructor({ ackTimeoutMs = 5_000 }: OutboxClientOptions = {}) {
    if (!Number.isInteger(ackTimeoutMs) || ackTimeoutMs < 1) throw new OutboxError('invalid-option', `sw-outbox: ackTimeoutMs ${String(ackTimeoutMs)} is not a whole number of milliseconds, 1 or more.`);
    this.#ackTimeoutMs = ackTimeoutMs;
    this.#channel.onmessage = (event: MessageEvent) => this.#receive(event.data);
    addEventListener('online', this.#replayNow);
    document.addEventListener('visibilitychange', this.#onVisible);
    // A page opening is the user coming back, as when it becomes visible: send what waits.
    // Should that fail, the retry-scheduled message that follows sets this page's timer.
    this.#replayNow();
    // This page's reads so far went past the worker (none controlled it): once one does, it keeps them.
    if (navigator.serviceWorker && !navigator.serviceWorker.controller) navigator.serviceWorker.addEventListener('controllerchange', this.#keepEarlierReads, { once: true });
  }

  readonly #keepEarlierReads = () => {
    const own = performance
      .getEntriesByType('resource')
      .filter((entry) => (entry as PerformanceResourceTiming).initiatorType === 'fetch' || (entry as PerformanceResourceTiming).initiatorType === 'xmlhttprequest')
      .map((entry) => entry.name)
      .filter((url) => new URL(url).origin === location.origin);
    if (own.length > 0) this.keepReads([...new Set(own)]).catch(() => {});
  };

  /** Calls `listener` with every status message; returns the function that stops it. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Has the worker cache the reads this page made before it controlled the page (a first
   * visit): those under the worker's `reads`. The client does it by itself when the worker
   * takes control of a page it made; call it for reads made some other way.
   */
  async keepReads(urls: string[]): Promise<void> {
    await this.#send('keep-reads', { urls });
  }

  /**
   * Calls `listener` each time a create that was kept for later, and answered with a
   * provisional identity, is delivered and the server's identity known (option
   * `collections`, decision 0022). The worker already sends writes naming the provisional
   * one to the real one; an app that keeps its own records may update them. Returns the
   * function that stops it.
   */
  onIdentified(listener: (identity: { provisional: { id: string; url: string }; real: { id: string | number; url: string } }) => void): () => void {
    return this.subscribe((message) => {
      if (message.type === 'identified') listener({ provisional: message.provisional, real: message.real });
    });
  }

  /**
   * Called when a worker fails to install because its options are invalid (codes
   * `invalid-option`, `unknown-option`), or when a worker of another release speaks on the
   * channel (code `protocol-mismatch`: this page's calls will fail until it is reloaded).
   * Returns the function that stops it.
   */
  onConfigError(listener: (error: OutboxError) => void): () => void {
    this.#configErrorListeners.add(listener);
    return () => this.#configErrorListeners.delete(listener);
  }

  /**
   * The outbox's state, metadata only: exact counts, and the first `limit` waiting
   * entries, dead letters and lanes (each lane with the entry its writes wait on).
   */
  async snapshot({ limit = DEFAULT_SNAPSHOT_LIMIT }: { limit?: number } = {}): Promise<Snapshot> {
    if (!Number.isInteger(limit) || limit < 1) throw new OutboxError('invalid-option', `sw-outbox: snapshot limit ${String(limit)} is not a whole number of 1 or more.`);
    return (await this.#send('snapshot', { limit })).snapshot;
  }

  /**
   * The writes that wait (or are being sent), in the order they will be sent: method, URL,
   * lane, state, Content-Type, and whether this page made them (`mine`). With `bodies`,
   * each request body too, so that a page can draw its unsent changes over what it read.
   */
  async pending({ limit = DEFAULT_SNAPSHOT_LIMIT, bodies = false }: { limit?: number; bodies?: boolean } = {}): Promise<PendingWrite[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new OutboxError('invalid-option', `sw-outbox: pending limit ${String(limit)} is not a whole number of 1 or more.`);
    return (await this.#send('pending', { limit, bodies })).pending;
  }

  /**
   * Asks the worker to send what waits now. With `force` (the default), writes that
   * wait only because the network failed are tried at once; waits a server asked for
   * (Retry-After, 5xx) still hold. Resolves when that replay is over. (A boolean in place
   * of the options, as 0.2 took, still works.)
   */
  async replay(options: { force?: boolean } | boolean = {}): Promise<void> {
    const force = typeof options === 'boolean' ? options : (options.force ?? true);
    await this.#send('replay', { force });
  }

  /**
   * Prints the outbox as a table in the console and returns its rows: in DevTools,
   * `await outbox.table()` on a page that keeps its client in `outbox`.
   */
  async table(): Promise<TableRow[]> {
    const { entries, deadLetters } = await this.snapshot();
    const rows = [...entries, ...deadLetters].map(
      ({ id, method, url, state, attempts, nextAttemptAt, lastStatus, lastError, deadReason }): TableRow => ({
        id,
        method,
        url,
        state,
        attempts,
        nextAttempt: nextAttemptAt === undefined ? '' : new Date(nextAttemptAt).toLocaleTimeString(),
        lastStatus: lastStatus ?? '',
        error: deadReason ?? lastError ?? '',
      }),
    );
    console.table(rows);
    return rows;
  }

  /**
   * Sends a dead letter again, after the writes already waiting in its lane. It keeps its
   * id; it takes a new place in the order (`seq`). Resolves with the entry once the replay
   * that sends it is over.
   */
  async retry(id: number): Promise<EntryMeta> {
    return (await this.#send('retry', { id })).entry;
  }

  /**
   * Gives up on a write that waits (not one being sent): it becomes a dead letter with
   * reason `cancelled`, to discard or retry. The writes behind it in its lane go on.
   */
  async cancel(id: number): Promise<void> {
    await this.#send('cancel', { id });
  }

  /** This page's client id, as entries' `madeBy` names the page that made them. */
  async pageId(): Promise<string> {
    this.#pageId ??= this.#send('whoami', {}).then((reply) => reply.page);
    return this.#pageId.catch((error: unknown) => {
      this.#pageId = undefined;
      throw error;
    });
  }

  /** Asks the worker to take control of the pages in its scope that have none (see registerOutbox). */
  async claim(): Promise<void> {
    await this.#send('claim', {});
  }

  /**
   * A conflict as a person would be shown it: the write's body (`ours`, parsed when JSON),
   * the server's current representation (`theirs`, from the conflict's answer or a GET of
   * the URL) and the entry.
   */
  async conflict(id: number): Promise<ConflictDetails> {
    return (await this.#send('conflict', { id })).conflict;
  }

  /**
   * Settles a conflict: `{ keep: 'mine' }` sends the write again over the other change;
   * `{ body }` or `{ json }` sends that instead (a merge); both with a new key and If-Match
   * on the current version, in the write's place in its lane. `{ keep: 'theirs' }` drops
   * it. Resolves with the entry waiting again (undefined when dropped) once the replay
   * that sends it is over.
   */
  async resolve(id: number, resolution: Resolution): Promise<EntryMeta | undefined> {
    return (await this.#send('resolve', { id, resolution })).entry;
  }

  /**
   * Asks the browser to keep this origin's storage, the outbox with it, under storage
   * pressure (`navigator.storage.persist()`): true once granted, false when refused or
   * where there is no StorageManager. Without it the browser may evict the origin's data,
   * waiting writes and all, when the device runs short of space. Chromium decides by
   * itself (an installed or often-used site gets it); Firefox asks the person.
   */
  async persist(): Promise<boolean> {
    const storage = navigator.storage as StorageManager | undefined;
    if (!storage?.persist) return false;
    try {
      return (await storage.persisted()) || (await storage.persist());
    } catch {
      return false;
    }
  }

  /**
   * Gives the worker the credential headers of writes it is about to send, when it has
   * none of its own: writes are never stored with them (option `credentialHeaders`), so
   * after a worker restart or a 401 it asks an open page. `callback` gets the write
   * (`url`, `method`, `lane`, the header `names` it was made with) and returns the headers
   * to send, or undefined. Registering it sends the writes that wait for credentials
   * (`needs-auth`) again, asking it. One callback per client; returns what removes it.
   */
  onCredentials(callback: (write: Omit<CredentialsRequest, 'protocol' | 'version' | 'type'>) => Record<string, string> | undefined | Promise<Record<string, string> | undefined>): () => void {
    const listener = async (event: MessageEvent) => {
      const data = event.data as CredentialsRequest | undefined;
      const port = event.ports[0];
      if (data?.protocol !== PROTOCOL_NAME || data.type !== 'credentials-request' || !port) return;
      let headers: Record<string, string> | null = null;
      try {
        headers = (await callback({ url: data.url, method: data.method, lane: data.lane, names: data.names })) ?? null;
      } finally {
        const reply: CredentialsReply = { headers };
        port.postMessage(reply);
      }
    };
    navigator.serviceWorker.addEventListener('message', listener);
    // Writes refused for want of credentials can have them now: the worker sends them again.
    this.#send('credentials-offered', {}).catch(() => {});
    return () => navigator.serviceWorker.removeEventListener('message', listener);
  }

  /**
   * Tells the worker that credentials changed (a sign-in, a refreshed token): the writes
   * that got 401 or 403 (`needs-auth`) are sent again, asking `onCredentials` for them.
   */
  async credentialsChanged(): Promise<void> {
    await this.#send('credentials-changed', {});
  }

  /**
   * Says who is signed in: from now on the page's writes are this user's, are sent only
   * while they are signed in, and only their pages see them. Call it after each sign-in,
   * with the id the server knows them by (it arrives as `Outbox-User`).
   */
  async signIn(user: string): Promise<void> {
    await this.#send('sign-in', { user });
  }

  /**
   * Says the user signed out. Their waiting writes are kept for their next sign-in
   * (`pending: 'keep'`, the default), sent first (`'flush'`, waiting up to `timeoutMs`),
   * or erased (`'purge'`). Resolves with how many were sent, kept and erased.
   */
  async signOut({ pending = 'keep', timeoutMs = 10_000 }: { pending?: SignOutPending; timeoutMs?: number } = {}): Promise<SignOutResult> {
    if (!['keep', 'flush', 'purge'].includes(pending)) throw new OutboxError('invalid-option', `sw-outbox: signOut({ pending: ${JSON.stringify(pending)} }): use "keep", "flush" or "purge".`);
    return (await this.#send('sign-out', { pending, timeoutMs })).signedOut;
  }

  /** Deletes a dead letter for good. */
  async discard(id: number): Promise<void> {
    await this.#send('discard', { id });
  }

  /** Stops listening and triggering. */
  close(): void {
    this.#channel.close();
    clearTimeout(this.#retryTimer);
    for (const timer of this.#watchdogs.values()) clearTimeout(timer);
    this.#watchdogs.clear();
    removeEventListener('online', this.#replayNow);
    document.removeEventListener('visibilitychange', this.#onVisible);
    navigator.serviceWorker?.removeEventListener('controllerchange', this.#keepEarlierReads);
    this.#listeners.clear();
    this.#configErrorListeners.clear();
  }

  #receive(data: unknown): void {
    if (!isChannelMessage(data)) {
      const version = protocolVersionOf(data);
      // A worker of another release: every call would fail, so say so once, and at once.
      if (version !== undefined && this.#workerVersion === undefined) {
        this.#workerVersion = version;
        for (const listener of this.#configErrorListeners) listener(mismatch(version));
      }
      return;
    }
    const message: ChannelMessage = data;
    if (message.type === 'config-error') {
      const error = new OutboxError(message.error.code as OutboxErrorCode, message.error.message);
      for (const listener of this.#configErrorListeners) listener(error);
      return;
    }
    if ('entry' in message) {
      clearTimeout(this.#watchdogs.get(message.entry.id));
      this.#watchdogs.delete(message.entry.id);
    }
    if (message.type === 'sending') {
      // A worker stopped mid-send reports nothing, and nothing may start it again for
      // minutes (Chromium reschedules a failed sync event 5 minutes later). A replay asked
      // for now starts it; it sends the write again with its key.
      const delay = Math.max(0, message.answerBy - Date.now()) + WATCHDOG_MARGIN_MS;
      this.#watchdogs.set(message.entry.id, setTimeout(() => {
        this.#watchdogs.delete(message.entry.id);
        void this.replay({ force: false }).catch(() => {});
      }, delay));
    }
    if (message.type === 'retry-scheduled') {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = setTimeout(() => void this.replay({ force: false }).catch(() => {}), Math.max(0, message.retryAt - Date.now()));
    }
    for (const listener of this.#listeners) listener(message);
  }

  /**
   * Sends a command and resolves with the worker's reply. The worker acknowledges a
   * command at once, then replies when it is done (a replay may take long): a worker that
   * does not acknowledge within `ackTimeoutMs` is not there or speaks no protocol of ours.
   */
  async #send<T extends CommandType>(type: T, args: Commands[T]['args']): Promise<Commands[T]['reply']> {
    if (this.#workerVersion !== undefined) throw mismatch(this.#workerVersion);
    const worker = await this.#worker(type);
    const { port1, port2 } = new MessageChannel();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const answer = await new Promise<CommandReply<T>>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new OutboxError('timeout', `sw-outbox: the worker did not acknowledge "${type}" within ${this.#ackTimeoutMs} ms. It may be stopped in DevTools, or be a worker that is not sw-outbox's.`)),
          this.#ackTimeoutMs,
        );
        port1.onmessage = (event: MessageEvent<CommandReply<T> | CommandAck>) => {
          clearTimeout(timer);
          if (!('ack' in event.data)) resolve(event.data);
        };
        worker.postMessage({ protocol: PROTOCOL_NAME, version: PROTOCOL_VERSION, type, ...args }, [port2]);
      });
      if (!answer.ok) throw new OutboxError(answer.error.code, answer.error.message);
      return answer;
    } finally {
      clearTimeout(timer);
      port1.close();
    }
  }

  /** The worker to talk to: this page's controller, else the registration's active worker. */
  async #worker(command: string): Promise<ServiceWorker> {
    if (navigator.serviceWorker.controller) return navigator.serviceWorker.controller;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const none = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new OutboxError('no-worker', `sw-outbox: no active worker to send "${command}" to within ${this.#ackTimeoutMs} ms. Register /outbox-sw.js first (registerOutbox does).`)), this.#ackTimeoutMs);
    });
    try {
      const registration = await Promise.race([navigator.serviceWorker.ready, none]);
      if (!registration.active) throw new OutboxError('no-worker', `sw-outbox: no active worker to send "${command}" to. Register /outbox-sw.js first.`);
      return registration.active;
    } finally {
      clearTimeout(timer);
    }
  }
}

function mismatch(workerVersion: unknown): OutboxError {
  const { error } = protocolMismatch(PROTOCOL_VERSION, workerVersion);
  return new OutboxError('protocol-mismatch', error.message);
}
