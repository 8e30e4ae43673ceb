import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/core/decide.js';
import { recordStepOutcome } from '../../../src/core/operation-steps.js';
import type { NodeObservation } from '../../../src/core/observation.js';
import type { OperationJournal } from '../../../src/core/operation.js';
import { compareCandidates, rankCandidates } from '../../../src/core/candidates.js';
import { liveReports } from '../../../src/core/health.js';
import { planCatchUp } from '../../../src/core/survivors.js';
import {
  CONFIG,
  NOW,
  actionsOf,
  channel,
  colaAGone,
  report,
  summary,
  withNodes,
  writerDeadNodes,
} from './fixtures.js';

/**
 * db-a1 died. Masters write under domains 1 (db-a1) and 2 (db-b1); replicas under 11 and 21.
 * rep-a2 (same colo as db-a1) received more of db-a1's history than db-b1: `a2` seqs vs `b1`.
 */
function died(a2: number, b1: number, extra: Record<string, Partial<NodeObservation>> = {}) {
  const nodes = withNodes(writerDeadNodes(), {
    'db-a1': { executedGtids: `1-1-${b1},2-2-50`, gtidSource: '1' },
    'db-b1': {
      executedGtids: `1-1-${b1},2-2-50`,
      retrievedGtids: `1-1-${b1}`,
      gtidSource: '2',
      replication: [channel('db-a1', 'connecting', `1-1-${b1}`)],
    },
    'rep-a2': {
      executedGtids: `1-1-${a2},2-2-50`,
      retrievedGtids: `1-1-${a2}`,
      gtidSource: '11',
      replication: [channel('db-a1', 'connecting', `1-1-${a2}`)],
    },
    'rep-b2': { executedGtids: `1-1-${b1},2-2-50`, gtidSource: '21' },
    ...extra,
  });
  return colaAGone({ reports: [report('coord-b', nodes), report('coord-w', nodes)] });
}

function failoverJournal(d: ReturnType<typeof decide>): OperationJournal {
  const j = d.state.operation;
  if (!j) throw new Error('no operation started');
  return j;
}

