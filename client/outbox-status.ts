import type { ConflictDetails, Counts, EntryMeta, StatusMessage } from '../sw/protocol.js';
import type { Snapshot } from '../sw/commands.js';
import { OutboxClient } from './outbox-client.js';

/** The `<outbox-status>` element: what the outbox is doing, for the person using the app. */
export interface OutboxStatusElement extends HTMLElement {
  /** The client it listens through; one of its own is made on connect when none is set. */
  client: OutboxClient | undefined;
  /** Reads the worker's state again (it also does so on every change that needs it). */
  refresh(): Promise<void>;
}

// A fixed footprint: two lines at most, whatever happens. Dead letters open in a panel
// over the page rather than pushing it down.
const STYLE = `
  :host { display: block; position: relative; font: 14px/1.4 system-ui, sans-serif; color: #1d2329; }
  .summary { display: flex; flex-wrap: wrap; gap: .25rem .75rem; align-items: center; }
  .network::before { content: '●'; margin-right: .3em; color: #2e7d32; }
  :host([offline]) .network::before { color: #9e9e9e; }
  .error { color: #b3261e; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  details { display: inline; }
  summary { cursor: pointer; color: #b3261e; }
  .panel { position: absolute; right: 0; top: 100%; z-index: 10; width: min(28rem, calc(100vw - 2rem)); max-height: 60vh; overflow: auto;
    margin-top: .25rem; padding: .25rem .75rem; background: #fff; border: 1px solid #dde1dc; border-radius: 8px; box-shadow: 0 4px 16px rgb(0 0 0 / .12); }
  ul { margin: 0; padding: 0; list-style: none; }
  li { display: flex; flex-wrap: wrap; gap: .25rem .5rem; align-items: baseline; padding: .4rem 0; border-top: 1px solid #e3e3e3; }
  li:first-child { border-top: 0; }
  li .what { flex: 1 1 12rem; overflow-wrap: anywhere; }
  li .why { display: block; color: #5f675f; font-size: .9em; }
  li code { font-size: .8em; background: #f1f1f1; border-radius: 3px; padding: 0 .25rem; }
  .sides { display: grid; grid-template-columns: auto 1fr; gap: 0 .5rem; margin: .25rem 0 0; font-size: .9em; }
  .sides dt { color: #5f675f; }
  .sides dd { margin: 0; overflow-wrap: anywhere; }
  .choices { display: flex; flex-wrap: wrap; gap: .5rem; }
  button { font: inherit; padding: .1rem .5rem; }
  button:disabled { cursor: not-allowed; }
  /* Too narrow for a panel beside the summary: one across the viewport. */
  @media (max-width: 36rem) { .panel { position: fixed; left: 1rem; right: 1rem; top: auto; width: auto; } }
  [hidden] { display: none !important; }
`;

/**
 * Defines `<outbox-status>` (once; later calls do nothing) and returns its class. It
 * shows online or offline, writes waiting (with a Send now button), the one being sent,
 * the next retry, the last error, and dead letters with Retry and Discard buttons.
 * Attributes mirror the state for the app's own CSS: `offline`, `pending="3"`,
 * `dead-letters="1"`. Each status message is also dispatched as a bubbling
 * `outbox-change` event (the message in `detail`), so an app can, say, reload its data
 * when the outbox drains.
 */
export function defineOutboxStatus(name = 'outbox-status'): CustomElementConstructor {
  const defined = customElements.get(name);
  if (defined) return defined;
  customElements.define(name, createElementClass());
  return customElements.get(name)!;
}

