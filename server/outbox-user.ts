import { HEADERS } from '../contract/http.js';
import { USER_MISMATCH_PROBLEM_TYPE } from '../contract/problem-types.js';
import { problem, type Reply } from './problem.js';

/**
 * Checks the user a write says it was made by (its `Outbox-User` header, as the page
 * helper's signIn set it) against the user the server authenticated for the request.
 * A mismatch is a 403 of its own problem type, which the outbox answers by holding the
 * write for its owner (needs-auth), never by sending it as someone else's: undefined when
 * they match, or when the write names no user.
 */
export function checkOutboxUser(claimed: string | undefined, authenticated: string | undefined): Reply | undefined {
  if (claimed === undefined || claimed === authenticated) return undefined;
  return problem(
    403,
    'Made by another user',
    `This write was made by ${JSON.stringify(claimed)} (its ${HEADERS.user} header), and the session is ${authenticated === undefined ? 'nobody’s' : JSON.stringify(authenticated)}'s: it is kept for its owner's next sign-in.`,
    {},
    USER_MISMATCH_PROBLEM_TYPE,
  );
}

/**
 * The key space and the user check of a request, from an adapter's `user` and `scope`
 * options: the scope given, else the signed-in user's id; the check only with `user`.
 */
export async function whoIs<R>(
  request: R,
  outboxUser: string | undefined,
  user: ((request: R) => string | undefined | Promise<string | undefined>) | undefined,
  scope: ((request: R) => string) | undefined,
): Promise<{ scope: string; user?: { session: string | undefined; outbox: string | undefined } }> {
  if (!user) return { scope: scope?.(request) ?? '' };
  const session = await user(request);
  return { scope: scope?.(request) ?? session ?? '', user: { session, outbox: outboxUser } };
}
