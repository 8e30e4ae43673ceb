import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/core/decide.js';
import type { NodeObservation } from '../../../src/core/observation.js';
import type { ClusterSnapshot } from '../../../src/core/snapshot.js';
import {
  CONFIG,
  NOW,
  actionsOf,
  channel,
  healthyNodes,
  report,
  snapshot,
  summary,
  withNodes,
} from './fixtures.js';

/** Every observer sees the same nodes, in reports fresh at `at`; the writer db-a1 writes under domain 1. */
function seen(
  patch: Record<string, Partial<NodeObservation>>,
  over: Partial<ClusterSnapshot> = {},
  at = NOW,
) {
  const nodes = withNodes(healthyNodes(), { 'db-a1': { gtidSource: '1' }, ...patch });
  return snapshot({
    reports: ['coord-a', 'coord-b', 'coord-w'].map((c) => report(c, nodes, { receivedAt: at - 100 })),
    ...over,
  });
}

const duplicateKey = {
  thread: 'sql' as const,
  errno: 1062,
  message: "Could not execute Write_rows_v1 event on table app.writes; Duplicate entry '5' for key 'PRIMARY'",
};

function history(d: ReturnType<typeof decide>) {
  return actionsOf(d, 'record-history').map((a) => a.entry);
}

describe('broken replication', () => {
  it('is recorded once with the node, thread, error number and text, and its end once', () => {
    const broken = { ...channel('db-a1'), sqlRunning: false, error: duplicateKey };
    const first = decide(seen({ 'rep-a2': { replication: [broken] } }), NOW, CONFIG);
    expect(first.state.replicas?.broken['rep-a2']).toMatchObject({ thread: 'sql', errno: 1062, since: NOW });
    expect(history(first)).toEqual([
      expect.objectContaining({
        event: 'replication-broken',
        node: 'rep-a2',
        message: expect.stringContaining('1062'),
      }),
    ]);

    const still = decide(
      seen({ 'rep-a2': { replication: [broken] } }, { replicas: first.state.replicas }),
      NOW + 200,
      CONFIG,
    );
    expect(history(still)).toEqual([]);
    expect(still.events.map((e) => e.reason)).toContain('replication-broken');

    const fixed = decide(seen({}, { replicas: first.state.replicas }), NOW + 400, CONFIG);
    expect(fixed.state.replicas).toBeUndefined();
    expect(history(fixed)).toEqual([
      expect.objectContaining({ event: 'replication-restored', node: 'rep-a2' }),
    ]);
  });

  it('ranks a candidate whose replication is broken after one whose is not', () => {
    const broken = { ...channel('db-a1'), sqlRunning: false, error: duplicateKey };
    const d = decide(seen({ 'db-b1': { replication: [broken] } }), NOW, CONFIG);
    expect(d.state.replicas?.broken['db-b1']?.errno).toBe(1062);
  });
});

