import { describe, expect, it } from 'vitest';
import { percentile, statistic, summarize } from '../../../bench/suite/statistics.js';

describe('suite statistics', () => {
  it('use the nearest rank, so every statistic is one of the runs', () => {
    const runs = [900, 1_200, 700];
    expect(summarize(runs)).toEqual({ n: 3, min: 700, p50: 900, p99: 1_200, max: 1_200 });
    // With fewer than 100 runs p99 is the largest: the goal is judged on the worst run.
    expect(percentile([...Array(10).keys()], 99)).toBe(9);
    expect(percentile([5, 1, 3, 2], 50)).toBe(2);
  });

  it('do not depend on the order of the runs', () => {
    expect(statistic([3, 1, 2], 'p50')).toBe(statistic([1, 2, 3], 'p50'));
    expect(statistic([3, 1, 2], 'min')).toBe(1);
  });

  it('have nothing to say about no runs', () => {
    expect(summarize([])).toBeUndefined();
    expect(() => percentile([], 50)).toThrow();
  });
});
