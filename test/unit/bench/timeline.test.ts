import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../../src/core/index.js';
import { bucketAcks, timelineMarkers } from '../../../bench/suite/timeline.js';

const ZERO = 1_796_440_000_000;
const ack = (node: string, at: number) => ({ seq: 0, node, sentAt: ZERO + at - 1, ackedAt: ZERO + at });

describe('acknowledged writes per bucket', () => {
  it('counts per 100 ms and per node, relative to time zero', () => {
    const buckets = bucketAcks(
      [ack('a1', -150), ack('a1', -120), ack('a1', -1), ack('b1', 0), ack('b1', 99)],
      ZERO,
      -200,
      100,
    );
    expect(buckets).toEqual([
      { startMs: -200, node: 'a1', acks: 2 },
      { startMs: -100, node: 'a1', acks: 1 },
      { startMs: 0, node: 'b1', acks: 2 },
    ]);
  });

  it('lists empty buckets, so an outage shows as a gap', () => {
    const buckets = bucketAcks([ack('a1', -50), ack('b1', 350)], ZERO, -100, 400);
    expect(buckets.map((b) => [b.startMs, b.acks])).toEqual([
      [-100, 1],
      [0, 0],
      [100, 0],
      [200, 0],
      [300, 1],
    ]);
  });

  it('splits a bucket in which both masters acknowledged', () => {
    const buckets = bucketAcks([ack('b1', 10), ack('a1', 20), ack('b1', 30)], ZERO, 0, 100);
    expect(buckets).toEqual([
      { startMs: 0, node: 'a1', acks: 1 },
      { startMs: 0, node: 'b1', acks: 2 },
    ]);
  });

  it('leaves out what falls outside the window', () => {
    expect(bucketAcks([ack('a1', -500), ack('a1', 500)], ZERO, 0, 200).every((b) => b.acks === 0)).toBe(true);
  });
});

describe('timeline markers', () => {
  const history: HistoryEntry[] = [
    {
      event: 'fence',
      reason: 'guardian-session-invalid',
      node: 'a1',
      at: ZERO + 3_200,
      epoch: 1,
      message: '',
      by: 'a',
    },
    { event: 'skip', reason: 'no-quorum', at: ZERO + 100, epoch: 1, message: '', by: 'auto' },
    { event: 'skip', reason: 'skipped-guardian-alive', at: ZERO + 3_400, epoch: 1, message: '', by: 'auto' },
    {
      event: 'fence',
      reason: 'guardian-session-invalid',
      node: 'a1',
      at: ZERO + 60_000,
      epoch: 2,
      message: '',
      by: 'a',
    },
  ];
  const changes = [
    { node: 'a1', epoch: 1, seenAt: 0 },
    { node: 'b1', epoch: 2, seenAt: ZERO + 4_600 },
  ];

  it('mark the fault, the decision, fences and writer changes in time order, inside the window', () => {
    expect(timelineMarkers(ZERO, 'site a cut off', history, changes, -2_000, 6_000)).toEqual([
      { kind: 'fault', atMs: 0, label: 'site a cut off' },
      { kind: 'fence', atMs: 3_200, label: 'fence a1 (guardian-session-invalid)' },
      { kind: 'decision', atMs: 3_400, label: 'decision: skipped-guardian-alive' },
      { kind: 'writer change', atMs: 4_600, label: 'writer b1 @2' },
    ]);
  });

  it('mark a new coordinator leader, but not the one there before the watch', () => {
    const leaders = [
      { coordinator: 'w', seenAt: 0 },
      { coordinator: undefined, seenAt: ZERO + 3_900 },
      { coordinator: 'b', seenAt: ZERO + 4_100 },
    ];
    const markers = timelineMarkers(ZERO, 'kill -9 of coord-w', [], [], -2_000, 6_000, leaders);
    expect(markers.map((m) => m.label)).toEqual(['kill -9 of coord-w', 'leader (none)', 'leader b']);
  });

  it('do not mark the writer record that was there before the watch', () => {
    const markers = timelineMarkers(ZERO, 'kill', [], [{ node: 'a1', epoch: 1, seenAt: 0 }], -2_000, 6_000);
    expect(markers.map((m) => m.kind)).toEqual(['fault']);
  });
});
