import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/core/decide.js';
import { MAX_INVALID_INTENTS_PER_DECISION } from '../../../src/core/intents.js';
import { recordStepOutcome } from '../../../src/core/operation-steps.js';
import type { Intent } from '../../../src/core/intent.js';
import type { ClusterSnapshot } from '../../../src/core/snapshot.js';
import {
  colaAGone,
  CONFIG,
  healthyNodes,
  guardians,
  NOW,
  reasons,
  report,
  snapshot,
  summary,
  withNodes,
  writerDeadNodes,
} from './fixtures.js';

const base = { by: 'ops@host', at: 1, status: 'pending' as const };
const PINNED = { node: 'db-a1', by: 'auto', at: 0, reason: 'flap-budget-exhausted' as const };

interface Row {
  name: string;
  intent: Intent;
  snap?: (intents: Intent[]) => ClusterSnapshot;
  /** Consistency keeps the automatic failover of a dead writer out of the way. */
  policy?: 'consistency';
  actions: string[];
  reason: string;
}

const rows: Row[] = [
  {
    name: 'pin without a node pins the current writer',
    intent: { ...base, id: 'p', kind: 'pin' },
    actions: ['resolve-intent p done'],
    reason: 'pin-requested',
  },
  {
    name: 'pin naming the other candidate switches to it first',
    intent: { ...base, id: 'p', kind: 'pin', node: 'db-b1' },
    // The fence waits for the old writer's guardian to promise it stays closed (fence-old).
    actions: ['resolve-intent p in-progress'],
    reason: 'pin-switch-requested',
  },
  {
    name: 'unpin',
    intent: { ...base, id: 'u', kind: 'unpin' },
    snap: (intents) => snapshot({ intents, pin: PINNED }),
    actions: ['resolve-intent u done'],
    reason: 'unpin-requested',
  },
  {
    name: 'switchover while pinned is refused',
    intent: { ...base, id: 's', kind: 'switchover' },
    snap: (intents) => snapshot({ intents, pin: PINNED }),
    actions: ['resolve-intent s failed'],
    reason: 'skipped-pinned',
  },
  {
    name: 'switchover to a replica is refused',
    intent: { ...base, id: 's', kind: 'switchover', target: 'rep-b2' },
    actions: ['resolve-intent s failed'],
    reason: 'intent-invalid',
  },
  {
    name: 'switchover to a quarantined node is refused',
    intent: { ...base, id: 's', kind: 'switchover', target: 'db-b1' },
    snap: (intents) =>
      snapshot({ intents, quarantine: { 'db-b1': { node: 'db-b1', since: 0, epoch: 5, status: 'errant' } } }),
    // Upkeep moves rep-b2 off its quarantined source in the same cycle.
    actions: ['resolve-intent s failed', 'repoint rep-b2->db-a1'],
    reason: 'intent-invalid',
  },
  {
    name: 'switchover to a target lagging beyond the catch-up bound is refused before any fence',
    intent: { ...base, id: 's', kind: 'switchover', target: 'db-b1' },
    snap: (intents) => {
      const nodes = withNodes(healthyNodes(), { 'db-b1': { lagMs: CONFIG.catchupTimeoutMs + 1 } });
      return snapshot({
        intents,
        reports: [report('coord-a', nodes), report('coord-b', nodes), report('coord-w', nodes)],
      });
    },
    actions: ['resolve-intent s failed'],
    reason: 'skipped-lag-too-high',
  },
  {
    name: 'forced failover to a quarantined node is refused',
    intent: { ...base, id: 'f', kind: 'failover', acceptDataLoss: true, target: 'db-b1' },
    snap: (intents) =>
      colaAGone({
        intents,
        quarantine: { 'db-b1': { node: 'db-b1', since: 0, epoch: 4, status: 'errant' } },
      }),
    policy: 'consistency',
    actions: ['resolve-intent f failed'],
    reason: 'intent-invalid',
  },
  {
    name: 'switchover to a node whose colo guardian is gone is refused',
    intent: { ...base, id: 's', kind: 'switchover', target: 'db-b1' },
    snap: (intents) => snapshot({ intents, guardians: guardians({ b: { sessionAlive: false } }) }),
    actions: ['resolve-intent s failed'],
    reason: 'skipped-target-unguarded',
  },
  {
    name: 'switchover away from a dead writer is refused (needs a forced failover)',
    intent: { ...base, id: 's', kind: 'switchover' },
    snap: (intents) => colaAGone({ intents }),
    policy: 'consistency',
    actions: ['resolve-intent s failed'],
    reason: 'intent-invalid',
  },
  {
    name: 'switchover without target picks the best other candidate',
    intent: { ...base, id: 's', kind: 'switchover' },
    actions: ['resolve-intent s in-progress'],
    reason: 'switchover-requested',
  },
  {
    name: 'forced failover without --accept-data-loss is refused',
    intent: { ...base, id: 'f', kind: 'failover', acceptDataLoss: false },
    snap: (intents) => colaAGone({ intents }),
    policy: 'consistency',
    actions: ['resolve-intent f failed'],
    reason: 'intent-invalid',
  },
  {
    name: 'forced failover of a dead writer while auto-pinned: promote at once',
    intent: { ...base, id: 'f', kind: 'failover', acceptDataLoss: true },
    snap: (intents) => colaAGone({ intents, pin: PINNED }),
    actions: ['resolve-intent f in-progress', 'fence db-a1'],
    reason: 'forced-failover',
  },
  {
    name: 'forced failover of a reachable writer fences it first, once its guardian holds it',
    intent: { ...base, id: 'f', kind: 'failover', acceptDataLoss: true },
    snap: (intents) =>
      snapshot({
        intents,
        guardians: guardians({ a: { holding: { node: 'db-a1', epoch: 5, because: 'operation' } } }),
      }),
    actions: ['resolve-intent f in-progress', 'fence db-a1'],
    reason: 'forced-failover',
  },
  {
    name: 'forced failover cannot bypass a live guardian: it starts, sends no fence, and waits for the guardian',
    intent: { ...base, id: 'f', kind: 'failover', acceptDataLoss: true },
    snap: (intents) => {
      const gone = writerDeadNodes();
      const guardianView = withNodes(gone, { 'db-a1': { reachable: true, health: 'up' } });
      // The guardian's own report is stale, so no live observer reaches the writer, yet the
      // guardian's session is alive: it may still be serving writes there.
      return snapshot({
        intents,
        reports: [
          report('coord-a', guardianView, { receivedAt: NOW - 60_000 }),
          report('coord-b', gone),
          report('coord-w', gone),
        ],
        guardians: guardians(),
      });
    },
    actions: ['resolve-intent f in-progress'],
    reason: 'skipped-guardian-alive',
  },
  {
    name: 'rejoin a node that is not quarantined is refused',
    intent: { ...base, id: 'r', kind: 'rejoin', node: 'db-b1' },
    actions: ['resolve-intent r failed'],
    reason: 'intent-invalid',
  },
  {
    name: 'rejoin of an errant node the operator cleaned up',
    intent: { ...base, id: 'r', kind: 'rejoin', node: 'db-b1' },
    snap: (intents) =>
      snapshot({
        intents,
        quarantine: {
          'db-b1': { node: 'db-b1', since: 0, epoch: 5, status: 'errant', errantGtids: '2-2-1' },
        },
      }),
    actions: ['repoint db-b1->db-a1', 'repoint db-a1->db-b1', 'resolve-intent r done'],
    reason: 'rejoin-requested',
  },
  {
    name: 'an invalid intent is failed with its problem, and nothing else happens',
    intent: { ...base, id: 'x', kind: 'invalid', problem: 'target: expected a node name' },
    actions: ['resolve-intent x failed'],
    reason: 'intent-invalid',
  },
  {
    name: 'an intent left in progress without an operation is failed',
    intent: { ...base, id: 's', kind: 'switchover', status: 'in-progress' },
    actions: ['resolve-intent s failed'],
    reason: 'intent-superseded',
  },
];

