import puppeteer, { type Browser } from 'puppeteer-core';
import type { Engine, EngineBrowser, EnginePage } from './engine.js';

const EXECUTABLE = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

/**
 * Firefox ESR from Debian, driven by puppeteer-core over WebDriver BiDi (no geckodriver).
 * Each page gets a browser context of its own, and so its own worker and IndexedDB,
 * unless the browser was launched on a profile, whose storage the pages then share.
 */
export const firefox: Engine = {
  name: 'Firefox',
  async launch({ profile } = {}) {
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: EXECUTABLE,
      headless: true,
      ...(profile ? { userDataDir: profile } : {}),
      extraPrefsFirefox: {
        // Firefox stops a worker 30 s after its last event; 2 s here, so that the cases
        // meet a stopped worker, as a page left open for long does.
        'dom.serviceWorkers.idle_timeout': 2_000,
        'dom.serviceWorkers.idle_extended_timeout': 2_000,
      },
    });
    return new FirefoxBrowser(browser, `Firefox ${(await browser.version()).replace('firefox/', '')}`, Boolean(profile));
  },
};

class FirefoxBrowser implements EngineBrowser {
  readonly #browser: Browser;
  readonly #shared: boolean;
  readonly version: string;

  constructor(browser: Browser, version: string, shared: boolean) {
    this.#browser = browser;
    this.version = version;
    this.#shared = shared;
  }

  async open(url: string): Promise<EnginePage> {
    const context = this.#shared ? this.#browser.defaultBrowserContext() : await this.#browser.createBrowserContext();
    const page = await context.newPage();
    await page.goto(url);
    return {
      run: <T>(body: string) => page.evaluate(`(async () => { ${body} })()`) as Promise<T>,
    };
  }

  close(): Promise<void> {
    return this.#browser.close();
  }
}
