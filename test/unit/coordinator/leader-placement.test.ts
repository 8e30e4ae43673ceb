import { describe, expect, it } from 'vitest';
import { betterPlacedLeader } from '../../../src/coordinator/leader-placement.js';

const a = { name: 'a', colo: 'a' };
const a2 = { name: 'a2', colo: 'a' };
const b = { name: 'b', colo: 'b' };
const w = { name: 'w', colo: 'w' };

describe('betterPlacedLeader', () => {
  it.each([
    ['leader in the writer colo, others alive', a, 'a', [b, w], 'b'],
    ['only a coordinator of the same colo alive', a, 'a', [a2], undefined],
    ['nobody else alive', a, 'a', [], undefined],
    ['leader outside the writer colo', w, 'a', [a, b], undefined],
    ['no writer record yet', a, undefined, [b, w], undefined],
  ] as const)('%s', (_name, self, writerColo, alive, expected) => {
    expect(betterPlacedLeader({ self, writerColo, alive })?.name).toBe(expected);
  });
});
