import { describe, expect, it } from 'vitest';
import { historyColumns, type StoredHistoryEntry } from '../../../src/ops/history-format.js';
import { timelineKind, timelineMarkers } from '../../../src/ops/history-timeline.js';

const NOW = Date.UTC(2026, 11, 5, 3, 30, 0);
const HOUR = 3_600_000;

function entry(over: Partial<StoredHistoryEntry> & Pick<StoredHistoryEntry, 'event' | 'reason'>) {
  return { epoch: 4, message: 'm', by: 'auto', at: 0, wallAt: NOW - 60_000, ...over } as StoredHistoryEntry;
}

const failover = entry({ event: 'promote', reason: 'writer-dead-quorum', node: 'b1', from: 'a1', epoch: 5 });
const bootstrap = entry({ event: 'promote', reason: 'bootstrap-writer', node: 'a1', epoch: 1 });
const reopen = entry({ event: 'promote', reason: 'writer-reopen', node: 'a1', from: 'a1', epoch: 6 });
const guardianFence = entry({ event: 'fence', reason: 'guardian-session-invalid', node: 'a1' });
const skip = entry({ event: 'skip', reason: 'no-quorum', node: 'a1' });
const calledOff = entry({
  event: 'fence-old',
  reason: 'operation-aborted',
  node: 'b1',
  operationKind: 'failover',
});
const pin = entry({ event: 'pin', reason: 'pin-requested', by: 'ops@host' });

describe('history as timeline markers', () => {
  it.each([
    ['a failover', failover, 'writer-change'],
    ['the first writer', bootstrap, 'writer-change'],
    ['a guardian fence', guardianFence, 'fence'],
    ['a skipped failover', skip, 'skip'],
    // The writer stayed where it was: blips, not writer changes.
    ['a writer reopened at a new epoch', reopen, 'blip'],
    ['a failover called off', calledOff, 'blip'],
    ['a pin', pin, 'other'],
  ] as const)('%s: %s', (_what, e, kind) => {
    expect(timelineKind(e)).toBe(kind);
  });

  it('labels each marker in a few words', () => {
    const labels = timelineMarkers(
      [failover, bootstrap, reopen, guardianFence, skip, calledOff, pin].map((e, i) => ({
        ...e,
        wallAt: NOW - 1_000 * (10 - i),
      })),
      { from: NOW - HOUR, to: NOW },
    ).map((m) => m.label);
    expect(labels).toEqual([
      'a1→b1 e5',
      'a1 e1',
      'reopen a1 e6',
      'fence a1',
      'skip: no-quorum',
      'failover called off',
      'pin',
    ]);
  });

  it('keeps the window’s entries, oldest first, on the wall clock (older entries: at)', () => {
    const inside = { ...skip, wallAt: NOW - HOUR + 1 };
    const later = { ...failover, wallAt: NOW - 5 };
    const tooOld = { ...pin, wallAt: NOW - HOUR - 1 };
    const legacy: StoredHistoryEntry = { ...guardianFence, at: NOW - 1_000 };
    delete legacy.wallAt;
    const markers = timelineMarkers([later, tooOld, legacy, inside], { from: NOW - HOUR, to: NOW });
    expect(markers.map((m) => [m.at, m.kind])).toEqual([
      [NOW - HOUR + 1, 'skip'],
      [NOW - 1_000, 'fence'],
      [NOW - 5, 'writer-change'],
    ]);
  });

  it('with a limit, keeps the writer changes, fences, skips and blips first, the newest first', () => {
    const at = (e: StoredHistoryEntry, minutesAgo: number) => ({ ...e, wallAt: NOW - minutesAgo * 60_000 });
    const entries = [
      at(failover, 50),
      at(pin, 40),
      at(guardianFence, 30),
      at(skip, 20),
      at({ ...pin, event: 'unpin', reason: 'unpin-requested' }, 1),
    ];
    const kept = (limit: number) =>
      timelineMarkers(entries, { from: NOW - HOUR, to: NOW }, { limit }).map((m) => m.label);
    expect(kept(2)).toEqual(['fence a1', 'skip: no-quorum']);
    expect(kept(4)).toEqual(['a1→b1 e5', 'fence a1', 'skip: no-quorum', 'unpin']);
    expect(kept(9)).toHaveLength(5);
  });

  it('carries the entry’s readable line, in the zone asked for', () => {
    const [marker] = timelineMarkers([failover], { from: NOW - HOUR, to: NOW }, { timeZone: 'Asia/Tokyo' });
    expect(marker?.line).toEqual(historyColumns(failover, { timeZone: 'Asia/Tokyo' }));
    expect(marker?.line[0]).toBe('2026-12-05 12:29:00.000');
  });
});
