import { describe, expect, it } from 'vitest';
import { BLIP_RANGES_MS, flapSchedule, QUIET_RANGE_MS } from '../../../src/lab/flap-schedule.js';

describe('flapSchedule', () => {
  it('replays the same schedule for the same seed, and another for another seed', () => {
    expect(flapSchedule(42, 120_000)).toEqual(flapSchedule(42, 120_000));
    expect(flapSchedule(43, 120_000)).not.toEqual(flapSchedule(42, 120_000));
  });

  it.each([1, 7, 99, 4_294_967_295])(
    'seed %i: every blip in its range, quiet between, all inside the soak',
    (seed) => {
      const total = 600_000;
      const blips = flapSchedule(seed, total);
      expect(blips.length).toBeGreaterThan(50);
      let previousEnd = 0;
      blips.forEach((blip, i) => {
        expect(blip.index).toBe(i + 1);
        const [low, high] = BLIP_RANGES_MS[blip.kind];
        expect(blip.durationMs).toBeGreaterThanOrEqual(low);
        expect(blip.durationMs).toBeLessThanOrEqual(high);
        const quiet = blip.atMs - previousEnd;
        expect(quiet).toBeGreaterThanOrEqual(QUIET_RANGE_MS[0]);
        expect(quiet).toBeLessThanOrEqual(QUIET_RANGE_MS[1]);
        expect(blip.etcdSite !== undefined).toBe(blip.kind === 'etcd-member-stall');
        previousEnd = blip.atMs + blip.durationMs;
      });
      expect(previousEnd).toBeLessThanOrEqual(total);
    },
  );

  it('draws every kind of blip over a 10-minute soak', () => {
    const kinds = new Set(flapSchedule(5, 600_000).map((b) => b.kind));
    expect([...kinds].sort()).toEqual(['etcd-member-stall', 'writer-colo-cut', 'writer-stall']);
  });

  it('plans nothing when the soak is shorter than the first quiet gap', () => {
    expect(flapSchedule(5, 500)).toEqual([]);
  });
});
