/**
 * The failover goals of issues 4, 10 and 11, as functions of the WAN profile: one-way latency L
 * between the sites and the default session TTL. L is the profile's largest one-way delay (the
 * witness link in `continent`), so a goal is never tightened by a link shorter than the longest.
 */
import { DEFAULT_TIMINGS } from '../src/core/timings.js';
import { WAN_PROFILES, type WanProfileName } from '../src/lab/wan-profile.js';

export type Statistic = 'p50' | 'p99' | 'max';

export interface Goal {
  statistic: Statistic;
  limitMs: number;
  /** The formula, for the report. */
  formula: string;
}

export function oneWayMs(profile: WanProfileName): number {
  const { colosMs, witnessMs } = WAN_PROFILES[profile];
  return Math.max(colosMs, witnessMs);
}

export function goalsFor(scenario: string, profile: WanProfileName): Goal[] {
  const L = oneWayMs(profile);
  const ttl = DEFAULT_TIMINGS.sessionTtlMs;
  switch (scenario) {
    case 'kill':
    case 'semisync-kill':
      return [
        { statistic: 'p50', limitMs: 1000 + 8 * L, formula: '1 s + 8·L' },
        { statistic: 'p99', limitMs: 2000 + 12 * L, formula: '2 s + 12·L' },
      ];
    case 'cut':
    case 'cut-raft-a':
      return [{ statistic: 'max', limitMs: ttl + 2000 + 8 * L, formula: 'TTL + 2 s + 8·L' }];
    case 'switchover':
      return [{ statistic: 'max', limitMs: 150 + 4 * L, formula: '0.15 s + 4·L' }];
    case 'hang':
      return [{ statistic: 'p50', limitMs: 3000 + 8 * L, formula: '3 s + 8·L' }];
    // Through HAProxy (issue 12): the unrouted goal plus 0.5 s for the checks to move traffic.
    case 'kill-routed':
      return goalsFor('kill', profile).map((g) => ({
        ...g,
        limitMs: g.limitMs + 500,
        formula: `${g.formula} + 0.5 s`,
      }));
    case 'cut-routed':
      return goalsFor('cut', profile);
    case 'switchover-routed':
      return [{ statistic: 'max', limitMs: 500 + 4 * L, formula: '0.5 s + 4·L' }];
    default:
      return [];
  }
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export function statistic(values: number[], which: Statistic): number {
  return which === 'max' ? Math.max(...values) : percentile(values, which === 'p50' ? 50 : 99);
}
