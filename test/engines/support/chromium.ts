import { chromium as playwright } from '@playwright/test';
import config from '../../../playwright.config.js';
import type { Engine } from './engine.js';

/**
 * Chromium as the Playwright suite launches it, behind the engines' interface, so that a
 * benchmark can put its figures beside Firefox's and WebKit's. Restarts on a profile are
 * the Playwright suite's to test (worker-lifecycle.spec.ts).
 */
export const chromium: Engine = {
  name: 'Chromium',
  async launch({ profile } = {}) {
    if (profile) throw new Error('chromium engine: launch on a profile is not supported; use Playwright’s launchPersistentContext');
    const browser = await playwright.launch(config.use?.launchOptions ?? {});
    return {
      version: `Chromium ${browser.version()}`,
      async open(url) {
        const page = await browser.newPage();
        await page.goto(url);
        return { run: <T>(body: string) => page.evaluate(`(async () => { ${body} })()`) as Promise<T> };
      },
      close: () => browser.close(),
    };
  },
};
