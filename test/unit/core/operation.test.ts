import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/core/decide.js';
import type { OperationJournal, StepOutcome } from '../../../src/core/operation.js';
import { recordStepOutcome } from '../../../src/core/operation-steps.js';
import type { SwitchoverIntent } from '../../../src/core/intent.js';
import type { ClusterSnapshot } from '../../../src/core/snapshot.js';
import {
  actionsOf,
  colaAGone,
  CONFIG,
  guardians,
  healthyNodes,
  NOW,
  reasons,
  report,
  snapshot,
  summary,
  withNodes,
} from './fixtures.js';

const SWITCHOVER: SwitchoverIntent = {
  id: 'i-1',
  kind: 'switchover',
  target: 'db-b1',
  by: 'ops@host',
  at: 1,
  status: 'pending',
};

function journal(over: Partial<OperationJournal> = {}): OperationJournal {
  return {
    id: 'switchover-6-1',
    kind: 'switchover',
    reason: 'switchover-requested',
    intentId: 'i-1',
    from: 'db-a1',
    to: 'db-b1',
    previousEpoch: 5,
    epoch: 6,
    step: 'fence-old',
    startedAt: NOW,
    stepStartedAt: NOW,
    acceptDataLoss: false,
    automatic: false,
    requestedBy: 'ops@host',
    ...over,
  };
}

function outcome(j: OperationJournal, over: Partial<StepOutcome> = {}): OperationJournal {
  return recordStepOutcome(j, { operationId: j.id, step: j.step, ok: true, ...over });
}

const inProgress: SwitchoverIntent = { ...SWITCHOVER, status: 'in-progress' };
/** The old writer's guardian has seen the journal and holds db-a1 closed at epoch 5. */
const HOLDING = guardians({ a: { holding: { node: 'db-a1', epoch: 5, because: 'operation' } } });
const withOp = (op: OperationJournal, over: Partial<ClusterSnapshot> = {}): ClusterSnapshot =>
  snapshot({ operation: op, intents: [inProgress], guardians: HOLDING, ...over });

