import { describe, expect, it } from 'vitest';
import { planWatchdogHold, WATCHDOG_SLACK_MS, WATCHDOG_TICK_MS } from '../../../src/core/index.js';

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
