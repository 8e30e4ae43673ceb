import { describe, expect, it } from 'vitest';
import { alignedSlavePos } from '../../../src/mysql/truncated-tail.js';

describe("gtid_slave_pos aligned with the binlog in the server's own domain", () => {
  it.each([
    {
      name: 'ahead of the binlog (a truncated tail): back to the binlog, other domains kept',
      slave: '1-11-3169,2-21-3205',
      binlog: '1-11-3167,2-21-3205',
      own: 1,
      want: { slavePos: '1-11-3167,2-21-3205', truncatedTail: true },
    },
    {
      name: 'behind the binlog (own events skipped on the way back): up to the binlog',
      slave: '1-11-2022',
      binlog: '1-11-2261,2-21-4',
      own: 1,
      want: { slavePos: '1-11-2261', truncatedTail: false },
    },
    {
      name: 'equal: nothing to do',
      slave: '1-11-9,2-21-4',
      binlog: '1-11-9,2-21-4',
      own: 1,
      want: undefined,
    },
    {
      name: 'own domain absent from the slave position: the binlog position added',
      slave: '2-21-4',
      binlog: '1-11-3,2-21-4',
      own: 1,
      want: { slavePos: '1-11-3,2-21-4', truncatedTail: false },
    },
    {
      name: 'the whole own tail truncated: own domain dropped',
      slave: '1-11-2,2-21-4',
      binlog: '2-21-4',
      own: 1,
      want: { slavePos: '2-21-4', truncatedTail: true },
    },
    {
      name: 'a replica (never wrote in its own domain)',
      slave: '1-11-9',
      binlog: '1-11-9',
      own: 11,
      want: undefined,
    },
  ])('$name', ({ slave, binlog, own, want }) => {
    expect(alignedSlavePos(slave, binlog, own)).toEqual(want);
  });
});
