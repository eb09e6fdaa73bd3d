/**
 * The list's shared note, for the demo page: a Yjs text that merges character by
 * character whoever types, online or not. Edits go to the server as Yjs updates, POSTed
 * like any other write, so the outbox keeps and replays them; the server merges them in,
 * in any order, any number of times. Built by `npm run build` to demo/public/build/.
 */
import * as Y from 'yjs';

/** Typing sends at most one update this often: the edits of a burst, merged into one. */
const SEND_EVERY_MS = 400;
const noteUrl = (listId: string) => `/api/lists/${listId}/note`;

export class SharedNote {
  readonly #textarea: HTMLTextAreaElement;
  readonly #onError: (message: string) => void;
  #listId: string | undefined;
  #doc = new Y.Doc();
  #unsent: Uint8Array[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `onError` is told when an edit could not be sent (no outbox, and no network): it is kept for the next send. */
  constructor(textarea: HTMLTextAreaElement, onError: (message: string) => void) {
    this.#textarea = textarea;
    this.#onError = onError;
    textarea.addEventListener('input', () => this.#typed());
  }

  /**
   * Shows `listId`'s note: the server's (offline, as last read), with this device's
   * updates that still wait in the outbox merged in (`waiting`: their bodies).
   */
  async show(listId: string, waiting: ArrayBuffer[]): Promise<void> {
    if (listId !== this.#listId) {
      this.#flush();
      this.#listId = listId;
      this.#doc = new Y.Doc();
      this.#textarea.value = '';
    }
    try {
      const response = await fetch(noteUrl(listId));
      if (response.ok) Y.applyUpdate(this.#doc, new Uint8Array(await response.arrayBuffer()), 'server');
    } catch {
      // Offline with nothing kept: what this page has is what it shows.
    }
    for (const update of waiting) Y.applyUpdate(this.#doc, new Uint8Array(update), 'server');
    const text = this.#doc.getText('note').toString();
    if (this.#textarea.value === text) return;
    // Keep the caret where it was, for someone typing as others' edits arrive.
    const { selectionStart, selectionEnd } = this.#textarea;
    this.#textarea.value = text;
    if (document.activeElement === this.#textarea) this.#textarea.setSelectionRange(selectionStart, selectionEnd);
  }

  /** Turns what changed in the textarea into an edit of the Yjs text: one replaced range. */
  #typed(): void {
    const text = this.#doc.getText('note');
    const before = text.toString();
    const after = this.#textarea.value;
    if (before === after) return;
    let start = 0;
    while (start < before.length && start < after.length && before[start] === after[start]) start++;
    let end = 0;
    while (end < before.length - start && end < after.length - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
    this.#unsent.push(
      captureUpdate(this.#doc, () => {
        text.delete(start, before.length - start - end);
        text.insert(start, after.slice(start, after.length - end));
      }),
    );
    this.#timer ??= setTimeout(() => this.#flush(), SEND_EVERY_MS);
  }

  /** Sends the edits made since the last send, as one update. */
  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#listId || this.#unsent.length === 0) return;
    const update = Y.mergeUpdates(this.#unsent.splice(0));
    const url = noteUrl(this.#listId);
    fetch(url, { method: 'POST', body: update as BodyInit, headers: { 'Content-Type': 'application/octet-stream' } })
      .then((response) => {
        if (!response.ok) throw new Error(`the server answered ${response.status}`);
      })
      .catch((error: Error) => {
        // Sending an update again is harmless (it merges once), so it goes with the next edit.
        if (url === noteUrl(this.#listId ?? '')) this.#unsent.unshift(update);
        this.#onError(`The note could not be sent (${error.message}); it goes with your next edit.`);
      });
  }
}

/** The update an edit of `doc` makes (the text differs, so there is one). */
function captureUpdate(doc: Y.Doc, edit: () => void): Uint8Array {
  let captured: Uint8Array | undefined;
  const listener = (update: Uint8Array) => (captured = update);
  doc.on('update', listener);
  doc.transact(edit);
  doc.off('update', listener);
  if (!captured) throw new Error('sw-outbox demo: an edit of the note made no Yjs update');
  return captured;
}