// Made on demand so that importing the page helper touches no DOM class.
function createElementClass(): CustomElementConstructor {
  return class extends HTMLElement implements OutboxStatusElement {
    client: OutboxClient | undefined;
    #ownClient = false;
    #stop: (() => void) | undefined;
    #ticker: ReturnType<typeof setInterval> | undefined;
    #retryAt = 0;
    #sending: EntryMeta | undefined;
    #lastError: string | null = null;
    readonly #root = this.attachShadow({ mode: 'open' });
    readonly #network: HTMLElement;
    readonly #pending: HTMLElement;
    readonly #activity: HTMLElement;
    readonly #sendNow: HTMLButtonElement;
    readonly #error: HTMLElement;
    readonly #deadLetters: HTMLUListElement;
    readonly #conflicts: HTMLUListElement;
    readonly #refused: HTMLDetailsElement;
    /** Writes wait for credentials (a 401 or 403 on replay): the person has to sign in. */
    #needsAuth = false;
    /** The next attempt waits for a time the server asked for (5xx, Retry-After): Send now cannot help. */
    #serverWait = false;
    /** This page's client id, and its writes still waiting: "3 waiting (1 from this tab)". */
    #me: string | undefined;
    readonly #mine = new Set<number>();
    readonly #onNetwork = () => {
      this.#renderNetwork();
      this.#renderActivity();
    };
    /** A worker took control: what the element could not ask before, it asks now. */
    readonly #onController = () => {
      this.#lastError = null;
      this.#renderActivity();
      void this.refresh().catch((error: Error) => this.#showError(error.message));
    };

    constructor() {
      super();
      this.#root.innerHTML = `<style>${STYLE}</style>
        <div class="summary">
          <span role="status" aria-live="polite">
            <span class="network" part="network"></span>
            <span class="pending" part="pending"></span>
            <span class="activity" part="activity"></span>
          </span>
          <button type="button" class="send-now" part="send-now" hidden>Send now</button>
          <details class="refused" part="refused" hidden>
            <summary>Review</summary>
            <div class="panel">
              <ul class="conflicts" part="conflicts" aria-label="Changes that clash with someone else's"></ul>
              <ul class="dead-letters" part="dead-letters" aria-label="Changes the server refused"></ul>
            </div>
          </details>
        </div>
        <div class="error" part="error" hidden></div>`;
      const part = (selector: string) => this.#root.querySelector(selector) as HTMLElement;
      this.#network = part('.network');
      this.#pending = part('.pending');
      this.#activity = part('.activity');
      this.#sendNow = part('.send-now') as HTMLButtonElement;
      // Network failures wait no longer; a wait the server asked for (Retry-After) holds.
      this.#sendNow.addEventListener('click', () => void this.client?.replay().catch((error: Error) => this.#showError(error.message)));
      this.#error = part('.error');
      this.#refused = part('.refused') as HTMLDetailsElement;
      this.#deadLetters = part('.dead-letters') as HTMLUListElement;
      this.#deadLetters.addEventListener('click', (event) => this.#onDeadLetterClick(event));
      this.#conflicts = part('.conflicts') as HTMLUListElement;
      this.#conflicts.addEventListener('click', (event) => this.#onConflictClick(event));
    }

    connectedCallback(): void {
      if (!this.client) {
        this.client = new OutboxClient();
        this.#ownClient = true;
      }
      this.#stop = this.client.subscribe((message) => this.#receive(message));
      addEventListener('online', this.#onNetwork);
      addEventListener('offline', this.#onNetwork);
      navigator.serviceWorker?.addEventListener('controllerchange', this.#onController);
      this.#renderNetwork();
      this.#renderCounts({ pending: 0, deadLetters: 0, conflicts: 0 });
      void this.refresh().catch((error: Error) => this.#showError(error.message));
    }

    disconnectedCallback(): void {
      this.#stop?.();
      removeEventListener('online', this.#onNetwork);
      removeEventListener('offline', this.#onNetwork);
      navigator.serviceWorker?.removeEventListener('controllerchange', this.#onController);
      clearInterval(this.#ticker);
      if (this.#ownClient) {
        this.client?.close();
        this.client = undefined;
        this.#ownClient = false;
      }
    }

    async refresh(): Promise<void> {
      if (!this.client) return;
      this.#me ??= await this.client.pageId().catch(() => undefined);
      this.#renderSnapshot(await this.client.snapshot());
    }

    #receive(message: StatusMessage): void {
      this.dispatchEvent(new CustomEvent<StatusMessage>('outbox-change', { detail: message, bubbles: true, composed: true }));
      if ('entry' in message) {
        const live = (message.entry.state === 'pending' || message.entry.state === 'sending' || message.entry.state === 'needs-auth') && message.type !== 'sent' && message.type !== 'folded' && message.type !== 'resolved';
        if (live && this.#me !== undefined && message.entry.madeBy === this.#me) this.#mine.add(message.entry.id);
        else this.#mine.delete(message.entry.id);
      }
      this.#renderCounts(message.counts);
      switch (message.type) {
        case 'sending':
          this.#sending = message.entry;
          break;
        case 'sent':
          this.#sending = undefined;
          break;
        case 'retry-scheduled':
          this.#sending = undefined;
          this.#lastError = message.error;
          this.#retryAt = message.retryAt;
          this.#serverWait = message.entry.waitsFor === 'server';
          break;
        case 'needs-auth':
          this.#sending = undefined;
          this.#needsAuth = true;
          break;
        case 'resumed':
          this.#needsAuth = false;
          break;
        case 'drained':
          this.#needsAuth = false;
          this.#sending = undefined;
          this.#lastError = null;
          this.#retryAt = 0;
          this.#serverWait = false;
          break;
        case 'dead-lettered':
          // Kept up to date from the messages: no snapshot per change. A new one opens the
          // panel: it needs the person's decision.
          this.#sending = undefined;
          this.#removeDeadLetter(message.entry.id);
          this.#deadLetters.append(deadLetterItem(message.entry));
          this.#refused.open = true;
          break;
        case 'conflict':
          // Its lane waits for the person: the panel opens on both sides and the choice.
          this.#sending = undefined;
          this.#conflicts.querySelector(`li[data-id="${message.entry.id}"]`)?.remove();
          this.#conflicts.append(this.#conflictItem(message.entry));
          this.#refused.open = true;
          break;
        case 'resolved':
          this.#conflicts.querySelector(`li[data-id="${message.entry.id}"]`)?.remove();
          break;
        case 'retried':
          this.#removeDeadLetter(message.entry.id);
          break;
        case 'discarded':
          this.#removeDeadLetter(message.entry.id);
          break;
        case 'storage-full':
          this.#lastError = message.kept
            ? 'This device is out of storage space; changes already saved here are still being sent.'
            : 'Changes are not protected: this device would not keep the last one for sending later (no room, or storage blocked).';
          break;
        case 'queued':
          break;
      }
      this.#renderActivity();
    }

    #removeDeadLetter(id: number): void {
      this.#deadLetters.querySelector(`li[data-id="${id}"]`)?.remove();
    }

    #renderSnapshot(snapshot: Snapshot): void {
      this.#mine.clear();
      for (const entry of snapshot.entries) if (this.#me !== undefined && entry.madeBy === this.#me) this.#mine.add(entry.id);
      this.#renderCounts(snapshot.counts);
      this.#lastError = snapshot.lastError;
      this.#needsAuth = snapshot.lanes.some((lane) => lane.state === 'needs-auth');
      this.#retryAt = snapshot.counts.pending > 0 && snapshot.lastError ? (snapshot.nextAttemptAt ?? 0) : 0;
      this.#serverWait = snapshot.entries.some((entry) => entry.waitsFor === 'server' && (entry.nextAttemptAt ?? 0) > Date.now());
      this.#deadLetters.replaceChildren(...snapshot.deadLetters.map(deadLetterItem));
      this.#conflicts.replaceChildren(...snapshot.conflicts.map((entry) => this.#conflictItem(entry)));
      this.#renderActivity();
    }

    #renderNetwork(): void {
      this.toggleAttribute('offline', !navigator.onLine);
      this.#network.textContent = navigator.onLine ? 'Online' : 'Offline';
    }

    #renderCounts({ pending, deadLetters, conflicts }: Counts): void {
      this.setAttribute('pending', String(pending));
      this.setAttribute('dead-letters', String(deadLetters));
      this.setAttribute('conflicts', String(conflicts));
      if (pending === 0) this.#mine.clear();
      // Only when some are this tab's: after a reload none are (the page that made them is gone).
      const mine = this.#mine.size > 0 && this.#mine.size < pending ? ` (${this.#mine.size} from this tab)` : '';
      const parts = [pending > 0 ? `${pending} waiting${mine}` : '', conflicts > 0 ? `${conflicts} in conflict` : '', deadLetters > 0 ? `${deadLetters} refused` : ''].filter(Boolean);
      this.#pending.textContent = parts.length > 0 ? parts.join(', ') : 'All changes saved';
      this.#refused.hidden = deadLetters === 0 && conflicts === 0;
      if (pending === 0) {
        this.#retryAt = 0;
        this.#serverWait = false;
      }
    }

    #renderActivity(): void {
      clearInterval(this.#ticker);
      this.#ticker = undefined;
      const seconds = Math.ceil((this.#retryAt - Date.now()) / 1000);
      const pending = Number(this.getAttribute('pending')) > 0;
      const offline = !navigator.onLine;
      if (this.#sending) {
        this.#activity.textContent = `Sending ${this.#sending.method} ${shortPath(this.#sending.url)}…`;
      } else if (this.#needsAuth && pending) {
        // Not an error of the network or of the writes: the session ended.
        const count = Number(this.getAttribute('pending'));
        this.#activity.textContent = `Sign in to send ${count} change${count === 1 ? '' : 's'}`;
      } else if (offline && pending) {
        // Offline is a state, not an error: nothing is wrong with the writes.
        this.#activity.textContent = 'Sent when back online';
      } else if (this.#retryAt > 0 && seconds > 0) {
        this.#activity.textContent = this.#serverWait ? `The server asked to wait: retry in ${seconds} s` : `Next retry in ${seconds} s`;
        this.#ticker = setInterval(() => this.#renderActivity(), 1000);
      } else {
        this.#activity.textContent = '';
      }
      this.#sendNow.hidden = this.#sending !== undefined || !pending;
      const why = offline
        ? 'Offline: waiting changes are sent when the connection is back.'
        : this.#needsAuth
          ? 'These changes are sent once you sign in again.'
          : this.#serverWait && seconds > 0
            ? 'The server asked to wait before the next try.'
            : '';
      this.#sendNow.disabled = why !== '';
      this.#sendNow.title = why || 'Try sending the waiting changes now.';
      // No worker controls the page (before the first install, after a hard reload, or no
      // service workers at all): writes made now bypass the outbox, and the person is told.
      this.toggleAttribute('needs-auth', this.#needsAuth && pending);
      const unprotected = !navigator.serviceWorker?.controller;
      this.toggleAttribute('unprotected', unprotected);
      const error = unprotected
        ? 'Changes made on this page now are not kept if the network fails. Reload the page to protect them.'
        : offline && this.#lastError?.startsWith('network error')
          ? null
          : this.#lastError;
      this.#error.hidden = !error;
      this.#error.textContent = error ? (unprotected ? error : `Last error: ${error}`) : '';
      this.#error.title = this.#error.textContent;
    }

    #showError(message: string): void {
      this.#lastError = message;
      this.#renderActivity();
    }

    /** A conflict, with both sides filled in once the worker has given them, and the choice. */
    #conflictItem(entry: EntryMeta): HTMLLIElement {
      const item = document.createElement('li');
      item.dataset.id = String(entry.id);
      const what = document.createElement('span');
      what.className = 'what';
      const write = `${entry.method} ${shortPath(entry.url)}`;
      what.textContent = `${write} — ${entry.conflict?.problem?.title ?? 'changed by someone else since it was read'}`;
      what.title = `${entry.method} ${entry.url}`;
      const sides = document.createElement('dl');
      sides.className = 'sides';
      what.append(sides);
      const choices = document.createElement('span');
      choices.className = 'choices';
      choices.append(button('Keep mine', 'mine', `Send ${write} again over the other change`), button('Keep theirs', 'theirs', `Drop ${write} and keep the other change`));
      item.append(what, choices);
      this.client?.conflict(entry.id).then((details) => sides.append(...sideRows(details)), () => {});
      return item;
    }

    async #onConflictClick(event: Event): Promise<void> {
      const target = event.target as HTMLButtonElement;
      const keep = target.dataset.action;
      const id = Number(target.closest('li')?.dataset.id);
      if (!this.client || (keep !== 'mine' && keep !== 'theirs')) return;
      for (const choice of target.closest('li')!.querySelectorAll('button')) choice.disabled = true;
      try {
        await this.client.resolve(id, { keep });
      } catch (error) {
        this.#showError((error as Error).message);
        for (const choice of target.closest('li')!.querySelectorAll('button')) choice.disabled = false;
      }
    }

    async #onDeadLetterClick(event: Event): Promise<void> {
      const target = event.target as HTMLElement;
      const action = target.dataset.action;
      const id = Number(target.closest('li')?.dataset.id);
      if (!this.client || (action !== 'retry' && action !== 'discard')) return;
      (target as HTMLButtonElement).disabled = true;
      try {
        await (action === 'retry' ? this.client.retry(id) : this.client.discard(id));
      } catch (error) {
        this.#showError((error as Error).message);
        (target as HTMLButtonElement).disabled = false;
      }
    }
  };
}