describe('recovery from the newest surviving data', () => {
  it('a replica ahead of the standby master is the donor: the target catches up from it before it opens', () => {
    const snap = died(135, 100);
    const d = decide(snap, NOW, CONFIG);
    const j = failoverJournal(d);
    expect(j).toMatchObject({ kind: 'failover', to: 'db-b1', donor: 'rep-a2', lostGtids: '' });
    expect(j.requiredGtids).toBe('1-1-135,2-2-50');
    // The fence of the dead writer comes first; then the catch-up.
    expect(summary(d)).toEqual(['fence db-a1']);
    const next = decide(
      { ...snap, operation: recordStepOutcome(j, { operationId: j.id, step: 'fence-old', ok: false }) },
      NOW + 100,
      CONFIG,
    );
    expect(summary(next)).toEqual(['repoint db-b1->rep-a2', 'wait-for-gtids db-b1 1-1-135,2-2-50']);
    expect(actionsOf(next, 'wait-for-gtids')[0]?.stopOnTimeout).toBe(true);

    // The wait answers 340 ms later: the promote's history names the donor and the catch-up time.
    const waiting = next.state.operation!;
    const done = recordStepOutcome(waiting, { operationId: j.id, step: 'wait-catchup', ok: true });
    const commit = decide({ ...snap, operation: done }, NOW + 440, CONFIG);
    expect(actionsOf(commit, 'record-history').map((h) => h.entry.message)).toContain(
      'failover: db-a1 → db-b1 at epoch 6 (caught up from rep-a2 in 340 ms)',
    );
  });

  it('nothing to fetch when the target already has what every survivor holds: no donor, nothing lost', () => {
    const j = failoverJournal(decide(died(100, 100), NOW, CONFIG));
    expect(j.donor).toBeUndefined();
    expect(j.lostGtids).toBe('');
  });

  it("a replica's own (errant) writes are never copied into the new writer", () => {
    const snap = died(100, 100, { 'rep-a2': { executedGtids: '1-1-100,2-2-50,11-12-3', gtidSource: '11' } });
    const j = failoverJournal(decide(snap, NOW, CONFIG));
    expect(j.donor).toBeUndefined();
    expect(j.requiredGtids ?? '').not.toContain('11-');
  });

  it('the lost range names what no survivor holds: the writer was seen further than anyone received', () => {
    const snap = died(120, 100);
    // An earlier report still carries db-a1's last executed set, 1-1-130.
    const seenBefore = report(
      'coord-a',
      withNodes(writerDeadNodes(), { 'db-a1': { executedGtids: '1-1-130' } }),
      {
        sessionAlive: false,
      },
    );
    const j = failoverJournal(decide({ ...snap, reports: [...snap.reports, seenBefore] }, NOW, CONFIG));
    expect(j.donor).toBe('rep-a2');
    expect(j.lostGtids).toBe('1-1-121..130');
  });

  it("a quarantined replica still donates the masters' history it holds, filtered to the masters' domains", () => {
    const snap = died(135, 100, { 'rep-a2': { executedGtids: '1-1-135,2-2-50,11-12-3', gtidSource: '11' } });
    const quarantined = {
      ...snap,
      quarantine: {
        'rep-a2': {
          node: 'rep-a2',
          since: NOW - 1000,
          epoch: 5,
          status: 'errant' as const,
          errantGtids: '11-12-3',
        },
      },
    };
    const d = decide(quarantined, NOW, CONFIG);
    const j = failoverJournal(d);
    expect(j).toMatchObject({ donor: 'rep-a2', lostGtids: '' });
    expect(j.requiredGtids ?? '').not.toContain('11-');
    const next = decide(
      {
        ...quarantined,
        operation: recordStepOutcome(j, { operationId: j.id, step: 'fence-old', ok: false }),
      },
      NOW + 100,
      CONFIG,
    );
    expect(actionsOf(next, 'repoint')[0]).toMatchObject({
      replica: 'db-b1',
      source: 'rep-a2',
      onlyKeys: ['1', '2'],
    });
  });

  it("a replica with errant writes inside the masters' domains donates nothing: what only it holds is lost", () => {
    const snap = died(135, 100);
    const errant = {
      ...snap,
      quarantine: {
        'rep-a2': {
          node: 'rep-a2',
          since: NOW - 1000,
          epoch: 5,
          status: 'errant' as const,
          errantGtids: '2-2-51',
        },
      },
    };
    const j = failoverJournal(decide(errant, NOW, CONFIG));
    expect(j.donor).toBeUndefined();
    expect(j.lostGtids).toBe('1-1-101..135');
  });

  it('an ex-writer awaiting its check is no survivor: nothing it holds is known to be history', () => {
    const snap = died(100, 100, { 'rep-b2': { executedGtids: '1-1-100,2-2-50,3-3-9', gtidSource: '21' } });
    const awaiting = {
      ...snap,
      quarantine: {
        'rep-b2': { node: 'rep-b2', since: NOW - 1000, epoch: 5, status: 'awaiting-return' as const },
      },
    };
    const j = failoverJournal(decide(awaiting, NOW, CONFIG));
    expect(j.donor).toBeUndefined();
    expect(j.requiredGtids ?? '').not.toContain('3-3-9');
  });

  it('availability: a catch-up that stops short commits with exactly what the target lacks', () => {
    const snap = died(135, 100);
    const first = failoverJournal(decide(snap, NOW, CONFIG));
    const catchingUp: OperationJournal = { ...first, step: 'wait-catchup', stepStartedAt: NOW };
    // The wait gave up at db-b1 = 1-1-120: replication stopped there, 121..135 are lost.
    const stopped = recordStepOutcome(catchingUp, {
      operationId: first.id,
      step: 'wait-catchup',
      ok: false,
      executedGtids: '1-1-120,2-2-50',
    });
    const d = decide({ ...snap, operation: stopped }, NOW + 500, CONFIG);
    expect(actionsOf(d, 'promote')[0]?.lostGtids).toBe('1-1-121..135');
    expect(d.events.map((e) => e.reason)).toContain('catchup-timeout');
  });

  it('consistency: the target may get the final GTIDs from a donor, and then fails over', () => {
    const snap = died(135, 100);
    const fencedByGuardian = {
      ...snap,
      guardians: {
        ...snap.guardians,
        a: {
          coordinator: 'coord-a',
          sessionAlive: false,
          fencedWriter: { node: 'db-a1', epoch: 5, executedGtids: '1-1-135,2-2-50', at: NOW - 10 },
        },
      },
    };
    const j = failoverJournal(decide(fencedByGuardian, NOW, { ...CONFIG, policy: 'consistency' }));
    expect(j).toMatchObject({ to: 'db-b1', donor: 'rep-a2', requiredGtids: '1-1-135,2-2-50', lostGtids: '' });
  });

  it('ranks a candidate that can be made complete before a higher-priority one that cannot', () => {
    const snap = died(135, 100);
    const [b1] = rankCandidates(snap, liveReports(snap, NOW, CONFIG), 'db-a1');
    expect(b1?.completable).toBe(true);
    const spec = { ...b1!.spec, name: 'db-c1', colo: 'c', priority: 1000 };
    const incomplete = { ...b1!, spec, completable: false };
    expect([incomplete, b1!].sort(compareCandidates).map((c) => c.spec.name)).toEqual(['db-b1', 'db-c1']);
    // Without a donor for what db-b1 lacks it would not be complete.
    const alone = died(135, 100, { 'rep-a2': { reachable: false, health: 'down' } });
    const view = rankCandidates(alone, liveReports(alone, NOW, CONFIG), 'db-a1')[0];
    expect(view?.completable).toBe(true); // nobody reachable holds more than it: nothing to get
    expect(planCatchUp(alone, liveReports(alone, NOW, CONFIG), view!, 'db-a1').donor).toBeUndefined();
  });
});

