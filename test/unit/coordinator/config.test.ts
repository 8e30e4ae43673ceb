import { describe, expect, it } from 'vitest';
import { DEFAULT_CORE_CONFIG, DEFAULT_TIMINGS, loopTimings } from '../../../src/core/index.js';
import { validateCoordinatorConfig, type CoordinatorConfig } from '../../../src/coordinator/config.js';
import { CLUSTER, COORDINATORS } from '../../sim/world.js';

const base: CoordinatorConfig = {
  self: { name: 'a', colo: 'a' },
  cluster: CLUSTER,
  coordinators: COORDINATORS,
  core: DEFAULT_CORE_CONFIG,
  timings: loopTimings(DEFAULT_TIMINGS),
  watchdog: true,
};

describe('validateCoordinatorConfig', () => {
  it('accepts the defaults', () => {
    expect(validateCoordinatorConfig(base)).toEqual([]);
  });

  it.each([
    ['a probe that outlives the cycle', { probeTimeoutMs: 600, cycleIntervalMs: 500 }, 'probeTimeoutMs'],
    ['a TTL too short to fence before expiry', { sessionTtlMs: 2000, storeTimeoutMs: 1000 }, 'sessionTtlMs'],
    ['a refresh slower than report freshness', { publishRefreshMs: 20_000 }, 'publishRefreshMs'],
    ['quiet reads too rare for report freshness', { quietProbeIntervalMs: 9_000 }, 'quietProbeIntervalMs'],
  ])('rejects %s, with the config file’s path', (_name, timings, field) => {
    const problems = validateCoordinatorConfig({ ...base, timings: { ...base.timings, ...timings } });
    expect(problems.some((p) => p.startsWith(`timings.${field}: `))).toBe(true);
  });

  it('checks the core’s timings with the loop’s', () => {
    const core = { ...base.core, reportFreshMs: 1000 };
    expect(validateCoordinatorConfig({ ...base, core })).toContain(
      'timings.publishRefreshMs: must be below timings.reportFreshMs (1000), or live observers look stale',
    );
  });

  it('asks the watchdog’s rule only of a coordinator that stamps', () => {
    const timings = { ...base.timings, sessionTtlMs: 3000 };
    expect(validateCoordinatorConfig({ ...base, timings }).join('\n')).toContain('the watchdog needs');
    expect(validateCoordinatorConfig({ ...base, timings, watchdog: false })).toEqual([]);
  });

  it('rejects a coordinator missing from its own list', () => {
    expect(validateCoordinatorConfig({ ...base, self: { name: 'x', colo: 'a' } })).toHaveLength(1);
  });
});
