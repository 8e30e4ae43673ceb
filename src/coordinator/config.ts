/**
 * Everything one coordinator process needs, checked by the same timing rules as the config file
 * (core/timings.ts; hashicorp/raft validates its timeouts against each other the same way).
 */

import {
  joinTimings,
  timingProblems,
  type ClusterSpec,
  type CoordinatorSpec,
  type CoreConfig,
  type LoopTimings,
} from '../core/index.js';

export interface CoordinatorConfig {
  /** This process (name and colo). */
  self: CoordinatorSpec;
  cluster: ClusterSpec;
  /** Every configured coordinator (quorum is a majority of these). */
  coordinators: CoordinatorSpec[];
  /** The decision core's tunables, its timing ones included (report freshness, hysteresis). */
  core: CoreConfig;
  timings: LoopTimings;
  /** Vouch for writers to their watchdog events (core/watchdog.ts). */
  watchdog: boolean;
}

/** Returns every violated rule; empty when the configuration is usable. */
export function validateCoordinatorConfig(config: CoordinatorConfig): string[] {
  const problems = timingProblems(joinTimings(config.timings, config.core), {
    watchdog: config.watchdog,
  }).map((p) => `timings.${p.field}: ${p.message}`);
  if (!config.coordinators.some((c) => c.name === config.self.name)) {
    problems.push(`coordinator ${config.self.name} is not in the configured coordinator list`);
  }
  return problems;
}
