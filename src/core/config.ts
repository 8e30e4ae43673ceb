/**
 * Tunables of the decision core. Durations are in ms on the timebase of decide()'s `now`. The
 * timing ones (report freshness, hysteresis) come from core/timings.ts (`coreTimings`).
 */

import { coreTimings, DEFAULT_TIMINGS } from './timings.js';

export type FailoverPolicy = 'consistency' | 'availability';

export interface HealthConfig {
  /** Down after this many consecutive failed probes… */
  downAfterFailures: number;
  /** …that also span at least this long (first failure to latest), so a burst is not enough. */
  downAfterMs: number;
  /** Up again after this many consecutive successful probes. */
  upAfterSuccesses: number;
  /**
   * A replica that received nothing from its source for this long is no evidence that the source
   * lives, whatever its IO thread says. The writer's guardian stamps a heartbeat every cycle, so
   * a live writer feeds its replicas several times meanwhile (deriveTimings: 5 cycles).
   */
  replicaSilenceMs: number;
}

export interface CoreConfig {
  policy: FailoverPolicy;
  /** availability: a candidate whose last known lag exceeds this is not promoted automatically. */
  maxLagOnFailoverMs: number;
  /** A report not refreshed within this long is stale and its observer does not vote. */
  reportFreshMs: number;
  /** No automatic writer change within this long after any writer change. */
  cooldownMs: number;
  /** At most `count` automatic failovers per `windowMs`; the next one pins the cluster instead. */
  failoverBudget: { count: number; windowMs: number };
  /** Bound on waiting for a target to execute GTIDs during switchover/failover. */
  catchupTimeoutMs: number;
  /**
   * A beforePromote hook is configured: every writer change asks it first, and a failure or no
   * answer within this long (its timeout plus a margin) stops the operation before its commit.
   */
  beforePromoteTimeoutMs?: number;
  health: HealthConfig;
}

export const DEFAULT_CORE_CONFIG: CoreConfig = {
  policy: 'consistency',
  maxLagOnFailoverMs: 5_000,
  cooldownMs: 300_000,
  failoverBudget: { count: 3, windowMs: 3_600_000 },
  catchupTimeoutMs: 10_000,
  ...coreTimings(DEFAULT_TIMINGS),
};
