/**
 * What the cross-engine cases need of a browser, whichever library drives it: Firefox
 * ESR through puppeteer-core over WebDriver BiDi, WebKitGTK through selenium-webdriver.
 */
export interface Engine {
  /** As it appears in test names and figures. */
  readonly name: string;
  /**
   * Starts the browser. With `profile`, its storage (the worker, its IndexedDB) lives in
   * that directory and survives a close and a new launch on the same directory.
   */
  launch(options?: { profile?: string }): Promise<EngineBrowser>;
}

export interface EngineBrowser {
  /** The engine's own version string, for the figures. */
  readonly version: string;
  /** Opens `url` in a page of its own. */
  open(url: string): Promise<EnginePage>;
  close(): Promise<void>;
}

export interface EnginePage {
  /**
   * Runs `body` as the body of an async function in the page and resolves with what it
   * returns (JSON-serialisable). A throw in the page rejects with its message.
   */
  run<T>(body: string): Promise<T>;
}
