import type { OutboxOptions } from './options.js';

/** Decides which requests are writes for the outbox, from the options' paths and origins. */
export function createRouteMatcher(options: Pick<OutboxOptions, 'include' | 'exclude' | 'origins' | 'forms' | 'signInPaths'>) {
  const include = options.include.map(toPathTest);
  // A sign-in is no write to keep: sent again later it would replay a password, and a
  // refused one is answered with the sign-in page, which would hold it as waiting for one.
  const exclude = [...options.exclude, ...options.signInPaths].map(toPathTest);
  const origins = new Set(options.origins);
  return ({ url, sameOrigin, request }: { url: URL; sameOrigin: boolean; request: Request }): boolean =>
    // A navigation (a form post) wants a page back, not a queued answer: only with `forms`.
    (request.mode !== 'navigate' || (options.forms.enabled && request.method === 'POST')) &&
    (sameOrigin || origins.has(url.origin)) &&
    include.some((test) => test(url.pathname)) &&
    !exclude.some((test) => test(url.pathname));
}

/** A test for one `include`-style path: a prefix, or with `*` a pattern for the whole path. */
export function toPathTest(path: string): (pathname: string) => boolean {
  if (!path.includes('*')) return (pathname) => pathname.startsWith(path);
  const source = path.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  const pattern = new RegExp(`^${source}$`);
  return (pathname) => pattern.test(pathname);
}
