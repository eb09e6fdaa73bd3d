/**
 * Writes reach the store in the order their fetch events came. A write's body is read,
 * and its lane looked up, before it is stored; several writes made at once are read side
 * by side, and their reads may end in any order (Firefox's do). Each write takes its turn
 * when its fetch event comes, and, once ready, waits for the writes that came before it to
 * be handed to the store: so a lane keeps the order in which the page made its writes.
 */
/** A write's turn: `ready` once every earlier write has passed; `pass()` lets the next one go. */
export interface Turn {
  ready: Promise<void>;
  pass: () => void;
}

export class ArrivalOrder {
  #last: Promise<void> = Promise.resolve();

  /**
   * A turn, taken synchronously as the write's fetch event is handled. `ready` resolves
   * once every earlier write has passed; `pass()` lets the next one go, and must be called
   * once this write has been handed to the store, or has failed before that.
   */
  take(): Turn {
    const ready = this.#last;
    let pass!: () => void;
    this.#last = new Promise((resolve) => (pass = resolve));
    return { ready, pass };
  }
}