/** A dead letter: what it was, what the server said (its problem+json when it sent one), and its code. */
function deadLetterItem(entry: EntryMeta): HTMLLIElement {
  const item = document.createElement('li');
  item.dataset.id = String(entry.id);
  const what = document.createElement('span');
  what.className = 'what';
  const write = `${entry.method} ${shortPath(entry.url)}`;
  what.textContent = `${write} — ${entry.problem?.title ?? entry.deadReason ?? 'refused'} `;
  what.title = `${entry.method} ${entry.url}`;
  const code = document.createElement('code');
  code.textContent = entry.deadCode ?? 'rejected';
  what.append(code);
  const why = entry.problem?.detail ?? (entry.problem?.title ? entry.deadReason : undefined);
  if (why) {
    const line = document.createElement('span');
    line.className = 'why';
    line.textContent = why;
    what.append(line);
  }
  // A write whose device key was revoked can never be read again: retrying it would only fail the same way.
  if (entry.deadCode !== 'undecryptable') item.append(what, button('Retry', 'retry', `Retry ${write}`));
  else item.append(what);
  item.append(button('Discard', 'discard', `Discard ${write}`));
  return item;
}

/**
 * "Yours" and "theirs" for what differs: the members the server named as clashing, else
 * every member of the write's JSON body that differs from the server's; the whole values
 * when they are not objects.
 */