describe('switchover step machine', () => {
  it("starts by journalling and waiting for the old writer's guardian to promise it stays closed", () => {
    const d = decide(snapshot({ intents: [SWITCHOVER] }), NOW, CONFIG);
    expect(summary(d)).toEqual(['resolve-intent i-1 in-progress']);
    expect(d.state.operation).toMatchObject({ kind: 'switchover', step: 'fence-old', from: 'db-a1' });
    expect(reasons(d)).toContain('skipped-guardian-alive');
  });

  it('fences once the guardian holds it: that round trip falls before the write gap', () => {
    const d = decide(withOp(journal()), NOW + 50, CONFIG);
    expect(summary(d)).toEqual(['fence db-a1']);
  });

  it('gives up unfenced when the guardian never promises', () => {
    const d = decide(
      withOp(journal(), { guardians: guardians() }),
      NOW + CONFIG.catchupTimeoutMs + 1,
      CONFIG,
    );
    expect(actionsOf(d, 'fence')).toEqual([]);
    expect(reasons(d)).toContain('skipped-guardian-alive');
    expect(d.state.operation).toBeUndefined();
  });

  it('starts by marking the intent in progress, and fences at once when the guardian already holds', () => {
    const d = decide(snapshot({ intents: [SWITCHOVER], guardians: HOLDING }), NOW, CONFIG);
    expect(summary(d)).toEqual(['resolve-intent i-1 in-progress', 'fence db-a1']);
    expect(d.state.operation).toMatchObject({
      kind: 'switchover',
      step: 'fence-old',
      from: 'db-a1',
      to: 'db-b1',
      epoch: 6,
      previousEpoch: 5,
    });
    expect(reasons(d)).toContain('switchover-requested');
  });

  it.each([
    {
      name: 'fence done, target already has the fenced GTIDs: commit and open at once',
      op: outcome(journal(), { executedGtids: '1-1-100' }),
      now: NOW + 50,
      actions: ['promote db-b1@6', 'open-writes db-b1@6'],
      step: 'open-target',
    },
    {
      name: 'fence done, target behind: wait for the fenced GTIDs',
      op: outcome(journal(), { executedGtids: '1-1-110' }),
      now: NOW + 50,
      actions: ['wait-for-gtids db-b1 1-1-110'],
      step: 'wait-catchup',
    },
    {
      name: 'fence failed: nothing to reopen, aborted',
      op: outcome(journal(), { ok: false, error: 'ETIMEDOUT' }),
      now: NOW + 50,
      actions: ['resolve-intent i-1 failed'],
      step: undefined,
    },
    {
      name: 'fence outcome never recorded (leader died): re-issue the idempotent fence',
      op: journal(),
      now: NOW + 50,
      actions: ['fence db-a1'],
      step: 'fence-old',
    },
    {
      name: 'catch-up confirmed: commit and open',
      op: outcome(journal({ step: 'wait-catchup', fencedGtids: '1-1-110', requiredGtids: '1-1-110' })),
      now: NOW + 50,
      actions: ['promote db-b1@6', 'open-writes db-b1@6'],
      step: 'open-target',
    },
    {
      name: 'catch-up failed: roll back by reopening the old writer at the old epoch',
      op: outcome(journal({ step: 'wait-catchup', fencedGtids: '1-1-110', requiredGtids: '1-1-110' }), {
        ok: false,
      }),
      now: NOW + 50,
      actions: ['open-writes db-a1@5'],
      step: 'rolling-back',
    },
    {
      name: 'catch-up deadline passed without an outcome (new leader): roll back',
      op: journal({ step: 'wait-catchup', fencedGtids: '1-1-110', requiredGtids: '1-1-110' }),
      now: NOW + CONFIG.catchupTimeoutMs + 1,
      actions: ['open-writes db-a1@5'],
      step: 'rolling-back',
    },
    {
      name: 'catch-up pending: the wait is bounded by what is left of the timeout',
      op: journal({ step: 'wait-catchup', fencedGtids: '1-1-110', requiredGtids: '1-1-110' }),
      now: NOW + 4000,
      actions: ['wait-for-gtids db-b1 1-1-110'],
      step: 'wait-catchup',
    },
    {
      name: 'rollback done: intent failed, journal cleared',
      op: outcome(journal({ step: 'rolling-back', fencedGtids: '1-1-110' })),
      now: NOW + 50,
      actions: ['resolve-intent i-1 failed'],
      step: undefined,
    },
  ])('$name', ({ op, now, actions, step }) => {
    const d = decide(withOp(op), now, CONFIG);
    expect(summary(d)).toEqual(actions);
    expect(d.state.operation?.step).toBe(step);
  });

  it("waits at the commit until the old writer's guardian holds it closed (a late reopen could land after our fence)", () => {
    const op = journal({ step: 'commit', fencedGtids: '1-1-100', requiredGtids: '1-1-100' });
    const waiting = decide(withOp(op, { guardians: guardians() }), NOW + 50, CONFIG);
    expect(summary(waiting)).toEqual([]);
    expect(reasons(waiting)).toContain('skipped-guardian-alive');
    expect(waiting.state.operation?.step).toBe('commit');
    const gaveUp = decide(withOp(op, { guardians: guardians() }), NOW + CONFIG.catchupTimeoutMs + 1, CONFIG);
    expect(summary(gaveUp)).toEqual(['open-writes db-a1@5']);
    expect(gaveUp.state.operation?.step).toBe('rolling-back');
    const held = decide(withOp(op), NOW + 50, CONFIG);
    expect(summary(held)).toEqual(['promote db-b1@6', 'open-writes db-b1@6']);
  });

  it('a rollback does not reopen a writer its own guardian fenced at that epoch (the fence record would go stale)', () => {
    const op = outcome(journal({ step: 'wait-catchup', fencedGtids: '1-1-110', requiredGtids: '1-1-110' }), {
      ok: false,
    });
    const fencedByGuardian = guardians({
      a: {
        holding: { node: 'db-a1', epoch: 5, because: 'fenced' },
        fencedWriter: { node: 'db-a1', epoch: 5, executedGtids: '1-1-100', at: NOW - 10 },
      },
    });
    const d = decide(withOp(op, { guardians: fencedByGuardian }), NOW + 50, CONFIG);
    expect(summary(d)).toEqual(['resolve-intent i-1 failed']);
    expect(d.state.operation).toBeUndefined();
    expect(d.events.map((e) => e.message).join('\n')).toMatch(
      /db-a1 stays closed, its guardian fenced it at epoch 5/,
    );
    // Without the guardian's record the same rollback reopens it at the old epoch (table above).
    expect(summary(decide(withOp(op), NOW + 50, CONFIG))).toEqual(['open-writes db-a1@5']);
  });

  it("the target's guardian died since the start: roll back rather than make an unguarded writer", () => {
    const op = journal({ step: 'commit', fencedGtids: '1-1-100', requiredGtids: '1-1-100' });
    const noTargetGuardian = guardians({
      a: { holding: { node: 'db-a1', epoch: 5, because: 'operation' } },
      b: { sessionAlive: false },
    });
    const d = decide(withOp(op, { guardians: noTargetGuardian }), NOW + 50, CONFIG);
    expect(summary(d)).toEqual(['open-writes db-a1@5']);
    expect(reasons(d)).toContain('skipped-target-unguarded');
  });

  it('after the commit the leader does not open a target whose guardian is gone', () => {
    const writer = { node: 'db-b1', epoch: 6, since: NOW, reason: 'switchover-requested' as const };
    const d = decide(
      withOp(journal({ step: 'open-target' }), {
        writer,
        guardians: guardians({ b: { sessionAlive: false } }),
      }),
      NOW + 100,
      CONFIG,
    );
    expect(summary(d).filter((a) => a.startsWith('open-writes'))).toEqual([]);
    expect(reasons(d)).toContain('skipped-target-unguarded');
  });

  it('a hold for another epoch is no promise for this one', () => {
    const op = journal({ step: 'commit', fencedGtids: '1-1-100', requiredGtids: '1-1-100' });
    const stale = guardians({ a: { holding: { node: 'db-a1', epoch: 4, because: 'fenced' } } });
    expect(summary(decide(withOp(op, { guardians: stale }), NOW + 50, CONFIG))).toEqual([]);
  });

  it('wait-for-gtids carries the remaining time, not the full timeout', () => {
    const d = decide(
      withOp(journal({ step: 'wait-catchup', requiredGtids: '1-1-110', fencedGtids: '1-1-110' })),
      NOW + 4000,
      CONFIG,
    );
    expect(d.actions[0]).toMatchObject({ type: 'wait-for-gtids', timeoutMs: CONFIG.catchupTimeoutMs - 4000 });
  });

  it('a new leader finds the commit already done: goes forward, opens the target, starts cooldown', () => {
    const writer = { node: 'db-b1', epoch: 6, since: NOW, reason: 'switchover-requested' as const };
    const d = decide(
      withOp(journal({ step: 'commit', fencedGtids: '1-1-100' }), { writer }),
      NOW + 100,
      CONFIG,
    );
    expect(summary(d)).toEqual(['open-writes db-b1@6']);
    expect(d.state.operation?.step).toBe('open-target');
    // Manual change: cooldown yes, failover budget untouched.
    expect(d.state.antiFlap).toEqual({ cooldownUntil: NOW + 100 + CONFIG.cooldownMs, failoverTimes: [] });
    // A clean switchover does not quarantine the old writer.
    expect(d.state.quarantine).toEqual({});
    expect(d.actions.find((a) => a.type === 'record-history')).toMatchObject({
      entry: {
        event: 'promote',
        epoch: 6,
        node: 'db-b1',
        from: 'db-a1',
        by: 'ops@host',
        reason: 'switchover-requested',
      },
    });
  });

  it('another promotion won the epoch: the operation aborts instead of promoting again', () => {
    const writer = { node: 'db-a1', epoch: 7, since: NOW, reason: 'writer-reopen' as const };
    const d = decide(
      withOp(journal({ step: 'commit', fencedGtids: '1-1-100' }), { writer }),
      NOW + 100,
      CONFIG,
    );
    expect(summary(d).filter((a) => a.startsWith('promote'))).toEqual([]);
    expect(reasons(d)).toContain('operation-aborted');
  });

  it('opens the target, then finishes: the old writer already replicates from it', () => {
    const writer = { node: 'db-b1', epoch: 6, since: NOW, reason: 'switchover-requested' as const };
    const d = decide(withOp(outcome(journal({ step: 'open-target' })), { writer }), NOW + 100, CONFIG);
    expect(summary(d)).toEqual(['resolve-intent i-1 done']);
    expect(d.state.operation).toBeUndefined();
    expect(reasons(d)).toContain('operation-completed');
  });

  it('repoints the old writer to the new one when it does not replicate from it yet', () => {
    const writer = { node: 'db-b1', epoch: 6, since: NOW, reason: 'switchover-requested' as const };
    const nodes = withNodes(healthyNodes(), { 'db-a1': { replication: [] } });
    const snap = withOp(journal({ step: 'repoint' }), {
      writer,
      reports: [report('coord-a', nodes), report('coord-b', nodes), report('coord-w', nodes)],
    });
    expect(summary(decide(snap, NOW + 100, CONFIG))).toEqual(['repoint db-a1->db-b1']);
  });

  it('ignores a stale outcome for another step or operation', () => {
    const j = journal({ step: 'wait-catchup' });
    expect(recordStepOutcome(j, { operationId: j.id, step: 'fence-old', ok: true })).toBe(j);
    expect(recordStepOutcome(j, { operationId: 'other', step: 'wait-catchup', ok: true })).toBe(j);
  });

  it('other switchover intents wait while an operation is in flight', () => {
    const second: SwitchoverIntent = { ...SWITCHOVER, id: 'i-2', at: 2 };
    const d = decide(withOp(journal(), { intents: [inProgress, second] }), NOW + 10, CONFIG);
    expect(summary(d)).toEqual(['fence db-a1']);
    expect(reasons(d)).toContain('skipped-operation-in-flight');
  });
});