describe('divergence', () => {
  const diverged = { executedGtids: '1-1-100,11-12-3' };

  it('a server holding what the writer lacks is quarantined once that lasts a report window', () => {
    const first = decide(seen({ 'rep-a2': diverged }), NOW, CONFIG);
    expect(first.state.replicas?.diverging['rep-a2']).toEqual({ errantGtids: '11-12-3', since: NOW });
    expect(first.state.quarantine['rep-a2']).toBeUndefined();

    const at = NOW + CONFIG.reportFreshMs;
    const later = decide(seen({ 'rep-a2': diverged }, { replicas: first.state.replicas }, at), at, CONFIG);
    expect(later.state.quarantine['rep-a2']).toMatchObject({ status: 'errant', errantGtids: '11-12-3' });
    expect(later.state.replicas).toBeUndefined();
    expect(history(later)).toEqual([
      expect.objectContaining({
        event: 'quarantine',
        reason: 'replica-diverged',
        node: 'rep-a2',
        errantGtids: '11-12-3',
      }),
    ]);
    // A replica feeds nothing: nothing to stop.
    expect(summary(later)).toEqual([]);
  });

  it('a divergence that goes away (a report that crossed a write in flight) is forgotten', () => {
    const first = decide(seen({ 'rep-a2': diverged }), NOW, CONFIG);
    const at = NOW + CONFIG.reportFreshMs;
    const gone = decide(seen({}, { replicas: first.state.replicas }, at), at, CONFIG);
    expect(gone.state.quarantine['rep-a2']).toBeUndefined();
    expect(gone.state.replicas).toBeUndefined();
  });

  it("the writer's own newest writes seen on a replica first are lag, not divergence", () => {
    const d = decide(seen({ 'rep-a2': { executedGtids: '1-1-103' } }), NOW, CONFIG);
    expect(d.state.replicas).toBeUndefined();
  });

  it('a diverged standby master stops feeding the writer', () => {
    const first = decide(seen({ 'db-b1': { executedGtids: '1-1-100,2-2-7' } }), NOW, CONFIG);
    const at = NOW + CONFIG.reportFreshMs;
    const later = decide(
      seen({ 'db-b1': { executedGtids: '1-1-100,2-2-7' } }, { replicas: first.state.replicas }, at),
      at,
      CONFIG,
    );
    expect(later.state.quarantine['db-b1']?.status).toBe('errant');
    // Its replica, which holds none of it, follows the writer instead.
    expect(summary(later)).toEqual(['stop-replication db-a1<-db-b1', 'repoint rep-b2->db-a1']);
  });

  it('a replica the writer lacks transactions of is never repointed at the writer (it would fail with 1236)', () => {
    // rep-a2 lost its source (b1 now writer elsewhere in spirit): it follows db-b1, which is
    // behind it in domain 1.
    const d = decide(
      seen(
        {
          'rep-a2': { executedGtids: '1-1-120', replication: [channel('db-b1')] },
        },
        { writer: { node: 'db-a1', epoch: 5, since: 0, reason: 'bootstrap-writer' } },
      ),
      NOW,
      CONFIG,
    );
    expect(summary(d)).not.toContain('repoint rep-a2->db-a1');
  });
});

describe('semi-sync on the writer', () => {
  const on = {
    masterEnabled: true,
    masterOn: true,
    clients: 1,
    unackedCommits: 0,
    fallbacks: 0,
    waitPoint: 'AFTER_SYNC',
    timeoutMs: 1000,
    replicaEnabled: false,
  };

  it('a fall back to async is a warning and one history entry; its return one more', () => {
    const fell = decide(seen({ 'db-a1': { semiSync: { ...on, masterOn: false, clients: 0 } } }), NOW, CONFIG);
    expect(history(fell)).toEqual([expect.objectContaining({ event: 'semi-sync-fallback', node: 'db-a1' })]);
    expect(fell.state.replicas?.semiSyncOff?.['db-a1']).toEqual({ since: NOW, clients: 0 });

    const still = decide(
      seen(
        { 'db-a1': { semiSync: { ...on, masterOn: false, clients: 0 } } },
        { replicas: fell.state.replicas },
      ),
      NOW + 200,
      CONFIG,
    );
    expect(history(still)).toEqual([]);
    expect(still.events.map((e) => e.reason)).toContain('semi-sync-fallback');

    const back = decide(
      seen({ 'db-a1': { semiSync: on } }, { replicas: fell.state.replicas }),
      NOW + 400,
      CONFIG,
    );
    expect(history(back)).toEqual([expect.objectContaining({ event: 'semi-sync-restored', node: 'db-a1' })]);
    expect(back.state.replicas).toBeUndefined();
  });

  it('says nothing while semi-sync is on, or not enabled at all', () => {
    expect(decide(seen({ 'db-a1': { semiSync: on } }), NOW, CONFIG).state.replicas).toBeUndefined();
    expect(history(decide(seen({}), NOW, CONFIG))).toEqual([]);
  });
});
