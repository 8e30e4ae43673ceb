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
 * A stamp never opens anything; the server keeps the latest deadline of all stamps.
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

export interface WatchdogHoldInput {
  now: MonoMs;
  /** The earliest etcd can expire the stamper's lease (LeaseDeadline.expiresNoEarlierThan). */
  leaseExpiresNoEarlierThan: MonoMs;
  /** Deadline of the stamping statement: it may run at the server until then. */
  statementTimeoutMs: number;
  /** The longest hold this stamper gives (a stand-in keeps it short: standInMaxHoldMs). */
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
  const closeAfterHold = statementTimeoutMs + WATCHDOG_TICK_MS + WATCHDOG_SLACK_MS;
  const holdMs = Math.floor(Math.min(maxHoldMs, leaseExpiresNoEarlierThan - now - closeAfterHold));
  if (!(holdMs >= WATCHDOG_MIN_HOLD_MS)) return undefined;
  return { holdMs, closedBy: now + closeAfterHold + holdMs };
}

/**
 * The longest hold the leader gives as a stand-in guardian. Its last stamp before a colo cut
 * should run out before the cut guardian's lease can expire, which is at least two thirds of a
 * TTL after the cut (keepalives go every third of it), or the stand-in would delay failover.
 */
export function standInMaxHoldMs(sessionTtlMs: number, statementTimeoutMs: number): number {
  return Math.floor((2 * sessionTtlMs) / 3) - statementTimeoutMs - WATCHDOG_TICK_MS - WATCHDOG_SLACK_MS;
}

export interface WatchdogTimings {
  cycleIntervalMs: number;
  /** Stamps carry the probe deadline. */
  probeTimeoutMs: number;
  storeTimeoutMs: number;
  sessionTtlMs: number;
}

/**
 * Why these timings cannot run the watchdog, or undefined. Right before a keepalive is answered
 * (a third of a TTL after the last one, plus one etcd call), a guardian's stamp must still hold
 * for two cycles, or a writer would close itself between two healthy stamps; the stand-in's
 * hold likewise.
 */
export function watchdogTimingProblem(t: WatchdogTimings): string | undefined {
  const closeAfterHold = t.probeTimeoutMs + WATCHDOG_TICK_MS + WATCHDOG_SLACK_MS;
  const guardianMinHold = t.sessionTtlMs - t.sessionTtlMs / 3 - t.storeTimeoutMs - closeAfterHold;
  const needed = 2 * t.cycleIntervalMs;
  const standIn = standInMaxHoldMs(t.sessionTtlMs, t.probeTimeoutMs);
  if (guardianMinHold >= needed && standIn >= needed) return undefined;
  const minTtl = Math.ceil((3 / 2) * (t.storeTimeoutMs + closeAfterHold + needed));
  return (
    `the watchdog needs sessionTtlMs of at least ${minTtl} with these timings (its event acts ` +
    `within ${WATCHDOG_TICK_MS + WATCHDOG_SLACK_MS} ms of a deadline that must fall before the ` +
    `stamper's lease can expire, and a stamp must outlast two cycles)`
  );
}
