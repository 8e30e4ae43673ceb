/**
 * Everything one coordinator process needs, with the cross-field checks that keep the safety
 * argument true (hashicorp/raft validates its timeouts against each other the same way).
 */

import {
  watchdogTimingProblem,
  type ClusterSpec,
  type CoordinatorSpec,
  type CoreConfig,
} from '../core/index.js';

export interface LoopTimings {
  /** One observe → publish → decide → guard cycle every this long. */
  cycleIntervalMs: number;
  /** Deadline of one probe. */
  probeTimeoutMs: number;
  /** Deadline of one etcd call. */
  storeTimeoutMs: number;
  /** Deadline of one MySQL command (fence, read_only, repoint). */
  commandTimeoutMs: number;
  /** Session lease TTL. */
  sessionTtlMs: number;
  /** Republish an unchanged report this often so the leader knows the observer is alive. */
  publishRefreshMs: number;
  /**
   * While all is quiet, nodes nothing depends on this cycle are probed this often instead of
   * every cycle, and the cluster state is read this often (core/quiet-pacing.ts).
   * Undefined: every node every cycle.
   */
  quietProbeIntervalMs?: number;
}

export interface CoordinatorConfig {
  /** This process (name and colo). */
  self: CoordinatorSpec;
  cluster: ClusterSpec;
  /** Every configured coordinator (quorum is a majority of these). */
  coordinators: CoordinatorSpec[];
  core: CoreConfig;
  timings: LoopTimings;
  /** Vouch for writers to their watchdog events (core/watchdog.ts). */
  watchdog: boolean;
}

export const DEFAULT_LOOP_TIMINGS: LoopTimings = {
  cycleIntervalMs: 500,
  probeTimeoutMs: 400,
  storeTimeoutMs: 1000,
  commandTimeoutMs: 1000,
  sessionTtlMs: 6000,
  publishRefreshMs: 2000,
};

/** Returns every violated rule; empty when the configuration is usable. */
export function validateCoordinatorConfig(config: CoordinatorConfig): string[] {
  const t = config.timings;
  const problems: string[] = [];
  if (t.probeTimeoutMs >= t.cycleIntervalMs) {
    problems.push(
      `probeTimeoutMs (${t.probeTimeoutMs}) must be below cycleIntervalMs (${t.cycleIntervalMs})`,
    );
  }
  if (t.storeTimeoutMs * 3 > t.sessionTtlMs) {
    problems.push(
      `sessionTtlMs (${t.sessionTtlMs}) must allow three etcd calls (storeTimeoutMs ${t.storeTimeoutMs})`,
    );
  }
  if (t.publishRefreshMs >= config.core.reportFreshMs) {
    problems.push(
      `publishRefreshMs (${t.publishRefreshMs}) must be below core.reportFreshMs (${config.core.reportFreshMs}), or live observers look stale`,
    );
  }
  const quietMs = t.quietProbeIntervalMs ?? 0;
  if (quietMs + t.publishRefreshMs >= config.core.reportFreshMs) {
    problems.push(
      `quietProbeIntervalMs (${quietMs}) plus publishRefreshMs (${t.publishRefreshMs}) must be below core.reportFreshMs (${config.core.reportFreshMs}), or live observers look stale to a quiet leader`,
    );
  }
  const watchdogProblem = config.watchdog ? watchdogTimingProblem(t) : undefined;
  if (watchdogProblem) problems.push(watchdogProblem);
  if (!config.coordinators.some((c) => c.name === config.self.name)) {
    problems.push(`coordinator ${config.self.name} is not in the configured coordinator list`);
  }
  return problems;
}
