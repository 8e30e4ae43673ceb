import { describe, expect, it } from 'vitest';
import { INITIAL_ROUND_TRIP_MS, LinkRtt } from '../../src/link-rtt.js';

describe('LinkRtt (RFC 6298 estimate of one link)', () => {
  it('allows a second per round trip before it has measured one', () => {
    expect(new LinkRtt().allowanceMs()).toBe(INITIAL_ROUND_TRIP_MS);
  });

  it.each([
    { name: 'a LAN link', samples: [1, 1, 1, 2, 1], within: [5, 30] },
    { name: 'a continental link (70 ms round trip)', samples: [70, 72, 69, 71, 70], within: [75, 130] },
    { name: 'an intercontinental link with jitter', samples: [160, 176, 150, 168, 158], within: [170, 260] },
  ])('settles near the measured round trip with room for its variation: $name', ({ samples, within }) => {
    const link = new LinkRtt();
    // A few seconds of probes: the first sample's guess at the variation (half of it) has faded.
    for (let round = 0; round < 5; round++) for (const ms of samples) link.sample(ms);
    expect(link.allowanceMs()).toBeGreaterThanOrEqual(within[0] as number);
    expect(link.allowanceMs()).toBeLessThanOrEqual(within[1] as number);
  });

  it('doubles once after a lost round trip, and forgets it at the next answer', () => {
    const link = new LinkRtt();
    for (let i = 0; i < 20; i++) link.sample(100);
    const settled = link.allowanceMs();
    link.lost();
    expect(link.allowanceMs()).toBe(2 * settled);
    link.lost();
    expect(link.allowanceMs()).toBe(2 * settled);
    link.sample(100);
    expect(link.allowanceMs()).toBe(settled);
  });

  it('a latency spike widens the allowance at once (the variation term), then it narrows again', () => {
    const link = new LinkRtt();
    for (let i = 0; i < 20; i++) link.sample(160);
    const before = link.allowanceMs();
    link.sample(480);
    expect(link.allowanceMs()).toBeGreaterThan(before + 300);
    for (let i = 0; i < 40; i++) link.sample(160);
    expect(link.allowanceMs()).toBeLessThan(before + 20);
  });

  it('ignores samples that are not durations', () => {
    const link = new LinkRtt();
    link.sample(Number.NaN);
    link.sample(-5);
    expect(link.smoothedMs()).toBeUndefined();
  });
});