describe('decide: intents', () => {
  it.each(rows)('$name', ({ intent, snap, policy, actions, reason }) => {
    const s = snap ? snap([intent]) : snapshot({ intents: [intent] });
    const d = decide(s, NOW, policy ? { ...CONFIG, policy } : CONFIG);
    expect(summary(d).filter((a) => !a.startsWith('wait-for-gtids'))).toEqual(actions);
    expect(reasons(d)).toContain(reason);
  });

  it('an invalid intent is answered with its problem; a resolved one is left alone', () => {
    const problem = 'acceptDataLoss: expected true or false';
    const d = decide(
      snapshot({
        intents: [
          { ...base, id: 'x', kind: 'invalid', problem },
          { ...base, id: 'y', kind: 'invalid', problem, status: 'failed' },
        ],
      }),
      NOW,
      CONFIG,
    );
    expect(d.actions.filter((a) => a.type === 'resolve-intent')).toEqual([
      {
        type: 'resolve-intent',
        intentId: 'x',
        status: 'failed',
        reason: 'intent-invalid',
        message: `not a request baton can act on: ${problem}`,
      },
    ]);
    expect(d.state.operation).toBeUndefined();
  });

  it(`marks at most ${MAX_INVALID_INTENTS_PER_DECISION} invalid intents per decision, oldest first, and still acts on a valid one`, () => {
    const invalid: Intent[] = Array.from({ length: MAX_INVALID_INTENTS_PER_DECISION + 5 }, (_, i) => ({
      ...base,
      id: `x${String(i).padStart(2, '0')}`,
      at: i,
      kind: 'invalid',
      problem: '(top level): not JSON',
    }));
    const d = decide(
      snapshot({ intents: [...invalid.reverse(), { ...base, id: 'p', kind: 'pin', at: 100 }] }),
      NOW,
      CONFIG,
    );
    const resolved = summary(d).filter((a) => a.startsWith('resolve-intent'));
    expect(resolved).toEqual([
      ...Array.from(
        { length: MAX_INVALID_INTENTS_PER_DECISION },
        (_, i) => `resolve-intent x${String(i).padStart(2, '0')} failed`,
      ),
      'resolve-intent p done',
    ]);
  });

  it('pin state names the writer and who asked; unpin clears it and resets the failover budget', () => {
    const pinned = decide(snapshot({ intents: [{ ...base, id: 'p', kind: 'pin' }] }), NOW, CONFIG);
    expect(pinned.state.pin).toMatchObject({ node: 'db-a1', by: 'ops@host', reason: 'pin-requested' });
    const unpinned = decide(
      snapshot({
        intents: [{ ...base, id: 'u', kind: 'unpin' }],
        pin: PINNED,
        antiFlap: { cooldownUntil: NOW + 5, failoverTimes: [NOW - 1] },
      }),
      NOW,
      CONFIG,
    );
    expect(unpinned.state.pin).toBeUndefined();
    expect(unpinned.state.antiFlap).toEqual({ cooldownUntil: NOW + 5, failoverTimes: [] });
  });

  it('a pin-to-node switchover pins the new writer once done', () => {
    const started = decide(
      snapshot({ intents: [{ ...base, id: 'p', kind: 'pin', node: 'db-b1' }] }),
      NOW,
      CONFIG,
    );
    const op = started.state.operation;
    expect(op?.pinOnCompletion).toBe(true);
    const writer = { node: 'db-b1', epoch: 6, since: NOW, reason: 'pin-switch-requested' as const };
    const done = decide(
      snapshot({
        writer,
        operation: { ...op!, step: 'done' },
        intents: [{ ...base, id: 'p', kind: 'pin', node: 'db-b1', status: 'in-progress' }],
      }),
      NOW + 100,
      CONFIG,
    );
    expect(done.state.pin).toMatchObject({ node: 'db-b1', by: 'ops@host' });
    expect(summary(done)).toEqual(['resolve-intent p done']);
  });

  it('forced failover records the possibly lost range and ignores the lag limit', () => {
    const nodes = withNodes(writerDeadNodes(), {
      'db-a1': { executedGtids: '1-1-130' },
      'db-b1': { lagMs: 600_000 },
    });
    const snap = colaAGone({
      intents: [{ ...base, id: 'f', kind: 'failover', acceptDataLoss: true }],
      reports: [report('coord-b', nodes), report('coord-w', nodes)],
    });
    const first = decide(snap, NOW, CONFIG);
    const op = first.state.operation!;
    // The writer is unreachable: its fence is best effort.
    expect(op.fenceBestEffort).toBe(true);
    const fenceTimedOut = recordStepOutcome(op, { operationId: op.id, step: 'fence-old', ok: false });
    const d = decide(
      {
        ...snap,
        intents: [{ ...base, id: 'f', kind: 'failover', acceptDataLoss: true, status: 'in-progress' }],
        operation: fenceTimedOut,
      },
      NOW,
      CONFIG,
    );
    expect(d.actions.find((a) => a.type === 'promote')).toMatchObject({
      node: 'db-b1',
      reason: 'forced-failover',
      lostGtids: '1-1-101..130',
    });
  });

  it('processes intents oldest first', () => {
    const d = decide(
      snapshot({
        intents: [
          { ...base, id: 'later', kind: 'unpin', at: 5 },
          { ...base, id: 'first', kind: 'pin', at: 2 },
        ],
      }),
      NOW,
      CONFIG,
    );
    expect(summary(d)).toEqual(['resolve-intent first done', 'resolve-intent later done']);
    expect(d.state.pin).toBeUndefined();
  });
});
