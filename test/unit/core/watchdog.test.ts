import { describe, expect, it } from 'vitest';
import {
  planWatchdogHold,
  standInMaxHoldMs,
  watchdogTimingProblem,
  WATCHDOG_SLACK_MS,
  WATCHDOG_TICK_MS,
} from '../../../src/core/index.js';

const base = { now: 10_000, statementTimeoutMs: 150, maxHoldMs: Infinity };

describe('planWatchdogHold', () => {
  it.each([
    // lease left (earliest expiry - now), max hold → hold (undefined: no hold)
    [4000, Infinity, 4000 - 150 - 1250],
    [4000, 1200, 1200],
    [1500, Infinity, 100], // exactly the minimum hold
    [1499, Infinity, undefined],
    [-50, Infinity, undefined],
  ])('lease left %i ms, max hold %s → hold %s', (left, maxHoldMs, hold) => {
    const plan = planWatchdogHold({ ...base, leaseExpiresNoEarlierThan: base.now + left, maxHoldMs });
    expect(plan?.holdMs).toBe(hold);
  });

  it('has the server closed by the time etcd could expire the lease', () => {
    const expiry = base.now + 3000;
    const plan = planWatchdogHold({ ...base, leaseExpiresNoEarlierThan: expiry });
    expect(plan).toEqual({
      holdMs: 1600,
      closedBy: base.now + 150 + WATCHDOG_TICK_MS + WATCHDOG_SLACK_MS + 1600,
    });
    expect(plan?.closedBy).toBe(expiry);
  });
});

describe('standInMaxHoldMs', () => {
  it('runs out within two thirds of a TTL of the last stamp (TTL 4 s, stamp deadline 150 ms)', () => {
    const hold = standInMaxHoldMs(4000, 150);
    expect(hold).toBe(1266);
    expect(150 + hold + WATCHDOG_TICK_MS + WATCHDOG_SLACK_MS).toBeLessThanOrEqual((2 * 4000) / 3);
  });
});

describe('watchdogTimingProblem', () => {
  const defaults = { cycleIntervalMs: 200, probeTimeoutMs: 150, storeTimeoutMs: 500, sessionTtlMs: 4000 };
  it('accepts the daemon defaults', () => {
    expect(watchdogTimingProblem(defaults)).toBeUndefined();
  });
  it.each([
    [{ ...defaults, sessionTtlMs: 3000 }, 3450],
    [{ cycleIntervalMs: 500, probeTimeoutMs: 300, storeTimeoutMs: 800, sessionTtlMs: 4000 }, 5025],
  ])('refuses a TTL too short for a tick-a-second event (%o)', (timings, minTtl) => {
    expect(watchdogTimingProblem(timings)).toContain(`sessionTtlMs of at least ${minTtl}`);
    expect(watchdogTimingProblem({ ...timings, sessionTtlMs: minTtl })).toBeUndefined();
  });
});
