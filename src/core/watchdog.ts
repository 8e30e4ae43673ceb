/**
 * The watchdog's arithmetic (DESIGN.md "Watchdog"). Every candidate runs an event, once a
 * second on its own clock, that sets read_only=ON while the server is writable and the deadline
 * in its heartbeat row (`fence_after`) has passed. Only a coordinator whose etcd lease is
 * provably alive stamps, and only with a hold that ends before that lease can expire at etcd:
 * - a writer whose guardian died is closed by its own event before anyone can see that
 *   guardian's lease gone, even where nobody can reach the writer (colo cut);
 * - the leader, which also stamps the writer (stand-in guardian: a dead guardian alone is not
 *   an outage), promotes elsewhere without the guardian's promise only once its own last stamp
 *   has run out (`closedBy`).
 * A stamp never opens anything; the server keeps the latest deadline of all stamps. What this
 * asks of the configured timings, and the stand-in's hold, are in core/timings.ts.
 */

import type { MonoMs } from './observation.js';

/** Whether a server would close itself if nobody stamped it (src/mysql/watchdog.ts). */
export type WatchdogState = 'armed' | 'scheduler-off' | 'event-missing' | 'event-disabled';

/** The event's schedule: `EVERY 1 SECOND` is the finest MySQL and MariaDB allow. */
export const WATCHDOG_TICK_MS = 1000;
/** The event's own run time and the scheduler's jitter, on top of one tick. */
export const WATCHDOG_SLACK_MS = 250;
/** A shorter hold is not worth a stamp. */
export const WATCHDOG_MIN_HOLD_MS = 100;

/**
 * How long after its hold ends a stamp may still keep a server open: the stamping statement may
 * run at the server until its deadline, then the event acts within one tick plus the slack.
 */
export function watchdogCloseAfterHoldMs(statementTimeoutMs: number): number {
  return statementTimeoutMs + WATCHDOG_TICK_MS + WATCHDOG_SLACK_MS;
}

export interface WatchdogHoldInput {
  now: MonoMs;
  /** The earliest etcd can expire the stamper's lease (LeaseDeadline.expiresNoEarlierThan). */
  leaseExpiresNoEarlierThan: MonoMs;
  /** Deadline of the stamping statement: it may run at the server until then. */
  statementTimeoutMs: number;
  /** The longest hold this stamper gives (a stand-in keeps it short: core/timings.ts). */
  maxHoldMs: number;
}

export interface WatchdogHoldPlan {
  holdMs: number;
  /** Monotonic time by which this stamp's hold has run out and the event has acted on it. */
  closedBy: MonoMs;
}

/**
 * The hold for a stamp sent now, or undefined when our lease leaves too little: the server must
 * be closed (the statement runs within `statementTimeoutMs`, then the hold, then up to one tick
 * plus the slack) before etcd can expire our lease.
 */
export function planWatchdogHold(input: WatchdogHoldInput): WatchdogHoldPlan | undefined {
  const { now, leaseExpiresNoEarlierThan, statementTimeoutMs, maxHoldMs } = input;
  const closeAfterHold = watchdogCloseAfterHoldMs(statementTimeoutMs);
  const holdMs = Math.floor(Math.min(maxHoldMs, leaseExpiresNoEarlierThan - now - closeAfterHold));
  if (!(holdMs >= WATCHDOG_MIN_HOLD_MS)) return undefined;
  return { holdMs, closedBy: now + closeAfterHold + holdMs };
}
