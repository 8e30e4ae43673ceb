import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../../src/core/index.js';
import {
  decidedAt,
  longestGapAfter,
  measureRun,
  UNRESUMED_TAIL_MS,
  type RunFacts,
} from '../../../bench/suite/measure-run.js';
import { measured } from '../../../bench/suite/measures.js';
import type { Ack } from '../../../test/integration/support/write-client.js';

const ZERO = 1_796_440_000_000;

/** Acks every 10 ms on `node` over [from, to) relative to ZERO. */
function acksOn(node: string, from: number, to: number): Ack[] {
  const acks: Ack[] = [];
  for (let t = from; t < to; t += 10) acks.push({ seq: 0, node, sentAt: ZERO + t - 2, ackedAt: ZERO + t });
  return acks.map((a, i) => ({ ...a, seq: i + 1 }));
}

function entry(fields: Partial<HistoryEntry> & Pick<HistoryEntry, 'event' | 'reason' | 'at'>): HistoryEntry {
  return { epoch: 1, message: '', by: 'auto', ...fields };
}

/** a1 dies at ZERO, writes resume on b1 at +900 ms; the watch saw b1 at +770 ms. */
function failover(overrides: Partial<RunFacts> = {}): RunFacts {
  return {
    zeroAt: ZERO,
    planned: false,
    observedFrom: ZERO - 1_000,
    endAt: ZERO + 2_000,
    acks: [...acksOn('a1', -1_500, 0), ...acksOn('b1', 900, 2_000)],
    writerBefore: { node: 'a1', epoch: 1 },
    writerAfter: { node: 'b1', epoch: 2 },
    writerChanges: [
      { node: 'a1', epoch: 1, seenAt: 0 },
      { node: 'b1', epoch: 2, seenAt: ZERO + 770 },
    ],
    history: [
      entry({ event: 'skip', reason: 'no-quorum', at: ZERO + 500 }),
      entry({
        event: 'promote',
        reason: 'writer-dead-quorum',
        at: ZERO + 760,
        epoch: 2,
        operationId: `failover-2-${ZERO + 700}`,
      }),
    ],
    lostAckedWrites: measured(0),
    twoWritable: 0,
    ...overrides,
  };
}

describe('a run measured from its facts', () => {
  it('times a failover from the fault: detect at the decision, promote at the watch, resume at the first write on b1', () => {
    const m = measureRun(failover());
    expect(m.outageMs).toEqual({ value: 910 });
    expect(m.resumeMs).toEqual({ value: 900 });
    // The decision is the failover's start (its operation id), not the partial quorum's skip at 500 ms.
    expect(m.detectMs).toEqual({ value: 700 });
    expect(m.promoteMs).toEqual({ value: 770 });
    expect(m.epochChanges).toEqual({ value: 1 });
    expect(m.writerChanges).toEqual({ value: 1 });
    expect(m.nonWriterAcks).toEqual({ value: 0 });
  });

  it('counts a skip that holds back a judged failover as the decision', () => {
    const m = measureRun(
      failover({
        writerAfter: { node: 'a1', epoch: 1 },
        writerChanges: [{ node: 'a1', epoch: 1, seenAt: 0 }],
        history: [
          entry({ event: 'skip', reason: 'no-quorum', at: ZERO + 400 }),
          entry({ event: 'skip', reason: 'skipped-policy-consistency', at: ZERO + 650 }),
        ],
        acks: acksOn('a1', -1_500, 0),
      }),
    );
    expect(m.detectMs).toEqual({ value: 650 });
    expect(m.promoteMs.value).toBeNull();
    expect(m.resumeMs).toMatchObject({ value: null, why: expect.stringContaining('did not change') });
    expect(m.outageMs).toMatchObject({ value: null, why: expect.stringContaining('at least') });
    expect(m.writerChanges).toEqual({ value: 0 });
  });

  it('has nothing to detect in a planned switchover', () => {
    expect(measureRun(failover({ planned: true })).detectMs).toMatchObject({ value: null });
  });

  it('counts fences from the start of measurement, not those of the lab start-up', () => {
    const fences = [
      entry({ event: 'fence', reason: 'guardian-session-invalid', at: ZERO - 5_000 }),
      entry({ event: 'fence', reason: 'guardian-session-invalid', at: ZERO + 300 }),
      entry({ event: 'fence', reason: 'stale-writable-node', at: ZERO + 3_000 }),
    ];
    expect(measureRun(failover({ history: fences })).fences).toEqual({ value: 2 });
  });

  it('counts acknowledgements by a1 after the watch saw b1 named (beyond 100 ms) as by a non-writer', () => {
    const late = { seq: 999, node: 'a1', sentAt: ZERO + 990, ackedAt: ZERO + 1_000 };
    expect(measureRun(failover({ acks: [...failover().acks, late] })).nonWriterAcks).toEqual({ value: 1 });
  });

  it('counts a reopen as an epoch change but not as a writer change', () => {
    const m = measureRun(
      failover({
        writerAfter: { node: 'a1', epoch: 2 },
        writerChanges: [
          { node: 'a1', epoch: 1, seenAt: 0 },
          { node: 'a1', epoch: 2, seenAt: ZERO + 3_000 },
        ],
      }),
    );
    expect(m.epochChanges).toEqual({ value: 1 });
    expect(m.writerChanges).toEqual({ value: 0 });
    expect(m.promoteMs.value).toBeNull();
  });
});

describe('the write outage', () => {
  it('includes the gap that spans the fault', () => {
    // The last write before the fault was acknowledged at 0, the first after it at 605.
    const acks = [...acksOn('a1', -100, 1), ...acksOn('a1', 605, 700)];
    expect(longestGapAfter(acks, ZERO, ZERO + 700)).toEqual({ value: 605 });
  });

  it('has no value while writes have not resumed, rather than the gap before the stall', () => {
    const acks = [...acksOn('a1', -100, 300)];
    const m = longestGapAfter(acks, ZERO, ZERO + 300 + UNRESUMED_TAIL_MS);
    expect(m).toMatchObject({ value: null, why: expect.stringContaining('had not resumed') });
  });

  it('ignores a short tail: the client was simply stopped', () => {
    const acks = [...acksOn('a1', -100, 0), ...acksOn('b1', 800, 1_000)];
    expect(longestGapAfter(acks, ZERO, ZERO + 1_000)).toEqual({ value: 810 });
  });
});

describe('a decision time', () => {
  it('comes from the operation id when there is one (the commit may be later)', () => {
    // An id without a wall-clock time in it is not read as one.
    expect(
      decidedAt(
        entry({ event: 'promote', reason: 'writer-dead-quorum', at: 200, operationId: 'failover-3-150' }),
      ),
    ).toBe(200);
    expect(
      decidedAt(
        entry({
          event: 'promote',
          reason: 'writer-dead-quorum',
          at: ZERO + 90,
          operationId: `failover-3-${ZERO}`,
        }),
      ),
    ).toBe(ZERO);
    expect(decidedAt(entry({ event: 'skip', reason: 'skipped-cooldown', at: ZERO }))).toBe(ZERO);
  });
});
