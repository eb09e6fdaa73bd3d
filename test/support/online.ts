import type { BrowserContext } from '@playwright/test';

/**
 * Ends an offline spell as a real browser does. Playwright's setOffline(false) reaches the
 * page before the service worker, so the page's `online` event (and the replay it asks
 * for) can beat the worker's network. A browser fires `online` once the network is up for
 * all: so, once every worker of the context is online and can reach the server, each page
 * gets its `online` event again.
 */
export async function goOnline(context: BrowserContext): Promise<void> {
  await context.setOffline(false);
  for (const worker of context.serviceWorkers()) {
    for (let tries = 0; tries < 200; tries++) {
      const online = await worker
        .evaluate(() => navigator.onLine && fetch((self as unknown as { registration: { scope: string } }).registration.scope, { cache: 'no-store' }).then(() => true, () => false))
        .catch(() => true); // a worker stopped meanwhile starts online
      if (online) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  for (const page of context.pages()) await page.evaluate(() => dispatchEvent(new Event('online'))).catch(() => {});
}