describe('consistency on semi-sync evidence (the old writer died unfenced)', () => {
  const semi = (over: Partial<NodeObservation['semiSync'] & object> = {}) => ({
    masterEnabled: true,
    masterOn: true,
    clients: 1,
    unackedCommits: 0,
    fallbacks: 0,
    waitPoint: 'AFTER_SYNC',
    timeoutMs: 1000,
    replicaEnabled: true,
    ...over,
  });
  /** db-a1 last seen at 5000 with semi-sync as given, unreachable since `since`; rep-a2 ACKs it. */
  function deadOnSemiSync(writerSemi: ReturnType<typeof semi>, since: number, a2Reachable = true) {
    return died(135, 100, {
      'db-a1': {
        executedGtids: '1-1-100,2-2-50',
        gtidSource: '1',
        semiSync: writerSemi,
        lastSeenAt: 5000,
        unreachableSince: since,
      },
      'rep-a2': {
        executedGtids: '1-1-135,2-2-50',
        retrievedGtids: '1-1-135',
        gtidSource: '11',
        semiSync: semi({ masterEnabled: false, masterOn: false }),
        replication: [channel('db-a1', 'connecting', '1-1-135')],
        ...(a2Reachable ? {} : { reachable: false, health: 'down' as const }),
      },
    });
  }
  const consistency = { ...CONFIG, policy: 'consistency' as const };

  it('semi-sync on, and the writer died within its timeout: fail over, catching up from the ACKer', () => {
    const snap = deadOnSemiSync(semi(), 5200);
    const d = decide(snap, NOW, consistency);
    const j = failoverJournal(d);
    expect(j).toMatchObject({ to: 'db-b1', donor: 'rep-a2', lostGtids: '', onSemiSync: true });
    expect(j.requiredGtids).toBe('1-1-135,2-2-50');
    // The dead writer's fence fails, as it must: the plan does not rest on its final set.
    const failed = recordStepOutcome(j, {
      operationId: j.id,
      step: 'fence-old',
      ok: false,
      error: 'ECONNRESET',
    });
    const next = decide({ ...snap, operation: failed }, NOW + 100, consistency);
    expect(summary(next)).toEqual(['repoint db-b1->rep-a2', 'wait-for-gtids db-b1 1-1-135,2-2-50']);
  });

  it.each([
    {
      name: 'it had fallen back to async',
      writer: semi({ masterOn: false }),
      since: 5200,
      a2: true,
      why: /fallen back/,
    },
    { name: 'it had no ACKer', writer: semi({ clients: 0 }), since: 5200, a2: true, why: /fallen back/ },
    {
      name: 'it waited at AFTER_COMMIT',
      writer: semi({ waitPoint: 'AFTER_COMMIT' }),
      since: 5200,
      a2: true,
      why: /AFTER_SYNC/,
    },
    {
      name: 'it went silent no sooner than its timeout',
      writer: semi(),
      since: 6500,
      a2: true,
      why: /timeout/,
    },
    {
      name: 'the ACKer is not reachable',
      writer: semi(),
      since: 5200,
      a2: false,
      why: /rep-a2.*not reachable/,
    },
  ])('waits, and says why, when $name', ({ writer, since, a2, why }) => {
    const d = decide(deadOnSemiSync(writer, since, a2), NOW, consistency);
    expect(d.state.operation).toBeUndefined();
    const skip = d.events.find((e) => e.reason === 'skipped-policy-consistency');
    expect(skip?.message).toMatch(why);
  });
});
