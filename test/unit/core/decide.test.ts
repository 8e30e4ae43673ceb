import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/core/decide.js';
import type { CoreConfig } from '../../../src/core/config.js';
import type { Decision } from '../../../src/core/decision.js';
import type { OperationJournal, StepOutcome } from '../../../src/core/operation.js';
import { recordStepOutcome } from '../../../src/core/operation-steps.js';
import type { ClusterSnapshot } from '../../../src/core/snapshot.js';
import {
  channel,
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
  WRITER_DOWN,
  writerDeadNodes,
} from './fixtures.js';

interface Row {
  name: string;
  snap: ClusterSnapshot;
  config?: Partial<CoreConfig>;
  actions: string[];
  reason: string;
}

const dead = writerDeadNodes();

describe('decide: unplanned failover and the rules that hold it back', () => {
  const rows: Row[] = [
    {
      name: 'healthy writer: nothing to do',
      snap: snapshot(),
      actions: [],
      reason: 'writer-healthy',
    },
    {
      name: 'colo a gone (availability): fail over to db-b1 at epoch 6',
      snap: colaAGone(),
      actions: ['fence db-a1'],
      reason: 'writer-dead-quorum',
    },
    {
      name: 'colo a gone (consistency): final GTIDs unknown, wait for an operator',
      snap: colaAGone(),
      config: { policy: 'consistency' },
      actions: [],
      reason: 'skipped-policy-consistency',
    },
    {
      name: 'consistency: guardian fenced the writer and db-b1 holds its final GTIDs',
      snap: colaAGone({
        guardians: guardians({
          a: {
            sessionAlive: false,
            fencedWriter: { node: 'db-a1', epoch: 5, executedGtids: '1-1-100', at: NOW - 5000 },
          },
        }),
      }),
      config: { policy: 'consistency' },
      actions: ['fence db-a1'],
      reason: 'writer-dead-quorum',
    },
    {
      name: 'consistency: guardian fenced the writer but db-b1 lacks some of its transactions',
      snap: colaAGone({
        guardians: guardians({
          a: {
            sessionAlive: false,
            fencedWriter: { node: 'db-a1', epoch: 5, executedGtids: '1-1-120', at: NOW - 5000 },
          },
        }),
      }),
      config: { policy: 'consistency' },
      actions: [],
      reason: 'skipped-policy-consistency',
    },
    {
      name: 'only one observer (of three) sees the writer down: no quorum',
      snap: snapshot({
        reports: [
          report('coord-a', healthyNodes()),
          report('coord-b', dead),
          report('coord-w', healthyNodes()),
        ],
      }),
      actions: [],
      reason: 'no-quorum',
    },
    {
      name: 'WAN cut between a and b: b sees a dead, the witness and a do not',
      snap: snapshot({
        reports: [
          report('coord-a', healthyNodes()),
          report(
            'coord-b',
            withNodes(healthyNodes(), {
              'db-a1': WRITER_DOWN,
              'db-b1': { replication: [channel('db-a1', 'connecting')] },
            }),
          ),
          report('coord-w', healthyNodes()),
        ],
      }),
      actions: [],
      reason: 'no-quorum',
    },
    {
      name: 'down votes from dead coordinators do not count (stale reports)',
      snap: snapshot({
        reports: [
          report('coord-a', healthyNodes()),
          report('coord-b', dead, { receivedAt: NOW - 60_000 }),
          report('coord-w', dead, { sessionAlive: false }),
        ],
      }),
      actions: [],
      reason: 'no-quorum',
    },
    {
      name: 'writer colo coordinator dead but the writer healthy: no failover',
      snap: snapshot({
        reports: [report('coord-b', healthyNodes()), report('coord-w', healthyNodes())],
        guardians: guardians({ a: { sessionAlive: false } }),
      }),
      actions: [],
      reason: 'writer-healthy',
    },
    {
      name: 'a reachable replica still streams from the writer: not dead',
      snap: colaAGone({
        reports: [
          report('coord-b', withNodes(dead, { 'rep-a2': { replication: [channel('db-a1', 'yes')] } })),
          report('coord-w', dead),
        ],
      }),
      actions: [],
      reason: 'writer-alive-per-replicas',
    },
    {
      name: "writer's guardian is alive and sees it up: promotion would risk two writers",
      snap: snapshot({
        // coord-a reaches db-a1 over the colo LAN; the replicas' IO threads happen to be broken.
        reports: [
          report('coord-a', withNodes(dead, { 'db-a1': { ...healthyNodes()[0] } })),
          report('coord-b', dead),
          report('coord-w', dead),
        ],
      }),
      actions: [],
      reason: 'skipped-guardian-alive',
    },
    {
      // A hung server resumes with read_only=OFF: "down" is not "fenced" (found by the simulation).
      name: "writer's guardian is alive and also sees it down, but has not fenced it: wait",
      snap: snapshot({
        reports: [report('coord-a', dead), report('coord-b', dead), report('coord-w', dead)],
      }),
      actions: [],
      reason: 'skipped-guardian-alive',
    },
    {
      name: "writer's guardian is alive and sent it a fence at this epoch: failover, not fenced again",
      snap: snapshot({
        reports: [report('coord-a', dead), report('coord-b', dead), report('coord-w', dead)],
        guardians: guardians({ a: { fenceIssued: { node: 'db-a1', epoch: 5, at: NOW - 100 } } }),
      }),
      actions: ['promote db-b1@6', 'open-writes db-b1@6'],
      reason: 'writer-dead-quorum',
    },
    {
      name: 'consistency: its live guardian fenced it and db-b1 holds the final GTIDs: not fenced again',
      snap: snapshot({
        reports: [report('coord-a', dead), report('coord-b', dead), report('coord-w', dead)],
        guardians: guardians({
          a: { fencedWriter: { node: 'db-a1', epoch: 5, executedGtids: '1-1-100', at: NOW - 100 } },
        }),
      }),
      config: { policy: 'consistency' },
      actions: ['promote db-b1@6', 'open-writes db-b1@6'],
      reason: 'writer-dead-quorum',
    },
    {
      name: "writer's guardian holds it closed as dead: failover, not fenced again",
      snap: snapshot({
        reports: [report('coord-a', dead), report('coord-b', dead), report('coord-w', dead)],
        guardians: guardians({ a: { holding: { node: 'db-a1', epoch: 5, because: 'dead' } } }),
      }),
      actions: ['promote db-b1@6', 'open-writes db-b1@6'],
      reason: 'writer-dead-quorum',
    },
    {
      name: 'a fence sent at an older epoch does not count',
      snap: snapshot({
        reports: [report('coord-a', dead), report('coord-b', dead), report('coord-w', dead)],
        guardians: guardians({ a: { fenceIssued: { node: 'db-a1', epoch: 4, at: NOW - 100 } } }),
      }),
      actions: [],
      reason: 'skipped-guardian-alive',
    },
    {
      name: 'pinned: no automatic failover',
      snap: colaAGone({ pin: { node: 'db-a1', by: 'ops', at: 0, reason: 'pin-requested' } }),
      actions: [],
      reason: 'skipped-pinned',
    },
    {
      name: 'in cooldown: no automatic failover',
      snap: colaAGone({ antiFlap: { cooldownUntil: NOW + 1, failoverTimes: [NOW - 10] } }),
      actions: [],
      reason: 'skipped-cooldown',
    },
    {
      name: 'cooldown over: failover',
      snap: colaAGone({ antiFlap: { cooldownUntil: NOW, failoverTimes: [NOW - 10] } }),
      actions: ['fence db-a1'],
      reason: 'writer-dead-quorum',
    },
    {
      name: 'failover budget exhausted: pin instead',
      snap: colaAGone({ antiFlap: { failoverTimes: [NOW - 3000, NOW - 2000, NOW - 1000] } }),
      actions: [],
      reason: 'flap-budget-exhausted',
    },
    {
      name: 'old failovers left the window: budget available again',
      snap: colaAGone({ antiFlap: { failoverTimes: [NOW - 3_600_001, NOW - 2000, NOW - 1000] } }),
      actions: ['fence db-a1'],
      reason: 'writer-dead-quorum',
    },
    {
      name: 'availability: the candidate lags too much',
      snap: colaAGone({
        reports: [
          report('coord-b', withNodes(dead, { 'db-b1': { lagMs: 60_000 } })),
          report('coord-w', withNodes(dead, { 'db-b1': { lagMs: 60_000 } })),
        ],
      }),
      actions: [],
      reason: 'skipped-lag-too-high',
    },
    {
      name: "the only reachable candidate's colo has no live guardian: nobody could self-fence it",
      snap: colaAGone({ guardians: guardians({ a: { sessionAlive: false }, b: { sessionAlive: false } }) }),
      actions: [],
      reason: 'skipped-target-unguarded',
    },
    {
      name: 'no reachable candidate',
      snap: colaAGone({
        reports: [
          report('coord-b', withNodes(dead, { 'db-b1': WRITER_DOWN })),
          report('coord-w', withNodes(dead, { 'db-b1': WRITER_DOWN })),
        ],
      }),
      actions: [],
      reason: 'skipped-no-candidate',
    },
  ];

  it.each(rows)('$name', ({ snap, config, actions, reason }) => {
    const decision = decide(snap, NOW, { ...CONFIG, ...config });
    expect(summary(decision).filter((a) => !a.startsWith('wait-for-gtids'))).toEqual(actions);
    expect(reasons(decision)).toContain(reason);
  });
});