describe('failover step machine', () => {
  const failover = (over: Partial<OperationJournal> = {}): OperationJournal =>
    journal({
      id: 'failover-6-1',
      kind: 'failover',
      reason: 'writer-dead-quorum',
      automatic: true,
      requestedBy: 'auto',
      step: 'commit',
      ...over,
      intentId: undefined,
    });

  it('a writer down by quorum whose guardian lives: the failover starts, sends no fence, and waits for the guardian', () => {
    const first = decide(colaAGone({ guardians: guardians() }), NOW, CONFIG);
    expect(actionsOf(first, 'fence')).toEqual([]);
    expect(first.state.operation).toMatchObject({ kind: 'failover', step: 'fence-old', from: 'db-a1' });
    expect(reasons(first)).toContain('skipped-guardian-alive');
    const issued = guardians({ a: { fenceIssued: { node: 'db-a1', epoch: 5, at: NOW } } });
    const next = decide(
      colaAGone({ operation: first.state.operation, guardians: issued }),
      NOW + 100,
      CONFIG,
    );
    expect(actionsOf(next, 'fence')).toEqual([]);
    expect(summary(next)).toContain('promote db-b1@6');
  });

  it('a writer seen up again before its guardian fenced it: the failover stops with nothing done', () => {
    const first = decide(colaAGone({ guardians: guardians() }), NOW, CONFIG);
    const back = decide(
      snapshot({ operation: first.state.operation, guardians: guardians() }),
      NOW + 100,
      CONFIG,
    );
    expect(summary(back)).toEqual([]);
    expect(back.state.operation).toBeUndefined();
    expect(reasons(back)).toContain('operation-aborted');
    expect(back.state.antiFlap.failoverTimes).toEqual([]);
  });

  it('fences a writer presumed dead best-effort (a probe deadline); a switchover fences in full', () => {
    const fenceOf = (d: ReturnType<typeof decide>) => actionsOf(d, 'fence')[0];
    expect(fenceOf(decide(colaAGone(), NOW, CONFIG))).toMatchObject({ node: 'db-a1', bestEffort: true });
    const switchoverFence = fenceOf(
      decide(snapshot({ intents: [SWITCHOVER], guardians: HOLDING }), NOW, CONFIG),
    );
    expect(switchoverFence?.node).toBe('db-a1');
    expect(switchoverFence?.bestEffort).toBeUndefined();
  });

  it('aborts an automatic failover before the commit when the cluster got pinned', () => {
    const d = decide(
      colaAGone({ operation: failover(), pin: { by: 'ops', at: 0, reason: 'pin-requested' } }),
      NOW,
      CONFIG,
    );
    expect(summary(d)).toEqual([]);
    expect(reasons(d)).toContain('skipped-pinned');
    expect(d.state.operation).toBeUndefined();
  });

  it('aborts before the commit when the writer is no longer judged dead', () => {
    const d = decide(snapshot({ operation: failover() }), NOW, CONFIG);
    expect(summary(d)).toEqual([]);
    expect(reasons(d)).toContain('operation-aborted');
  });

  it('at the commit, a guardian that came back alive without a hold is waited for (it fences once it sees the journal), then given up on', () => {
    const waiting = decide(colaAGone({ operation: failover(), guardians: guardians() }), NOW, CONFIG);
    expect(summary(waiting)).toEqual([]);
    expect(reasons(waiting)).toContain('skipped-guardian-alive');
    expect(waiting.state.operation?.step).toBe('commit');
    const late = decide(
      colaAGone({ operation: failover(), guardians: guardians() }),
      NOW + CONFIG.catchupTimeoutMs + 1,
      CONFIG,
    );
    expect(late.state.operation).toBeUndefined();
    expect(reasons(late)).toContain('operation-aborted');
  });

  it('re-checks the automatic trigger at the commit: a writer observers see up again stops it', () => {
    const back = snapshot({ operation: failover(), guardians: guardians() });
    const d = decide(back, NOW, CONFIG);
    expect(summary(d)).toEqual([]);
    expect(reasons(d)).toContain('operation-aborted');
    expect(d.state.operation).toBeUndefined();
  });

  it('re-checks invariant 4 at the commit of a forced failover: waits for the guardian, then gives up', () => {
    const forced = failover({ reason: 'forced-failover', automatic: false, acceptDataLoss: true });
    const waiting = decide(colaAGone({ operation: forced, guardians: guardians() }), NOW, CONFIG);
    expect(summary(waiting)).toEqual([]);
    expect(reasons(waiting)).toContain('skipped-guardian-alive');
    const late = decide(
      colaAGone({ operation: forced, guardians: guardians() }),
      NOW + CONFIG.catchupTimeoutMs + 1,
      CONFIG,
    );
    expect(late.state.operation).toBeUndefined();
    expect(reasons(late)).toContain('operation-aborted');
  });

  it('our own successful fence is not enough while the guardian lives: its hold is', () => {
    const fencedByUs = failover({ fencedGtids: '1-1-100' });
    expect(
      summary(decide(colaAGone({ operation: fencedByUs, guardians: guardians() }), NOW, CONFIG)),
    ).toEqual([]);
    const held = guardians({ a: { holding: { node: 'db-a1', epoch: 5, because: 'operation' } } });
    expect(summary(decide(colaAGone({ operation: fencedByUs, guardians: held }), NOW, CONFIG))).toEqual([
      'promote db-b1@6',
      'open-writes db-b1@6',
    ]);
  });

  it('a fenced writer without guardian that got its guardian back is no longer replaced', () => {
    const nodes = withNodes(healthyNodes(), { 'db-a1': { readOnly: false } });
    const op = failover({ reason: 'writer-fenced-no-guardian', fencedGtids: '1-1-100' });
    const d = decide(
      snapshot({
        operation: op,
        reports: [report('coord-a', nodes), report('coord-b', nodes), report('coord-w', nodes)],
      }),
      NOW,
      CONFIG,
    );
    expect(summary(d)).toEqual([]);
    expect(reasons(d)).toContain('operation-aborted');
  });

  it.each([
    {
      name: 'final set from an observation: a failed fence leaves it uncertain, abort',
      fencedWriter: undefined,
      step: undefined,
    },
    {
      name: "final set from the guardian's fence record: continue without our fence",
      fencedWriter: { node: 'db-a1', epoch: 5, executedGtids: '1-1-100', at: NOW - 10 },
      step: 'open-target',
    },
  ])('consistency, best-effort fence failed — $name', ({ fencedWriter, step }) => {
    const op = failover({ step: 'fence-old', fenceBestEffort: true, requiredGtids: '1-1-100' });
    const failed = recordStepOutcome(op, { operationId: op.id, step: 'fence-old', ok: false });
    const d = decide(
      colaAGone({
        operation: failed,
        guardians: guardians({ a: { sessionAlive: false, ...(fencedWriter ? { fencedWriter } : {}) } }),
      }),
      NOW,
      { ...CONFIG, policy: 'consistency' },
    );
    expect(d.state.operation?.step).toBe(step);
    if (!step) expect(reasons(d)).toContain('skipped-policy-consistency');
  });

  it('after the commit: isolates the new writer from the old one and moves its replicas', () => {
    const writer = { node: 'db-b1', epoch: 6, since: NOW, reason: 'writer-dead-quorum' as const };
    const d = decide(colaAGone({ writer, operation: failover({ step: 'repoint' }) }), NOW, CONFIG);
    expect(summary(d)).toEqual(['stop-replication db-b1<-db-a1', 'repoint rep-a2->db-b1']);
  });

  it('counts an automatic failover against the budget once committed', () => {
    const writer = { node: 'db-b1', epoch: 6, since: NOW, reason: 'writer-dead-quorum' as const };
    const d = decide(colaAGone({ writer, operation: failover() }), NOW, CONFIG);
    expect(d.state.antiFlap.failoverTimes).toEqual([NOW]);
    expect(d.state.quarantine['db-a1']?.status).toBe('awaiting-return');
  });
});
