import { PROTOCOL_NAME, PROTOCOL_VERSION } from './protocol.js';
import { type CredentialsReply, type CredentialsRequest } from './commands.js';

declare const self: ServiceWorkerGlobalScope;

/** How long the worker waits for an open page to give a write's credentials. */
const ANSWER_WITHIN_MS = 3_000;

/**
 * Asks every open window of the origin, each over a MessageChannel of its own, for a
 * write's credential headers, and takes the first answer that has some. Null when no page
 * is open, none has an `onCredentials` callback, or none answers in time.
 */
export async function askPages(write: { url: string; method: string; lane: string; names: string[] }, timer: (callback: () => void, delayMs: number) => () => void): Promise<Record<string, string> | null> {
  const windows = await self.clients.matchAll({ type: 'window' });
  if (windows.length === 0) return null;
  const request: CredentialsRequest = { protocol: PROTOCOL_NAME, version: PROTOCOL_VERSION, type: 'credentials-request', ...write };
  const channels: MessageChannel[] = [];
  try {
    return await new Promise<Record<string, string> | null>((resolve) => {
      let unanswered = windows.length;
      const cancel = timer(() => resolve(null), ANSWER_WITHIN_MS);
      for (const page of windows) {
        const channel = new MessageChannel();
        channels.push(channel);
        channel.port1.onmessage = ({ data }: MessageEvent<CredentialsReply>) => {
          unanswered -= 1;
          if (data?.headers) {
            cancel();
            resolve(data.headers);
          } else if (unanswered === 0) {
            cancel();
            resolve(null);
          }
        };
        page.postMessage(request, [channel.port2]);
      }
    });
  } finally {
    for (const channel of channels) channel.port1.close();
  }
}
