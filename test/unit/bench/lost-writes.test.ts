import { describe, expect, it } from 'vitest';
import { missingSeqs } from '../../../bench/suite/lost-writes.js';

describe('lost acknowledged writes', () => {
  it('are the acknowledged sequence numbers the final writer does not hold', () => {
    const acks = [1, 2, 3, 4].map((seq) => ({ seq, node: seq < 4 ? 'a1' : 'b1', sentAt: seq, ackedAt: seq }));
    expect(missingSeqs(acks, new Set([1, 2, 4, 7]))).toEqual([3]);
    expect(missingSeqs(acks, new Set([1, 2, 3, 4]))).toEqual([]);
  });
});