/** Run an automatic failover past its best-effort fence, which times out on the dead writer. */
function pastFence(
  snap: ClusterSnapshot,
  config: CoreConfig = CONFIG,
  fence: Partial<StepOutcome> = {},
): Decision {
  const first = decide(snap, NOW, config);
  expect(summary(first)).toEqual(['fence db-a1']);
  const op = first.state.operation as OperationJournal;
  const fenced = recordStepOutcome(op, {
    operationId: op.id,
    step: 'fence-old',
    ok: false,
    error: 'DeadlineExceededError',
    ...fence,
  });
  return decide({ ...snap, ...first.state, operation: fenced }, NOW, config);
}

describe('decide: failover after the best-effort fence', () => {
  it.each([
    {
      name: 'fence timed out on the dead writer: promote anyway',
      fence: {},
      actions: ['promote db-b1@6', 'open-writes db-b1@6'],
      reason: 'fence-failed',
    },
    {
      name: 'fence answered (the writer was alive after all): promote, with the exact lost range',
      fence: { ok: true, executedGtids: '1-1-100' },
      actions: ['promote db-b1@6', 'open-writes db-b1@6'],
      reason: 'writer-dead-quorum',
    },
  ])('$name', ({ fence, actions, reason }) => {
    const d = pastFence(colaAGone(), CONFIG, fence);
    expect(summary(d)).toEqual(actions);
    expect([...reasons(d), ...d.actions.map((a) => a.reason)]).toContain(reason);
  });

  it('consistency: a fence that reveals transactions the target lacks makes it wait for them', () => {
    const snap = colaAGone({
      guardians: guardians({
        a: {
          sessionAlive: false,
          fencedWriter: { node: 'db-a1', epoch: 5, executedGtids: '1-1-100', at: NOW - 5000 },
        },
      }),
    });
    const d = pastFence(snap, { ...CONFIG, policy: 'consistency' }, { ok: true, executedGtids: '1-1-104' });
    expect(summary(d)).toEqual(['wait-for-gtids db-b1 1-1-104']);
  });

  it('availability: the fenced set replaces the estimate of what may be lost', () => {
    const d = pastFence(colaAGone(), CONFIG, { ok: true, executedGtids: '1-1-103' });
    expect(d.actions.find((a) => a.type === 'promote')).toMatchObject({ lostGtids: '1-1-101..103' });
  });
});

