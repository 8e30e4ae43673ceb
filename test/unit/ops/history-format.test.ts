import { describe, expect, it } from 'vitest';
import {
  filterHistory,
  formatHistoryTable,
  historyColumns,
  localTime,
  parseDuration,
  type StoredHistoryEntry,
} from '../../../src/ops/history-format.js';

const AT = Date.UTC(2026, 11, 5, 3, 20, 21, 43);

const promote: StoredHistoryEntry = {
  event: 'promote',
  epoch: 5,
  reason: 'writer-dead-quorum',
  message: 'failover: a1 → b1 at epoch 5',
  node: 'b1',
  from: 'a1',
  by: 'auto',
  lostGtids: '1-11-223..224',
  at: 123,
  wallAt: AT,
};
const skip: StoredHistoryEntry = {
  event: 'skip',
  epoch: 4,
  reason: 'no-quorum',
  message: 'not enough live observers\nagree a1 is down',
  node: 'a1',
  by: 'auto',
  at: AT - 60_000,
};
const pin: StoredHistoryEntry = {
  event: 'pin',
  epoch: 5,
  reason: 'pin-requested',
  message: 'pinned b1',
  by: 'ops@host',
  at: AT + 1_000,
};

describe('history lines', () => {
  it('local time with milliseconds, in the zone asked for', () => {
    expect(localTime(AT, 'UTC')).toBe('2026-12-05 03:20:21.043');
    expect(localTime(AT, 'Asia/Tokyo')).toBe('2026-12-05 12:20:21.043');
    expect(localTime(AT, 'America/New_York')).toBe('2026-12-04 22:20:21.043');
  });

  it('a writer change names both nodes, the epoch, the reason, and the lost range in full', () => {
    expect(historyColumns(promote, { timeZone: 'UTC' })).toEqual([
      '2026-12-05 03:20:21.043',
      'promote',
      'a1→b1',
      'e5',
      'writer-dead-quorum',
      'failover: a1 → b1 at epoch 5 [lost: 1-11-223..224]',
    ]);
  });

  it('an entry without wall time falls back to its own time; a message is kept on one line', () => {
    const [time, , node, , , message] = historyColumns(skip, { timeZone: 'UTC' });
    expect(time).toBe('2026-12-05 03:19:21.043');
    expect(node).toBe('a1');
    expect(message).toBe('not enough live observers agree a1 is down');
  });

  it('says who asked when it was not baton itself, and "nothing" when a failover lost nothing', () => {
    expect(historyColumns(pin, { timeZone: 'UTC' }).at(-1)).toBe('pinned b1 [by ops@host]');
    expect(historyColumns({ ...promote, lostGtids: '' }, { timeZone: 'UTC' }).at(-1)).toMatch(
      /\[lost: nothing\]$/,
    );
  });

  it('aligns the columns under a header, the message last', () => {
    const lines = formatHistoryTable([skip, promote], { timeZone: 'UTC' });
    const header = lines[0] as string;
    expect(header.split(/ {2,}/)).toEqual(['TIME', 'EVENT', 'NODE', 'EPOCH', 'REASON', 'MESSAGE']);
    expect((lines[2] as string).indexOf('promote')).toBe(header.indexOf('EVENT'));
    expect((lines[2] as string).indexOf('writer-dead-quorum')).toBe(header.indexOf('REASON'));
    const messageAt = header.indexOf('MESSAGE');
    expect((lines[1] as string).indexOf('not enough')).toBe(messageAt);
    expect((lines[2] as string).indexOf('failover:')).toBe(messageAt);
    expect(formatHistoryTable([promote], { timeZone: 'UTC', header: false })).toHaveLength(1);
  });
});

describe('history filters', () => {
  it('reads durations, and refuses what is not one', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('30')).toBe(30_000);
    for (const bad of ['', 'soon', '-5m', '0', '5 min', '1w']) expect(parseDuration(bad)).toBeUndefined();
  });

  it('keeps entries by time and event, then the last N of those', () => {
    const all = [skip, promote, pin];
    expect(filterHistory(all, { since: AT })).toEqual([promote, pin]);
    expect(filterHistory(all, { event: 'promote' })).toEqual([promote]);
    expect(filterHistory(all, { last: 2 })).toEqual([promote, pin]);
    expect(filterHistory(all, { since: AT - 120_000, event: 'skip', last: 5 })).toEqual([skip]);
  });
});
