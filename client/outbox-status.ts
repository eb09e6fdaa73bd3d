import type { Counts, EntryMeta, StatusMessage } from '../sw/protocol.js';
import type { Snapshot } from '../sw/commands.js';
import { OutboxClient } from './outbox-client.js';
import { activityAfter, activityOf, IDLE, type Activity } from './status-activity.js';
import { button, deadLetterItem, shortPath, sideRows } from './status-items.js';

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
    /** What the outbox is doing, as the messages so far tell it (status-activity.ts). */
    #activity: Activity = IDLE;
    readonly #root = this.attachShadow({ mode: 'open' });
    readonly #network: HTMLElement;
    readonly #pending: HTMLElement;
    readonly #activityLine: HTMLElement;
    readonly #sendNow: HTMLButtonElement;
    readonly #error: HTMLElement;
    readonly #deadLetters: HTMLUListElement;
    readonly #conflicts: HTMLUListElement;
    readonly #refused: HTMLDetailsElement;
    /** This page's client id, and its writes still waiting: "3 waiting (1 from this tab)". */
    #me: string | undefined;
    readonly #mine = new Set<number>();
    readonly #onNetwork = () => {
      this.#renderNetwork();
      this.#renderActivity();
    };
    /** A worker took control: what the element could not ask before, it asks now. */
    readonly #onController = () => {
      this.#activity = { ...this.#activity, lastError: null };
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
      this.#activityLine = part('.activity');
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
      this.#activity = activityAfter(this.#activity, message);
      switch (message.type) {
        case 'dead-lettered':
          // Kept up to date from the messages: no snapshot per change. A new one opens the
          // panel: it needs the person's decision.
          this.#removeDeadLetter(message.entry.id);
          this.#deadLetters.append(deadLetterItem(message.entry));
          this.#refused.open = true;
          break;
        case 'conflict':
          // Its lane waits for the person: the panel opens on both sides and the choice.
          this.#conflicts.querySelector(`li[data-id="${message.entry.id}"]`)?.remove();
          this.#conflicts.append(this.#conflictItem(message.entry));
          this.#refused.open = true;
          break;
        case 'resolved':
          this.#conflicts.querySelector(`li[data-id="${message.entry.id}"]`)?.remove();
          break;
        case 'retried':
        case 'discarded':
          this.#removeDeadLetter(message.entry.id);
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
      this.#activity = activityOf(snapshot, this.#activity.sending, Date.now());
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
      if (pending === 0) this.#activity = { ...this.#activity, retryAt: 0, serverWait: false };
    }

    #renderActivity(): void {
      clearInterval(this.#ticker);
      this.#ticker = undefined;
      const { sending, needsAuth, retryAt, serverWait, lastError } = this.#activity;
      const seconds = Math.ceil((retryAt - Date.now()) / 1000);
      const pending = Number(this.getAttribute('pending')) > 0;
      const offline = !navigator.onLine;
      if (sending) {
        this.#activityLine.textContent = `Sending ${sending.method} ${shortPath(sending.url)}…`;
      } else if (needsAuth && pending) {
        // Not an error of the network or of the writes: the session ended.
        const count = Number(this.getAttribute('pending'));
        this.#activityLine.textContent = `Sign in to send ${count} change${count === 1 ? '' : 's'}`;
      } else if (offline && pending) {
        // Offline is a state, not an error: nothing is wrong with the writes.
        this.#activityLine.textContent = 'Sent when back online';
      } else if (retryAt > 0 && seconds > 0) {
        this.#activityLine.textContent = serverWait ? `The server asked to wait: retry in ${seconds} s` : `Next retry in ${seconds} s`;
        this.#ticker = setInterval(() => this.#renderActivity(), 1000);
      } else {
        this.#activityLine.textContent = '';
      }
      this.#sendNow.hidden = sending !== undefined || !pending;
      const why = offline
        ? 'Offline: waiting changes are sent when the connection is back.'
        : needsAuth
          ? 'These changes are sent once you sign in again.'
          : serverWait && seconds > 0
            ? 'The server asked to wait before the next try.'
            : '';
      this.#sendNow.disabled = why !== '';
      this.#sendNow.title = why || 'Try sending the waiting changes now.';
      // No worker controls the page (before the first install, after a hard reload, or no
      // service workers at all): writes made now bypass the outbox, and the person is told.
      this.toggleAttribute('needs-auth', needsAuth && pending);
      const unprotected = !navigator.serviceWorker?.controller;
      this.toggleAttribute('unprotected', unprotected);
      const error = unprotected
        ? 'Changes made on this page now are not kept if the network fails. Reload the page to protect them.'
        : offline && lastError?.startsWith('network error')
          ? null
          : lastError;
      this.#error.hidden = !error;
      this.#error.textContent = error ? (unprotected ? error : `Last error: ${error}`) : '';
      this.#error.title = this.#error.textContent;
    }

    #showError(message: string): void {
      this.#activity = { ...this.#activity, lastError: message };
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
