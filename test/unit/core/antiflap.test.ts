import { describe, expect, it } from 'vitest';
import {
  automaticChangeBlocker,
  pruneFailoverTimes,
  recordWriterChange,
} from '../../../src/core/antiflap.js';
import { CONFIG } from './fixtures.js';

const cfg = { ...CONFIG, cooldownMs: 100, failoverBudget: { count: 2, windowMs: 1000 } };

describe('anti-flap', () => {
  it.each([
    { name: 'fresh state: allowed', state: { failoverTimes: [] }, now: 0, blocker: undefined },
    {
      name: 'inside cooldown',
      state: { cooldownUntil: 50, failoverTimes: [] },
      now: 49,
      blocker: 'skipped-cooldown',
    },
    {
      name: 'cooldown ends exactly at its deadline',
      state: { cooldownUntil: 50, failoverTimes: [] },
      now: 50,
      blocker: undefined,
    },
    {
      name: 'budget spent within the window',
      state: { failoverTimes: [100, 200] },
      now: 900,
      blocker: 'flap-budget-exhausted',
    },
    {
      name: 'oldest failover left the window',
      state: { failoverTimes: [100, 200] },
      now: 1100,
      blocker: undefined,
    },
    {
      name: 'cooldown is named before the budget',
      state: { cooldownUntil: 1000, failoverTimes: [100, 200] },
      now: 900,
      blocker: 'skipped-cooldown',
    },
  ])('$name', ({ state, now, blocker }) => {
    expect(automaticChangeBlocker(state, now, cfg)?.reason).toBe(blocker);
  });

  it('a writer change starts the cooldown; only automatic ones spend budget', () => {
    expect(recordWriterChange({ failoverTimes: [] }, 10, cfg, true)).toEqual({
      cooldownUntil: 110,
      failoverTimes: [10],
    });
    expect(recordWriterChange({ failoverTimes: [5] }, 10, cfg, false)).toEqual({
      cooldownUntil: 110,
      failoverTimes: [5],
    });
  });

  it('prunes failover times that left the window', () => {
    expect(pruneFailoverTimes({ failoverTimes: [0, 500, 999] }, 1500, cfg).failoverTimes).toEqual([999]);
  });
});
