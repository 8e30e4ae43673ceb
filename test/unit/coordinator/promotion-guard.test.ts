import { describe, expect, it } from 'vitest';
import type { PromoteAction } from '../../../src/core/index.js';
import { clusterKeys } from '../../../src/coordinator/keys.js';
import { promotionPrecondition, PromotionRefusedError } from '../../../src/coordinator/promotion-guard.js';
import type { GuardianRecord, WriterHold } from '../../../src/coordinator/records.js';
import type { StoreView } from '../../../src/coordinator/state-store.js';
import { CLUSTER, COORDINATORS } from '../../sim/world.js';

const keys = clusterKeys('orders');
const promoteB: PromoteAction = {
  type: 'promote',
  node: 'm-b',
  epoch: 6,
  previousEpoch: 5,
  reason: 'writer-dead-quorum',
  message: '',
};

function view(
  guardianA: { holding?: WriterHold; modRevision: number } | undefined,
  writer = 'm-a',
): StoreView {
  const guardians = new Map<string, { record: GuardianRecord; modRevision: number }>();
  if (guardianA) {
    const record: GuardianRecord = { coordinator: 'a', colo: 'a' };
    if (guardianA.holding) record.holding = guardianA.holding;
    guardians.set('a', { record, modRevision: guardianA.modRevision });
  }
  return {
    writer: { node: writer, epoch: 5, since: 0, reason: 'bootstrap-writer' },
    writerModRevision: 10,
    antiFlap: { failoverTimes: [] },
    quarantine: {},
    intents: [],
    reports: new Map(),
    guardians,
    unreadable: [],
  };
}

describe('promotionPrecondition (invariant 4 in the loop)', () => {
  type Stamps = { now: number; heldUntil: (node: string) => number };
  const neverStamped: Stamps = { now: 1000, heldUntil: () => -Infinity };
  const check = (v: StoreView, watchdog: Stamps = neverStamped) =>
    promotionPrecondition(promoteB, v, CLUSTER, COORDINATORS, keys, watchdog);

  it('needs nothing to recommit the same writer', () => {
    expect(check(view(undefined, 'm-b'))).toEqual([]);
  });

  it('accepts a gone guardian, and makes the commit depend on it staying gone', () => {
    expect(check(view(undefined))).toEqual([{ key: keys.guardian('a'), target: 'modRevision', equals: 0 }]);
  });

  it('refuses a gone guardian while a watchdog stamp of ours may still hold the writer open', () => {
    const stamped = (heldUntil: number) => ({
      now: 1000,
      heldUntil: (node: string) => (node === 'm-a' ? heldUntil : -Infinity),
    });
    expect(() => check(view(undefined), stamped(1001))).toThrow(/may keep m-a open for 1 ms more/);
    expect(check(view(undefined), stamped(1000))).toEqual([
      { key: keys.guardian('a'), target: 'modRevision', equals: 0 },
    ]);
  });

  it('does not wait for our stamps when the live guardian holds the writer', () => {
    const stampedLong = { now: 1000, heldUntil: () => 5000 };
    const hold: WriterHold = { node: 'm-a', epoch: 5, because: 'fenced' };
    expect(check(view({ holding: hold, modRevision: 77 }), stampedLong)).toEqual([
      { key: keys.guardian('a'), target: 'modRevision', equals: 77 },
    ]);
  });

  it.each([
    ['fenced', 'fenced'],
    ['operation', 'operation'],
    ['dead', 'dead'],
  ] as const)('accepts a live guardian holding the writer at its epoch (%s)', (_name, because) => {
    const compares = check(view({ holding: { node: 'm-a', epoch: 5, because }, modRevision: 77 }));
    expect(compares).toEqual([{ key: keys.guardian('a'), target: 'modRevision', equals: 77 }]);
  });

  it.each([
    ['no hold', undefined],
    ['a hold at an older epoch', { node: 'm-a', epoch: 4, because: 'fenced' } as WriterHold],
    ['a hold on another node', { node: 'm-b', epoch: 5, because: 'fenced' } as WriterHold],
  ])('refuses a live guardian with %s', (_name, holding) => {
    expect(() => check(view({ ...(holding ? { holding } : {}), modRevision: 77 }))).toThrow(
      PromotionRefusedError,
    );
  });
});
