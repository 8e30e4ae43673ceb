import { describe, expect, it } from 'vitest';
import { offsetFromSeconds, offsetFromTimestamps } from '../../../src/doctor/clock-offset.js';

describe('offsetFromTimestamps', () => {
  it('bounds the offset by each round trip, and the intersection by the best', () => {
    // Their clock is 500 ms ahead; answers made mid-way through round trips of 10 and 2 ms.
    const offset = offsetFromTimestamps([
      { sentAt: 1000, receivedAt: 1010, remoteMs: 1505 },
      { sentAt: 2000, receivedAt: 2002, remoteMs: 2501 },
    ]);
    // [1505 − 1011, 1505 − 1000] ∩ [2501 − 2003, 2501 − 2000] = [498, 501]
    expect(offset).toEqual({ offsetMs: 499.5, uncertaintyMs: 1.5, samples: 2 });
  });

  it('falls back to the shortest round trip when the samples disagree (a clock stepped)', () => {
    const offset = offsetFromTimestamps([
      { sentAt: 1000, receivedAt: 1010, remoteMs: 1005 },
      { sentAt: 2000, receivedAt: 2004, remoteMs: 3002 },
    ]);
    // [3002 − 2005, 3002 − 2000] = [997, 1002]
    expect(offset).toEqual({ offsetMs: 999.5, uncertaintyMs: 2.5, samples: 1 });
  });

  it('ignores samples that cannot be right, and has nothing without any', () => {
    expect(offsetFromTimestamps([{ sentAt: 10, receivedAt: 5, remoteMs: 7 }])).toBeUndefined();
    expect(offsetFromTimestamps([{ sentAt: 10, receivedAt: 12, remoteMs: NaN }])).toBeUndefined();
    expect(offsetFromTimestamps([])).toBeUndefined();
  });
});

describe('offsetFromSeconds', () => {
  it('alone, a whole-second header bounds the offset to about a second', () => {
    const offset = offsetFromSeconds([{ sentAt: 10_400, receivedAt: 10_402, remoteSecondMs: 10_000 }]);
    // [10,000 − 10,403, 11,000 − 10,400] = [−403, 600]
    expect(offset).toEqual({ offsetMs: 98.5, uncertaintyMs: 501.5, samples: 1 });
  });

  it('two answers either side of their second boundary pin it', () => {
    // Their clock is 120 ms behind: their second 11,000 begins at our 11,120.
    const samples = [
      { sentAt: 11_100, receivedAt: 11_102, remoteSecondMs: 10_000 },
      { sentAt: 11_130, receivedAt: 11_132, remoteSecondMs: 11_000 },
    ];
    const offset = offsetFromSeconds(samples);
    // [11,000 − 11,133, 11,000 − 11,100] = [−133, −100]
    expect(offset).toEqual({ offsetMs: -116.5, uncertaintyMs: 16.5, samples: 2 });
  });

  it('samples that contradict each other give nothing', () => {
    expect(
      offsetFromSeconds([
        { sentAt: 1000, receivedAt: 1001, remoteSecondMs: 1000 },
        { sentAt: 1010, receivedAt: 1011, remoteSecondMs: 5000 },
      ]),
    ).toBeUndefined();
  });
});
