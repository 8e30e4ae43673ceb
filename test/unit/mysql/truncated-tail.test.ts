import { describe, expect, it } from 'vitest';
import { slavePosAfterTruncation } from '../../../src/mysql/truncated-tail.js';

describe('gtid_slave_pos after a crash-truncated binlog tail', () => {
  it.each([
    {
      name: 'own domain ahead of the binlog: back to the binlog, other domains kept',
      slave: '1-11-3169,2-21-3205',
      binlog: '1-11-3167,2-21-3205',
      own: 1,
      want: '1-11-3167,2-21-3205',
    },
    {
      name: 'equal: nothing to do',
      slave: '1-11-9,2-21-4',
      binlog: '1-11-9,2-21-4',
      own: 1,
      want: undefined,
    },
    {
      name: 'binlog ahead (errant, not truncated): nothing to do',
      slave: '1-11-7',
      binlog: '1-11-9',
      own: 1,
      want: undefined,
    },
    {
      name: 'own domain absent from the slave position: nothing to do',
      slave: '2-21-4',
      binlog: '1-11-3,2-21-4',
      own: 1,
      want: undefined,
    },
    {
      name: 'the whole own tail truncated: own domain dropped',
      slave: '1-11-2,2-21-4',
      binlog: '2-21-4',
      own: 1,
      want: '2-21-4',
    },
    {
      name: 'a replica (own domain never written)',
      slave: '1-11-9',
      binlog: '1-11-9',
      own: 11,
      want: undefined,
    },
  ])('$name', ({ slave, binlog, own, want }) => {
    expect(slavePosAfterTruncation(slave, binlog, own)).toBe(want);
  });
});
