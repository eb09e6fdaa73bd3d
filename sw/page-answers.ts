import { NOT_STORED_HEADER, QUEUED_HEADER } from '../contract/http.js';
import { NOT_STORED_PROBLEM_TYPE } from '../contract/problem-types.js';
import type { LiveEntry } from './entry.js';
import type { WriteResult } from './outbox-deps.js';
import type { QueuedBody } from './protocol.js';

/**
 * What a page gets back for a write the outbox did not simply pass on: the queued 202, the
 * pages a form post is shown, the refusals. Each says what happened to the write, so that
 * no app or person takes one for another (README, "What the page's fetch() gets").
 */

/** A write kept for later: 202 with `Outbox-Queued: ?1`, and no top-level `id` (decision 0022). */
export function queued(entry: Pick<LiveEntry, 'id' | 'idempotencyKey'>): Response {
  const body: QueuedBody = { queued: true, outbox: { id: entry.id, idempotencyKey: entry.idempotencyKey } };
  return new Response(JSON.stringify(body), { status: 202, statusText: 'Accepted', headers: { 'Content-Type': 'application/json', [QUEUED_HEADER]: '?1' } });
}

/** A write naming a lane that cannot be one: 400, not kept. */
export function invalidLane(detail: string): Response {
  const problem = { type: 'about:blank', title: 'Invalid Outbox-Lane', status: 400, detail };
  return new Response(JSON.stringify(problem), { status: 400, headers: { 'Content-Type': 'application/problem+json' } });
}

/**
 * A form post's answer, for its navigation. The outbox follows redirects (see toDraft), and
 * a navigation may not be given a followed answer: it is sent where the answer ended (the
 * app's post/redirect/get), which the browser then loads.
 */
export function toNavigation(response: Response): Response {
  if (!response.redirected) return response;
  cancelBody(response);
  return Response.redirect(response.url, 303);
}

/**
 * What a person sees after a form post that could not be sent: the app's page for it
 * (formSavedUrl), or a small page of the outbox's own, with a way back to the form's page.
 */
export function formSaved(entry: LiveEntry, request: Request, savedUrl: string | undefined): Response {
  if (savedUrl) return Response.redirect(new URL(`${savedUrl}${savedUrl.includes('?') ? '&' : '?'}outbox-id=${entry.id}`, request.url).href, 303);
  const back = request.referrer && new URL(request.referrer).origin === new URL(request.url).origin ? request.referrer : '/';
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Saved on this device</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1d2329}</style>
<h1>Saved on this device</h1>
<p>Your form could not be sent just now, so it was saved on this device. It will be sent by itself when the network is back; you do not need to send it again.</p>
<p><a href="${escapeHtml(back)}">Back to the page you were on</a></p>`;
  return new Response(html, { status: 202, headers: { 'Content-Type': 'text/html; charset=utf-8', [QUEUED_HEADER]: '?1' } });
}

/**
 * The answer to a write that was neither kept nor sent: 507 with a problem+json (or, for
 * a form post, a page) and `Outbox-Not-Stored: ?1`, so that no app mistakes it for queued.
 */
export function notStored(error: string, request: Request): Response {
  const headers = { [NOT_STORED_HEADER]: '?1' };
  const detail = `This device would not keep the change (${error}), and it could not be sent now. Nothing of it was saved: make it again once there is room or a connection.`;
  if (request.mode === 'navigate') {
    const html = `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Not saved</title>
<h1>Not saved</h1><p>${escapeHtml(detail)}</p>`;
    return new Response(html, { status: 507, headers: { ...headers, 'Content-Type': 'text/html; charset=utf-8' } });
  }
  const problem = { type: NOT_STORED_PROBLEM_TYPE, title: 'Not saved on this device, and not sent', status: 507, detail };
  return new Response(JSON.stringify(problem), { status: 507, headers: { ...headers, 'Content-Type': 'application/problem+json' } });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Frees the connection of an answer nobody will read. */
export function cancelBody(response: Response | undefined): void {
  response?.body?.cancel().catch(() => {});
}

/**
 * What a page's fetch gets for its write: the server's answer when it came while the page
 * waited, else the queued answer (202, a network error with `whenQueued: 'reject'`, the
 * forms page, the sign-in page). `provisional` is the answer a server would have given to
 * a create or an edit on a `collections` path, if it is one.
 */
export function pageAnswer(result: WriteResult, request: Request, options: { whenQueued: 'accept' | 'reject'; savedPath: string | undefined }, provisional: (entry: LiveEntry, body: ArrayBuffer | null) => Response | undefined): Response {
  if (result.kind === 'answered') return request.mode === 'navigate' ? toNavigation(result.response) : result.response;
  if (result.kind === 'not-stored') return notStored(result.error, request);
  if (request.mode === 'navigate') {
    // The session ended: the person is shown the sign-in page, and the form post goes once they are back.
    return result.signIn ? Response.redirect(result.signIn, 303) : formSaved(result.entry, request, options.savedPath);
  }
  const answer = provisional(result.entry, result.body);
  if (answer) return answer;
  if (options.whenQueued === 'reject') return Response.error();
  return queued(result.entry);
}
