import { CHANNEL_NAME, PROTOCOL_NAME, PROTOCOL_VERSION, type Counts, type StatusEvent, type StatusMessage } from './protocol.js';

/** Publishes the outbox's state changes to every page of the origin. */
export class StatusChannel {
  readonly #channel = new BroadcastChannel(CHANNEL_NAME);

  publish(counts: Counts, event: StatusEvent): void {
    const message: StatusMessage = {
      protocol: PROTOCOL_NAME,
      version: PROTOCOL_VERSION,
      at: Date.now(),
      counts: { ...counts },
      ...event,
    };
    this.#channel.postMessage(message);
  }
}