function sideRows({ ours, theirs }: ConflictDetails): HTMLElement[] {
  const rows: HTMLElement[] = [];
  const row = (label: string, value: unknown) => {
    const term = document.createElement('dt');
    term.textContent = label;
    const text = document.createElement('dd');
    text.textContent = value === undefined ? '(not known)' : shown(value);
    rows.push(term, text);
  };
  if (isObject(ours) && isObject(theirs)) {
    for (const member of Object.keys(ours).filter((name) => JSON.stringify(ours[name]) !== JSON.stringify(theirs[name]))) {
      row(`${member}, yours`, ours[member]);
      row(`${member}, theirs`, theirs[member]);
    }
  } else {
    row('Yours', ours);
    row('Theirs', theirs);
  }
  return rows;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shown(value: unknown): string {
  const text = typeof value === 'string' ? `“${value}”` : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

/** A URL's path with long ids shortened (`/api/lists/c9e45693…/items`): the full URL is in the title. */
function shortPath(url: string): string {
  return new URL(url).pathname.replace(/[0-9a-f-]{20,}/gi, (id) => `${id.slice(0, 8)}…`);
}

function button(label: string, action: string, description: string): HTMLButtonElement {
  const element = document.createElement('button');
  element.type = 'button';
  element.textContent = label;
  element.title = description;
  element.dataset.action = action;
  return element;
}