describe('decide: state it returns', () => {
  it('failover commit starts cooldown, spends budget, quarantines the old writer and journals the operation', () => {
    const decision = pastFence(colaAGone({ antiFlap: { failoverTimes: [] } }));
    const promote = decision.actions.find((a) => a.type === 'promote');
    expect(promote).toMatchObject({
      node: 'db-b1',
      epoch: 6,
      previousEpoch: 5,
      reason: 'writer-dead-quorum',
      lostGtids: '',
    });
    // The commit carries its consequences: the state is the one after it (the loop writes it in
    // the promote's txn), and the target opens in the same decision.
    expect(decision.state.operation).toMatchObject({
      kind: 'failover',
      step: 'open-target',
      from: 'db-a1',
      to: 'db-b1',
      epoch: 6,
    });
    expect(decision.state.antiFlap).toEqual({ cooldownUntil: NOW + CONFIG.cooldownMs, failoverTimes: [NOW] });
    expect(decision.state.quarantine['db-a1']).toMatchObject({ status: 'awaiting-return', epoch: 6 });
    expect(summary(decision)).toEqual(['promote db-b1@6', 'open-writes db-b1@6']);
    expect(decision.actions.find((a) => a.type === 'record-history')).toMatchObject({
      entry: { event: 'promote', epoch: 6, node: 'db-b1', from: 'db-a1' },
    });

    // A journal left at the commit by an older version, with the writer record already at epoch
    // 6, is completed the same way.
    const legacy = {
      ...(decision.state.operation as NonNullable<typeof decision.state.operation>),
      step: 'commit' as const,
    };
    const after = decide(
      colaAGone({
        writer: { node: 'db-b1', epoch: 6, since: NOW, reason: 'writer-dead-quorum' },
        operation: legacy,
      }),
      NOW + 10,
      CONFIG,
    );
    expect(after.state.antiFlap).toEqual({
      cooldownUntil: NOW + 10 + CONFIG.cooldownMs,
      failoverTimes: [NOW + 10],
    });
    expect(after.state.quarantine['db-a1']).toMatchObject({ status: 'awaiting-return', epoch: 6 });
    expect(summary(after)).toEqual(['open-writes db-b1@6']);
    expect(after.state.operation?.step).toBe('open-target');
  });

  it('availability records the possibly lost range from the last GTIDs seen on the dead writer', () => {
    const nodes = withNodes(dead, { 'db-a1': { executedGtids: '1-1-105' } });
    const decision = pastFence(colaAGone({ reports: [report('coord-b', nodes), report('coord-w', nodes)] }));
    expect(decision.actions.find((a) => a.type === 'promote')).toMatchObject({
      node: 'db-b1',
      lostGtids: '1-1-101..105',
    });
  });

  it('budget exhaustion pins the cluster with reason flap-budget-exhausted and records it', () => {
    const decision = decide(
      colaAGone({ antiFlap: { failoverTimes: [NOW - 3, NOW - 2, NOW - 1] } }),
      NOW,
      CONFIG,
    );
    expect(decision.state.pin).toMatchObject({ node: 'db-a1', by: 'auto', reason: 'flap-budget-exhausted' });
    expect(decision.actions).toContainEqual(
      expect.objectContaining({
        type: 'record-history',
        entry: expect.objectContaining({ event: 'pin', reason: 'flap-budget-exhausted' }),
      }),
    );
    expect(decision.events.find((e) => e.reason === 'flap-budget-exhausted')?.level).toBe('alert');
  });

  it('records a standing refusal in history once, not every cycle', () => {
    const first = decide(colaAGone(), NOW, { ...CONFIG, policy: 'consistency' });
    expect(first.actions.filter((a) => a.type === 'record-history')).toHaveLength(1);
    expect(first.state.antiFlap.lastSkip).toEqual({ reason: 'skipped-policy-consistency', since: NOW });
    const second = decide(colaAGone({ antiFlap: first.state.antiFlap }), NOW + 1000, {
      ...CONFIG,
      policy: 'consistency',
    });
    expect(second.actions).toEqual([]);
    expect(reasons(second)).toContain('skipped-policy-consistency');
    // Reports are 1 s old at NOW: the healed view must still be fresh (reportFreshMs 2.5 s).
    const healed = decide(snapshot({ antiFlap: first.state.antiFlap }), NOW + 1200, CONFIG);
    expect(healed.state.antiFlap.lastSkip).toBeUndefined();
  });

  it('is pure: same input, same output, input untouched', () => {
    const snap = colaAGone();
    const frozen = JSON.stringify(snap);
    const a = decide(snap, NOW, CONFIG);
    const b = decide(snap, NOW, CONFIG);
    expect(JSON.stringify(snap)).toBe(frozen);
    expect(a).toEqual(b);
    expect(JSON.parse(JSON.stringify(a.state))).toEqual(a.state);
  });
});
