import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/core/index.js';
import { ActionExecutor } from '../../../src/coordinator/executor.js';
import { HistoryWriter } from '../../../src/coordinator/history.js';
import { clusterKeys } from '../../../src/coordinator/keys.js';
import { LeaseDeadline } from '../../../src/coordinator/lease-deadline.js';
import type { Clock, Database, Leadership, TxnResult, WatchdogHold } from '../../../src/coordinator/ports.js';
import { WatchdogStamps } from '../../../src/coordinator/watchdog-stamps.js';
import { probeOnlyDatabase } from './probe-only-database.js';

/** A promote's txn that settles when the test says so; every step is logged in order. */
function harness() {
  const steps: string[] = [];
  let settleTxn!: (result: TxnResult) => void;
  const clock: Clock = { now: () => 1_000, wallNow: () => 1_000, sleep: () => Promise.resolve() };
  const leadership: Leadership = {
    key: 'leader',
    createRevision: 1,
    guardedTxn: () => {
      steps.push('promote sent');
      return new Promise<TxnResult>((resolve) => {
        settleTxn = resolve;
      });
    },
    resign: () => Promise.resolve(),
  };
  const b1: Database = {
    ...probeOnlyDatabase(() => Promise.reject(new Error('not probed here'))),
    hasIdleConnection: () => true,
    async openWrites(_deadline, hold?: WatchdogHold, committed?: Promise<void>) {
      steps.push(hold ? `stamp ${hold.holdMs > 0 ? 'with hold' : 'empty'}` : 'no stamp');
      try {
        await committed;
      } catch (error) {
        steps.push('not opened');
        throw error;
      }
      steps.push('read_only=OFF');
    },
  };
  const lease = new LeaseDeadline(clock, () => ({
    leaseId: '1',
    ttlMs: 4_000,
    marginMs: 300,
    validUntil: () => 4_000,
    signal: new AbortController().signal,
    close: () => Promise.resolve(),
  }));
  const keys = clusterKeys('c1');
  const executor = new ActionExecutor(
    keys,
    clock,
    new Map([['b1', b1]]),
    lease,
    new HistoryWriter(keys, clock, 'coord-w'),
    { storeTimeoutMs: () => 500, commandTimeoutMs: 1_000, probeTimeoutMs: 150 },
    () => undefined,
    { stamps: new WatchdogStamps(clock, lease, true), sessionTtlMs: 4_000 },
  );
  const actions: Action[] = [
    { type: 'promote', node: 'b1', epoch: 2, previousEpoch: 1, reason: 'switchover-requested', message: '' },
    { type: 'open-writes', node: 'b1', epoch: 2, reason: 'operation-step', message: '' },
  ];
  const run = executor.executeAll(actions, {
    leadership,
    decidedFrom: [],
    intents: [],
    promotionPrecondition: () => [],
    writer: { node: 'a1', epoch: 1, since: 0, reason: 'bootstrap-writer' },
  });
  return { steps, run, settle: (result: TxnResult) => settleTxn(result) };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('ActionExecutor: the target of a promote', () => {
  it('is stamped while the promote is in flight and opened only after it committed', async () => {
    const { steps, run, settle } = harness();
    await tick();
    expect(steps).toEqual(['stamp with hold', 'promote sent']);
    settle({ succeeded: true, revision: 7 });
    const outcomes = await run;
    expect(steps).toEqual(['stamp with hold', 'promote sent', 'read_only=OFF']);
    expect(outcomes.map((o) => [o.action.type, o.ok])).toEqual([
      ['promote', true],
      ['open-writes', true],
    ]);
  });

  it('is not opened when the promote fails', async () => {
    const { steps, run, settle } = harness();
    await tick();
    settle({ succeeded: false, revision: 7 });
    const outcomes = await run;
    await tick();
    expect(steps).toEqual(['stamp with hold', 'promote sent', 'not opened']);
    expect(outcomes.map((o) => [o.action.type, o.ok])).toEqual([['promote', false]]);
  });
});
