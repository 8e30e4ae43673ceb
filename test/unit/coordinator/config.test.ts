import { describe, expect, it } from 'vitest';
import { DEFAULT_CORE_CONFIG } from '../../../src/core/index.js';
import {
  DEFAULT_LOOP_TIMINGS,
  validateCoordinatorConfig,
  type CoordinatorConfig,
} from '../../../src/coordinator/config.js';
import { CLUSTER, COORDINATORS } from '../../sim/world.js';

const base: CoordinatorConfig = {
  self: { name: 'a', colo: 'a' },
  cluster: CLUSTER,
  coordinators: COORDINATORS,
  core: DEFAULT_CORE_CONFIG,
  timings: DEFAULT_LOOP_TIMINGS,
  watchdog: true,
};

describe('validateCoordinatorConfig', () => {
  it('accepts the defaults', () => {
    expect(validateCoordinatorConfig(base)).toEqual([]);
  });

  it.each([
    ['a probe that outlives the cycle', { probeTimeoutMs: 600, cycleIntervalMs: 500 }, 'probeTimeoutMs'],
    ['a TTL shorter than three etcd calls', { sessionTtlMs: 2000, storeTimeoutMs: 1000 }, 'sessionTtlMs'],
    ['a refresh slower than report freshness', { publishRefreshMs: 20_000 }, 'publishRefreshMs'],
    ['quiet reads too rare for report freshness', { quietProbeIntervalMs: 9_000 }, 'quietProbeIntervalMs'],
  ])('rejects %s', (_name, timings, field) => {
    const problems = validateCoordinatorConfig({ ...base, timings: { ...base.timings, ...timings } });
    expect(problems.join('\n')).toContain(field);
  });

  it('rejects a coordinator missing from its own list', () => {
    expect(validateCoordinatorConfig({ ...base, self: { name: 'x', colo: 'a' } })).toHaveLength(1);
  });
});
