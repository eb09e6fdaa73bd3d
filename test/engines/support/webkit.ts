import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { Builder, type WebDriver } from 'selenium-webdriver';
import type { Engine, EngineBrowser, EnginePage } from './engine.js';

/**
 * The browser the driver starts: MiniBrowser keeps its storage in memory under automation,
 * so a restart would lose the worker; this one keeps it in the directory it is given. It
 * needs the system python3, with python3-gi (a pyenv python3 may come first on PATH).
 */
const PYTHON = '/usr/bin/python3';
const BROWSER = new URL('./webkit-browser.py', import.meta.url).pathname;
/** The name webkit-browser.py gives itself: the driver matches browserName against it. */
const BROWSER_NAME = 'sw-outbox-webkit';

/**
 * WebKitGTK, Safari's engine, driven by selenium-webdriver through WebKitWebDriver under
 * Xvfb. The pages of one browser share its storage (one worker, one IndexedDB): a launch
 * without `profile` gets a fresh temporary directory, removed on close.
 */
export const webkit: Engine = {
  name: 'WebKit',
  async launch({ profile } = {}) {
    const dataDir = profile ?? (await mkdtemp(join(tmpdir(), 'sw-outbox-webkit-')));
    const driverServer = await startDriver();
    const release = async () => {
      await driverServer.stop();
      if (!profile) await rm(dataDir, { recursive: true, force: true });
    };
    try {
      const driver = await new Builder()
        .usingServer(driverServer.url)
        .withCapabilities({
          browserName: BROWSER_NAME,
          'webkitgtk:browserOptions': { binary: PYTHON, args: [BROWSER, `--data-dir=${dataDir}`] },
        })
        .build();
      const capabilities = await driver.getCapabilities();
      return new WebKitBrowser(driver, `WebKitGTK ${capabilities.getBrowserVersion()}`, release);
    } catch (error) {
      await release();
      throw error;
    }
  },
};

class WebKitBrowser implements EngineBrowser {
  readonly version: string;
  readonly #driver: WebDriver;
  readonly #release: () => Promise<void>;
  #turn: Promise<unknown> = Promise.resolve();
  /** The session starts with a blank window: the first page takes it. */
  #blankWindow = true;

  constructor(driver: WebDriver, version: string, release: () => Promise<void>) {
    this.#driver = driver;
    this.version = version;
    this.#release = release;
  }

  open(url: string): Promise<EnginePage> {
    return this.#serial(async () => {
      if (this.#blankWindow) this.#blankWindow = false;
      else await this.#driver.switchTo().newWindow('window');
      const handle = await this.#driver.getWindowHandle();
      await this.#driver.get(url);
      return { run: <T>(body: string) => this.#serial(() => this.#run<T>(handle, body)) };
    });
  }

  async close(): Promise<void> {
    try {
      await this.#driver.quit();
    } finally {
      await this.#release();
    }
  }

  async #run<T>(handle: string, body: string): Promise<T> {
    await this.#driver.switchTo().window(handle);
    // WebDriver passes a callback as the script's last argument; the script ends when it is
    // called. It would turn an undefined value into null, so undefined leaves `value` out.
    const outcome = await this.#driver.executeAsyncScript<{ value?: T; error?: string }>(`
      const done = arguments[arguments.length - 1];
      (async () => {\n${body}\n})().then(
        (value) => done(value === undefined ? {} : { value }),
        (error) => done({ error: error instanceof Error ? error.message : String(error) }),
      );`);
    if (outcome.error !== undefined) throw new Error(outcome.error);
    return outcome.value as T;
  }

  /** A session drives one window at a time: a page's switch and script must not interleave with another's. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#turn.then(task);
    this.#turn = result.catch(() => undefined);
    return result;
  }
}

/**
 * Starts Xvfb on a free display and WebKitWebDriver on it (without a display, or with
 * --headless, the session hangs without an error). `stop` ends both once the browser's
 * processes are gone, so that the next launch on the same profile starts clean.
 */
async function startDriver(): Promise<{ url: string; stop(): Promise<void> }> {
  // Xvfb picks the display, writes its number to fd 3 once it accepts clients, and closes it.
  const xvfb = spawn('/usr/bin/Xvfb', ['-displayfd', '3', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  const display = (await text(xvfb.stdio[3] as Readable)).trim();
  if (!display) throw new Error('Xvfb did not start');
  const port = await freePort();
  // A process group of its own (detached), which the browser it starts and the browser's
  // web and network processes join: a way to find them once the browser has gone.
  const driver = spawn('/usr/bin/WebKitWebDriver', [`--port=${port}`], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, DISPLAY: `:${display}` },
  });
  const stop = async () => {
    await othersEnd(driver.pid);
    await end(driver);
    await end(xvfb);
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForStatus(url);
    return { url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Resolves once no process of the group `pgid` leads runs but the leader. The driver
 * kills the browser when the session ends; the browser's web and network processes end
 * by themselves a moment later (the network one once its storage is written), and are
 * left as zombies for init to reap, which may take a second.
 */
async function othersEnd(pgid: number | undefined): Promise<void> {
  if (pgid === undefined) return;
  const deadline = Date.now() + 5_000;
  while (await othersRun(pgid)) {
    if (Date.now() > deadline) process.kill(-pgid, 'SIGKILL');
    await sleep(20);
  }
}

/** Whether a process of group `pgid` other than its leader runs (a zombie has ended). */
async function othersRun(pgid: number): Promise<boolean> {
  for (const pid of await readdir('/proc')) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // "pid (comm) state ppid pgrp ...", where comm may hold spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && Number(pid) !== pgid && state !== 'Z') return true;
  }
  return false;
}

async function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill();
  await once(child, 'exit');
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

async function waitForStatus(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await fetch(`${url}/status`).then((response) => response.ok, () => false))) {
    if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not answer at ${url}`);
    await sleep(20);
  }
}
