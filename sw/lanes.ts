import { OutboxError } from './outbox-error.js';
import { DEFAULT_LANE } from './protocol.js';
import { HEADERS } from '../contract/http.js';

/**
 * Picks a write's lane. Return a name to put the write in that lane, or undefined for
 * the default. Writes of one lane are sent in the order they were made; lanes are sent
 * side by side.
 */
export type LaneHook = (request: Request) => string | undefined;

// Visible ASCII without spaces: the name travels in a header, and the space is what
// sets an origin apart from a name in a lane's key.
const LANE_NAME = /^[\x21-\x7e]{1,100}$/;

/**
 * The lane of a page's write: the app's `Outbox-Lane` header, else the `lane` hook's
 * answer, else the default lane. Writes to another origin never share a lane with the
 * app's own, so a misconfigured API elsewhere cannot hold the app's writes back.
 */
export function laneOf(request: Request, hook: LaneHook | undefined, selfOrigin: string): string {
  const name = request.headers.get(HEADERS.lane) ?? hook?.(request) ?? DEFAULT_LANE;
  if (typeof name !== 'string' || !LANE_NAME.test(name)) {
    throw new OutboxError(
      'invalid-lane',
      `sw-outbox: ${request.method} ${request.url} names the lane ${JSON.stringify(name)}. A lane is 1 to 100 visible ASCII characters without spaces, such as "list-42".`,
    );
  }
  return laneFor(name, request.url, selfOrigin);
}

/** The lane key of a name for a URL: the name itself on the worker's origin, else "origin name". */
export function laneFor(name: string, url: string, selfOrigin: string): string {
  const { origin } = new URL(url);
  return origin === selfOrigin ? name : `${origin} ${name}`;
}

/**
 * The lane key of a signed-in user's write: "user:<id> <key>", so that each user's writes
 * have lanes of their own, which wait for that user without holding anyone else's back.
 */
export function userLane(lane: string, user: string | undefined): string {
  return user === undefined ? lane : `user:${user} ${lane}`;
}

/** The name part of a lane key, as the `Outbox-Lane` header carries it (names have no spaces). */
export function laneName(lane: string): string {
  return lane.slice(lane.lastIndexOf(' ') + 1);
}

/** A user id as signIn takes it: 1 to 200 visible ASCII characters without spaces (an email, a UUID). */
export function checkUser(user: unknown): string {
  if (typeof user !== 'string' || !LANE_NAME_LONG.test(user)) {
    throw new OutboxError('invalid-user', `sw-outbox: signIn(${JSON.stringify(user)}): a user id is 1 to 200 visible ASCII characters without spaces, such as an email address or a UUID.`);
  }
  return user;
}
const LANE_NAME_LONG = /^[\x21-\x7e]{1,200}$/;
