import { describe, expect, it } from 'vitest';
import { measured, notMeasured } from '../../../bench/suite/measures.js';
import { progressLine } from '../../../bench/suite/progress.js';

const at = { step: 3, steps: 12, caseName: 'kill', run: 2, runs: 3, remainingSeconds: 270 };
const base = { scenario: 'kill', policy: 'availability' as const, run: 2, startedAt: '', durationMs: 31_400 };

describe('the progress line', () => {
  it('says where the suite is, what the run measured and how long is left', () => {
    const line = progressLine(at, {
      ok: true,
      ...base,
      zero: { at: 0, label: 'kill -9 of a1' },
      measures: {
        outageMs: measured(912),
        detectMs: notMeasured('none'),
        lostAckedWrites: measured(0),
        newLeaderMs: measured(3_700),
      },
      notes: [],
      timeline: { bucketMs: 100, fromMs: 0, buckets: [], markers: [] },
    });
    expect(line).toBe(
      '[3/12] kill run 2/3 (31 s): outage 912 ms, lost 0, new leader 3,700 ms · about 4 min 30 s left',
    );
  });

  it('says a run failed, on one line', () => {
    expect(
      progressLine({ ...at, remainingSeconds: 0 }, { ok: false, ...base, error: 'lab up:\nno subnet' }),
    ).toBe('[3/12] kill run 2/3 (31 s) FAILED: lab up: no subnet');
  });
});
