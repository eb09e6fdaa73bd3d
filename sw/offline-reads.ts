/**
 * Reads the app asks the outbox to keep for offline use: the app's shell (its pages and
 * files, cached when the worker installs) and chosen GET paths (cached as they pass).
 * Both are served network-first by default, from the cache only when the network fails,
 * and a read answered from the cache says so in a header. Nothing is cached unless the
 * options list it (decision 0013).
 */
import type { WorkboxPlugin } from 'workbox-core/types.js';
import { NetworkFirst, StaleWhileRevalidate, type Strategy } from 'workbox-strategies';
import type { ReadsOptions } from './options.js';
import { CACHED_AT_HEADER, FROM_CACHE_HEADER } from '../contract/http.js';
import { toPathTest } from './route-matcher.js';

export const SHELL_CACHE = 'sw-outbox-shell';
export const READS_CACHE = 'sw-outbox-reads';
export { CACHED_AT_HEADER, FROM_CACHE_HEADER };


export interface OfflineReads {
  /** The strategy for a GET the app asked to keep, or undefined: leave it to the browser. */
  route(request: Request, url: URL): Strategy | undefined;
  /** Caches the shell; a failure is logged, not thrown: the outbox must install regardless. */
  cacheShell(): Promise<void>;
  /**
   * A write to `url` was delivered: the cached reads it changed (the URL itself, and the
   * collection it is in) are fetched again, if the cache holds them, so that an offline
   * read later shows it. Never throws.
   */
  refreshAfterWrite(url: string): Promise<void>;
  /**
   * Caches the `reads` entries that name one URL (no `*`), such as `/todos`: the reads a
   * page made before this worker controlled it went past it, and a person who opened the
   * app once online must find their data offline. Never throws.
   */
  warm(): Promise<void>;
  /** Caches those of these URLs that are under `reads` (the page helper's reads from before control). Never throws. */
  keep(urls: string[]): Promise<void>;
}

export function createOfflineReads(options: ReadsOptions, now: () => number = Date.now): OfflineReads {
  const shell = new Set(options.shell);
  const reads = options.paths.map(toPathTest);
  const Kind = options.strategy === 'stale-while-revalidate' ? StaleWhileRevalidate : NetworkFirst;
  const stamp = stampPlugin(now);
  const shellStrategy = new Kind({ cacheName: SHELL_CACHE, plugins: [stamp], matchOptions: { ignoreSearch: true } });
  const readStrategy = new Kind({ cacheName: READS_CACHE, plugins: [boundPlugin(options, now), stamp] });
  /** Refreshes under way, by URL; `true` once another write asked meanwhile (one more follows). */
  const refreshing = new Map<string, boolean>();
  const store = async (url: string): Promise<void> => {
    const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
    if (response.ok) await (await caches.open(READS_CACHE)).put(url, await stamped(response, now()));
  };
  const refresh = async (url: string): Promise<void> => {
    if (refreshing.has(url)) return void refreshing.set(url, true);
    try {
      do {
        refreshing.set(url, false);
        if (!(await (await caches.open(READS_CACHE)).match(url))) return;
        await store(url);
      } while (refreshing.get(url));
    } catch {
      // Offline again, or refused: the copy stays as it was, and its age says so.
    } finally {
      refreshing.delete(url);
    }
  };
  return {
    async warm() {
      const urls = options.paths.filter((path) => !path.includes('*')).map((path) => new URL(path, location.origin).href);
      await Promise.all(urls.map((url) => store(url).catch(() => {})));
    },
    async keep(urls) {
      const kept = new Set<string>();
      for (const url of urls) {
        try {
          const parsed = new URL(url, location.origin);
          if (parsed.origin === location.origin && reads.some((test) => test(parsed.pathname))) kept.add(parsed.href);
        } catch {
          // Not a URL: nothing to keep.
        }
      }
      await Promise.all([...kept].map((url) => store(url).catch(() => {})));
    },
    refreshAfterWrite(written) {
      const url = new URL(written);
      if (url.origin !== location.origin) return Promise.resolve();
      const urls = [url.href.replace(/[?#].*$/, ''), `${url.origin}${url.pathname.replace(/\/[^/]+\/?$/, '')}`];
      return Promise.all(urls.filter((candidate) => reads.some((test) => test(new URL(candidate).pathname))).map(refresh)).then(() => undefined);
    },
    route(request, url) {
      if (request.method !== 'GET' || url.origin !== location.origin) return undefined;
      if (shell.has(url.pathname)) return shellStrategy;
      if (request.mode !== 'navigate' && reads.some((test) => test(url.pathname))) return readStrategy;
      return undefined;
    },
    async cacheShell() {
      if (shell.size === 0) return;
      try {
        const cache = await caches.open(SHELL_CACHE);
        await Promise.all(
          [...shell].map(async (path) => {
            const response = await fetch(new Request(path, { cache: 'reload' }));
            if (!response.ok) throw new Error(`${path} answered ${response.status}`);
            await cache.put(path, await stamped(response, now()));
          }),
        );
      } catch (error) {
        console.warn('[sw-outbox] could not cache the app shell now; pages will fill it as they load:', error);
      }
    },
  };
}

/** Every cached copy carries the time it was stored, for the age bound and for the app. */
function stampPlugin(now: () => number): WorkboxPlugin {
  return {
    cacheWillUpdate: async ({ response }) => (response.ok ? stamped(response, now()) : null),
    cachedResponseWillBeUsed: async ({ cachedResponse }) => {
      if (!cachedResponse) return null;
      const headers = new Headers(cachedResponse.headers);
      headers.set(FROM_CACHE_HEADER, '?1');
      // How old the copy is, in seconds, as HTTP caches say it: an app can show "as of 3 h ago".
      const storedAt = Date.parse(headers.get(CACHED_AT_HEADER) ?? '');
      if (!Number.isNaN(storedAt)) headers.set('Age', String(Math.max(0, Math.floor((now() - storedAt) / 1000))));
      return new Response(cachedResponse.body, { status: cachedResponse.status, statusText: cachedResponse.statusText, headers });
    },
  };
}

/** Keeps the reads' cache within reads.maxEntries (the least recently stored go first) and reads.maxAgeMs. */
function boundPlugin({ maxEntries, maxAgeMs }: ReadsOptions, now: () => number): WorkboxPlugin {
  return {
    // Listed before the stamp plugin: a copy too old is dropped, never served. The stored
    // time is an HTTP date, to the second.
    cachedResponseWillBeUsed: async ({ cachedResponse, cacheName, request }) => {
      if (!cachedResponse) return null;
      const storedAt = Date.parse(cachedResponse.headers.get(CACHED_AT_HEADER) ?? '');
      if (Number.isNaN(storedAt) || now() - storedAt <= maxAgeMs) return cachedResponse;
      await (await caches.open(cacheName)).delete(request);
      return null;
    },
    cacheDidUpdate: async ({ cacheName }) => {
      const cache = await caches.open(cacheName);
      // Keys come in the order they were stored; storing one again moves it to the end.
      const keys = await cache.keys();
      await Promise.all(keys.slice(0, Math.max(0, keys.length - maxEntries)).map((key) => cache.delete(key)));
    },
  };
}

async function stamped(response: Response, at: number): Promise<Response> {
  const headers = new Headers(response.headers);
  headers.set(CACHED_AT_HEADER, new Date(at).toUTCString());
  return new Response(await response.blob(), { status: response.status, statusText: response.statusText, headers });
}
