/**
 * Deadlines that stretch with the link (issue 11). A configured timeout is what the server
 * itself may take; every round trip the call may need is added on top, at the link's measured
 * allowance (Database.roundTripMs). On a LAN that adds a few milliseconds; across a continent it
 * adds what the speed of light costs, instead of failing every call that needs a new connection.
 * A server that stops answering is still found out early: the adapter fails a handshake, a probe
 * or a fence's first statement after one round trip's allowance without an answer.
 */

import type { Database } from './ports.js';

/**
 * A call on an idle connection is one round trip per statement; on a broken one it first
 * reconnects: TCP, greeting, authentication (sometimes an auth switch), then the identify query.
 */
export const RECONNECT_ROUND_TRIPS = 5;

/** `allowanceMs` plus `statements` round trips and a reconnect's worth over this node's link. */
export function linkTimeoutMs(allowanceMs: number, db: Database, statements = 1): number {
  return allowanceMs + (RECONNECT_ROUND_TRIPS + statements) * db.roundTripMs();
}

/**
 * The same without the reconnect, for a node with an idle connection: a deadline that also
 * bounds how long a write may act afterwards (a watchdog stamp's hold is cut by it) should not
 * pay for a handshake that will not happen. If the connection turns out dead, the call fails
 * at this deadline rather than running later than counted.
 */
export function warmLinkTimeoutMs(allowanceMs: number, db: Database, statements = 1): number {
  if (!db.hasIdleConnection?.()) return linkTimeoutMs(allowanceMs, db, statements);
  return allowanceMs + statements * db.roundTripMs();
}
