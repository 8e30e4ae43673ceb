import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/core/decide.js';
import type { ClusterSnapshot, QuarantineRecord } from '../../../src/core/snapshot.js';
import type { NodeObservation } from '../../../src/core/observation.js';
import {
  actionsOf,
  channel,
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

/** Every observer sees the same nodes. */
function seen(nodes: NodeObservation[], over: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  return snapshot({
    reports: [report('coord-a', nodes), report('coord-b', nodes), report('coord-w', nodes)],
    ...over,
  });
}

/** After a failover to db-b1 (epoch 6), db-a1 is quarantined until it returns. */
const AFTER_FAILOVER = {
  writer: { node: 'db-b1', epoch: 6, since: NOW - 60_000, reason: 'writer-dead-quorum' as const },
  quarantine: {
    'db-a1': { node: 'db-a1', since: NOW - 60_000, epoch: 6, status: 'awaiting-return' } as QuarantineRecord,
  },
};

/** db-b1 writes as the new writer; db-a1 is back with `a1` patched in. */
function returned(a1: Partial<NodeObservation>, b1: Partial<NodeObservation> = {}): NodeObservation[] {
  return withNodes(healthyNodes(), {
    'db-a1': {
      readOnly: true,
      executedGtids: '1-1-100',
      replication: [channel('db-b1', 'yes', '1-1-100,2-2-20')],
      ...a1,
    },
    'db-b1': {
      readOnly: false,
      executedGtids: '1-1-100,2-2-20',
      retrievedGtids: '1-1-100',
      replication: [],
      ...b1,
    },
    'rep-a2': { executedGtids: '1-1-100,2-2-20', replication: [channel('db-b1')] },
  });
}

describe('decide: returning ex-writer (quarantine)', () => {
  it.each([
    {
      name: 'still unreachable: nothing to do',
      nodes: returned({ reachable: false, health: 'down' }),
      actions: [],
      reason: 'writer-healthy',
      status: 'awaiting-return',
    },
    {
      name: 'back and writable: forced read-only first',
      nodes: returned({ readOnly: false }),
      actions: ['quarantine db-a1'],
      reason: 'quarantine-returning-writer',
      status: 'awaiting-return',
    },
    {
      name: 'back read-only with writes db-b1 never saw: errant, replication into the writer stopped',
      nodes: returned({ executedGtids: '1-1-107,2-2-20' }),
      actions: ['stop-replication db-b1<-db-a1'],
      reason: 'errant-transactions',
      status: 'errant',
    },
    {
      name: 'back read-only, extra GTIDs already in the writer relay log: lag, not errant → rejoin',
      nodes: returned({ executedGtids: '1-1-107,2-2-20' }, { retrievedGtids: '1-1-107' }),
      // rep-a2 goes back to its configured source: db-a1 has everything rep-a2 has.
      actions: ['repoint db-a1->db-b1', 'repoint db-b1->db-a1', 'repoint rep-a2->db-a1'],
      reason: 'writer-healthy',
      status: undefined,
    },
    {
      name: 'back read-only and behind the writer: clean, rejoins as standby',
      nodes: returned({ executedGtids: '1-1-100,2-2-5' }),
      // rep-a2 stays on db-b1 until db-a1 has caught up with it.
      actions: ['repoint db-a1->db-b1', 'repoint db-b1->db-a1'],
      reason: 'writer-healthy',
      status: undefined,
    },
  ])('$name', ({ nodes, actions, reason, status }) => {
    const d = decide(seen(nodes, AFTER_FAILOVER), NOW, CONFIG);
    expect(summary(d)).toEqual(actions);
    expect(reasons(d)).toContain(reason);
    expect(d.state.quarantine['db-a1']?.status).toBe(status);
  });

  it('a clean return fetches back its own transactions a crash truncated; the co-master repoint does not', () => {
    const d = decide(seen(returned({ executedGtids: '1-1-100,2-2-5' }), AFTER_FAILOVER), NOW, CONFIG);
    const repoints = actionsOf(d, 'repoint');
    expect(repoints.find((r) => r.replica === 'db-a1')?.refetchOwnTail).toBe(true);
    expect(repoints.find((r) => r.replica === 'db-b1')?.refetchOwnTail).toBeUndefined();
  });

  it('reports the errant range and keeps the node out until an operator rejoins it', () => {
    const d = decide(seen(returned({ executedGtids: '1-1-107,2-2-20' }), AFTER_FAILOVER), NOW, CONFIG);
    expect(d.state.quarantine['db-a1']).toMatchObject({ status: 'errant', errantGtids: '1-1-101..107' });
    expect(d.events.find((e) => e.reason === 'errant-transactions')?.level).toBe('alert');
    const again = decide(
      seen(returned({ executedGtids: '1-1-107,2-2-20' }), {
        ...AFTER_FAILOVER,
        quarantine: d.state.quarantine,
      }),
      NOW + 1000,
      CONFIG,
    );
    expect(summary(again)).toEqual([]);
  });
});

describe('decide: a replica follows its configured source without flapping (sim F2)', () => {
  const sources = {
    'db-a1': { gtidSource: '1' },
    'db-b1': { gtidSource: '2' },
    'rep-a2': { gtidSource: '11' },
    'rep-b2': { gtidSource: '21' },
  };
  const nodes = (over: Record<string, Partial<NodeObservation> | undefined>) =>
    withNodes(
      healthyNodes(),
      Object.fromEntries(Object.entries(sources).map(([n, v]) => [n, { ...v, ...over[n] }])),
    );

  it.each([
    {
      name: 'on its source, probed after it: ahead only in the writer’s newest writes, stays',
      over: { 'rep-b2': { executedGtids: '1-1-105' } },
      actions: [],
    },
    {
      name: 'on its source, holding what the source lacks in another domain: to the writer',
      over: { 'rep-b2': { executedGtids: '1-1-100,2-2-3' }, 'db-a1': { executedGtids: '1-1-100,2-2-3' } },
      actions: ['repoint rep-b2->db-a1'],
    },
    {
      name: 'on the writer, its source behind it: stays on the writer',
      over: { 'rep-b2': { executedGtids: '1-1-105', replication: [channel('db-a1')] } },
      actions: [],
    },
    {
      name: 'on the writer, its source caught up: back to its source',
      over: {
        'rep-b2': { executedGtids: '1-1-105', replication: [channel('db-a1')] },
        'db-b1': { executedGtids: '1-1-105' },
      },
      actions: ['repoint rep-b2->db-b1'],
    },
    {
      name: 'on the writer, its source claims the set but its binlog lacks the tail (returned truncated): stays on the writer',
      over: {
        'rep-b2': { executedGtids: '1-1-105', replication: [channel('db-a1')] },
        'db-b1': { executedGtids: '1-1-105', binlogGtids: '1-1-102' },
      },
      actions: [],
    },
    {
      name: 'on the writer, its source’s binlog holds the set again: back to its source',
      over: {
        'rep-b2': { executedGtids: '1-1-105', replication: [channel('db-a1')] },
        'db-b1': { executedGtids: '1-1-105,2-2-1', binlogGtids: '1-1-105' },
      },
      actions: ['repoint rep-b2->db-b1'],
    },
    {
      name: 'a standby master whose channel to the writer was stopped (by an earlier failover): started again',
      over: { 'db-b1': { replication: [{ ...channel('db-a1', 'no'), sqlRunning: false }] } },
      actions: ['repoint db-b1->db-a1'],
    },
    {
      name: 'a standby master stopped on an error: broken, reported, not restarted',
      over: {
        'db-b1': {
          replication: [
            {
              ...channel('db-a1', 'no'),
              sqlRunning: false,
              error: { thread: 'sql' as const, errno: 1062, message: 'Duplicate entry' },
            },
          ],
        },
      },
      actions: [],
    },
  ])('$name', ({ over, actions }) => {
    expect(summary(decide(seen(nodes(over)), NOW, CONFIG))).toEqual(actions);
  });
});

describe('decide: upkeep while the writer is healthy', () => {
  it.each([
    {
      name: 'a non-writer became writable: fence it',
      snap: seen(withNodes(healthyNodes(), { 'db-b1': { readOnly: false } })),
      actions: ['fence db-b1'],
      reason: 'stale-writable-node',
    },
    {
      name: 'the guardian fenced a healthy writer at this epoch: recommit it at a newer epoch',
      snap: seen(withNodes(healthyNodes(), { 'db-a1': { readOnly: true } }), {
        guardians: guardians({
          a: { fencedWriter: { node: 'db-a1', epoch: 5, executedGtids: '1-1-100', at: NOW - 10 } },
        }),
      }),
      actions: ['promote db-a1@6'],
      reason: 'writer-reopen',
    },
    {
      name: 'a fence record of an older epoch is moot',
      snap: seen(healthyNodes(), {
        guardians: guardians({
          a: { fencedWriter: { node: 'db-a1', epoch: 4, executedGtids: '1-1-90', at: NOW - 10 } },
        }),
      }),
      actions: [],
      reason: 'writer-healthy',
    },
    {
      name: 'a replica follows a node other than its configured healthy source: repoint it back',
      snap: seen(withNodes(healthyNodes(), { 'rep-b2': { replication: [channel('db-a1')] } })),
      actions: ['repoint rep-b2->db-b1'],
      reason: 'replica-source-lost',
    },
    {
      name: "a replica's configured source is down by quorum: follow the writer",
      snap: seen(
        withNodes(healthyNodes(), {
          'db-b1': { reachable: false, health: 'down' },
          'rep-b2': { replication: [channel('db-b1', 'connecting')] },
        }),
      ),
      actions: ['repoint rep-b2->db-a1'],
      reason: 'replica-source-lost',
    },
    {
      name: 'a replica its configured source refused with 1236 (it is ahead of it): to the writer, not left stopped',
      snap: seen(
        withNodes(healthyNodes(), {
          'rep-b2': {
            replication: [
              {
                ...channel('db-b1', 'no'),
                error: {
                  thread: 'io' as const,
                  errno: 1236,
                  message: "GTID 1-1-101 not in the master's binlog",
                },
              },
            ],
          },
        }),
      ),
      actions: ['repoint rep-b2->db-a1'],
      reason: 'replica-source-lost',
    },
  ])('$name', ({ snap, actions, reason }) => {
    const d = decide(snap, NOW, CONFIG);
    expect(summary(d)).toEqual(actions);
    expect(reasons(d)).toContain(reason);
  });

  it('a replica the writer (its configured source) refused with 1236 is started again once the writer holds all it has', () => {
    const refused = {
      ...channel('db-a1', 'no'),
      error: {
        thread: 'io' as const,
        errno: 1236,
        message: "connecting slave requested to start from GTID 2-2-20, which is not in the master's binlog",
      },
    };
    // Reports received just before each decision, so the observers stay live.
    const at = (when: number, writerHas: string, over: Partial<ClusterSnapshot> = {}) =>
      snapshot({
        reports: ['coord-a', 'coord-b', 'coord-w'].map((c) =>
          report(c, nodes(writerHas), { receivedAt: when - 100 }),
        ),
        ...over,
      });
    const nodes = (writerHas: string) =>
      withNodes(healthyNodes(), {
        'db-a1': { executedGtids: writerHas },
        'db-b1': { executedGtids: writerHas },
        'rep-a2': { executedGtids: '1-1-100,2-2-20', replication: [refused] },
      });
    // First sight of the refusal: recorded, not retried within the report window.
    const first = decide(at(NOW, '1-1-100,2-2-20'), NOW, CONFIG);
    expect(summary(first)).toEqual([]);
    expect(first.state.replicas?.broken['rep-a2']?.errno).toBe(1236);
    const early = NOW + CONFIG.reportFreshMs - 1;
    expect(
      summary(decide(at(early, '1-1-100,2-2-20', { replicas: first.state.replicas }), early, CONFIG)),
    ).toEqual([]);
    // A window later the writer holds everything rep-a2 has: started again.
    const later = NOW + CONFIG.reportFreshMs;
    const retried = decide(at(later, '1-1-100,2-2-20', { replicas: first.state.replicas }), later, CONFIG);
    expect(summary(retried)).toEqual(['repoint rep-a2->db-a1']);
    expect(retried.events.find((e) => e.reason === 'replica-source-lost')?.message).toContain(
      'stopped on error 1236, and db-a1 now holds everything rep-a2 has',
    );
    // Refused again (the source still cannot serve it, e.g. purged binlogs): one try per window.
    const soon = later + CONFIG.reportFreshMs - 1;
    expect(retried.state.replicas?.broken['rep-a2']?.retriedAt).toBe(later);
    const again = (when: number) =>
      decide(at(when, '1-1-100,2-2-20', { replicas: retried.state.replicas }), when, CONFIG);
    expect(summary(again(soon))).toEqual([]);
    expect(summary(again(later + CONFIG.reportFreshMs))).toEqual(['repoint rep-a2->db-a1']);
    // A writer that lacks what the replica has is not asked again (divergence, quarantine).
    const lacking = decide(at(later, '1-1-100,2-2-15', { replicas: first.state.replicas }), later, CONFIG);
    expect(summary(lacking)).toEqual([]);
  });

  it.each([
    {
      name: 'clean and stopped: started again',
      b1: {},
      over: {},
      error: false,
      actions: ['repoint db-a1->db-b1'],
    },
    {
      name: 'the co-master is quarantined: left stopped',
      b1: {},
      over: {
        quarantine: {
          'db-b1': { node: 'db-b1', since: NOW - 1000, epoch: 5, status: 'errant' } as QuarantineRecord,
        },
      },
      error: false,
      actions: [],
    },
    {
      name: 'the co-master holds what the writer lacks: left stopped (no errant copy into the writer)',
      b1: { executedGtids: '1-1-100,2-2-5' },
      over: {},
      error: false,
      actions: [],
    },
    { name: 'stopped on an error: broken, left to an operator', b1: {}, over: {}, error: true, actions: [] },
  ])("the writer's stopped channel from its standby co-master: $name", ({ b1, over, error, actions }) => {
    const stopped = {
      ...channel('db-b1', 'no'),
      sqlRunning: false,
      ...(error ? { error: { thread: 'sql' as const, errno: 1062, message: 'Duplicate entry' } } : {}),
    };
    const nodes = withNodes(healthyNodes(), { 'db-a1': { replication: [stopped] }, 'db-b1': b1 });
    const d = decide(seen(nodes, over), NOW, CONFIG);
    expect(summary(d).filter((a) => a.startsWith('repoint db-a1'))).toEqual(actions);
  });

  it("the writer's channel refused (1236) by its co-master is started again once the co-master's binlog holds what the writer asks for", () => {
    const refused = {
      ...channel('db-b1', 'no'),
      error: { thread: 'io' as const, errno: 1236, message: "GTID 1-1-100 not in the master's binlog" },
    };
    // db-a1 writes in domain 1 (its own: left out of what it asks for) and holds 2-2-7 from db-b1.
    const at = (when: number, b1Binlog: string, over: Partial<ClusterSnapshot> = {}) =>
      snapshot({
        reports: ['coord-a', 'coord-b', 'coord-w'].map((c) =>
          report(
            c,
            withNodes(healthyNodes(), {
              'db-a1': { executedGtids: '1-1-100,2-2-7', gtidSource: '1', replication: [refused] },
              'db-b1': { executedGtids: '1-1-90,2-2-7', binlogGtids: b1Binlog, gtidSource: '2' },
            }),
            { receivedAt: when - 100 },
          ),
        ),
        ...over,
      });
    const first = decide(at(NOW, '1-1-90,2-2-5'), NOW, CONFIG);
    expect(summary(first).filter((a) => a.startsWith('repoint db-a1'))).toEqual([]);
    const later = NOW + CONFIG.reportFreshMs;
    // Its binlog still lacks 2-2-6..7 (a truncated tail not fetched back yet): not yet.
    const lacking = decide(at(later, '1-1-90,2-2-5', { replicas: first.state.replicas }), later, CONFIG);
    expect(summary(lacking).filter((a) => a.startsWith('repoint db-a1'))).toEqual([]);
    // Fetched back: db-a1's own domain 1 is ahead on db-b1's side only by db-a1's own writes.
    const ready = decide(at(later, '1-1-90,2-2-7', { replicas: first.state.replicas }), later, CONFIG);
    expect(summary(ready).filter((a) => a.startsWith('repoint db-a1'))).toEqual(['repoint db-a1->db-b1']);
  });

  it('a fenced writer whose guardian is gone is replaced after one report window (consistency: its final GTIDs are known)', () => {
    const nodes = withNodes(healthyNodes(), { 'db-a1': { readOnly: true } });
    // Reports received a second before each decision, so the observers stay live.
    const orphaned = (over: Partial<ClusterSnapshot> = {}, at = NOW) =>
      snapshot({
        reports: [
          report('coord-b', nodes, { receivedAt: at - 1000 }),
          report('coord-w', nodes, { receivedAt: at - 1000 }),
        ],
        guardians: guardians({ a: { sessionAlive: false } }),
        ...over,
      });
    const config = { ...CONFIG, policy: 'consistency' as const };
    // First sight: the guardian may be reconnecting (e.g. after an etcd outage): wait.
    const first = decide(orphaned(), NOW, config);
    expect(summary(first)).toEqual([]);
    expect(reasons(first)).toContain('waiting-for-guardian');
    // Still gone within the window: keep waiting.
    const early = decide(
      orphaned({ antiFlap: first.state.antiFlap }, NOW + config.reportFreshMs - 1),
      NOW + config.reportFreshMs - 1,
      config,
    );
    expect(summary(early)).toEqual([]);
    // Gone for a whole window: replace it.
    const at = NOW + config.reportFreshMs;
    const d = decide(orphaned({ antiFlap: first.state.antiFlap }, at), at, config);
    expect(summary(d)).toEqual(['fence db-a1']);
    expect(d.state.operation).toMatchObject({
      kind: 'failover',
      reason: 'writer-fenced-no-guardian',
      requiredGtids: '1-1-100',
    });
  });
});

describe('decide: bootstrap', () => {
  it('no writer record: the best reachable candidate becomes writer at epoch 1 without cooldown', () => {
    const nodes = withNodes(healthyNodes(), { 'db-a1': { readOnly: true } });
    const d = decide(seen(nodes, { writer: undefined }), NOW, CONFIG);
    expect(summary(d)).toEqual(['promote db-a1@1', 'open-writes db-a1@1']);
    expect(d.actions.find((a) => a.type === 'promote')).toMatchObject({
      previousEpoch: 0,
      reason: 'bootstrap-writer',
    });
  });

  it('waits until every candidate was observed: the open one may simply not be probed yet', () => {
    // a1 takes writes but no observer has probed it yet; b1 is read-only and seen.
    const nodes = healthyNodes().filter((n) => n.node !== 'db-a1');
    const d = decide(seen(nodes, { writer: undefined }), NOW, CONFIG);
    expect(summary(d)).toEqual([]);
    expect(d.events.find((e) => e.reason === 'skipped-no-candidate')?.message).toContain(
      'db-a1 not observed yet',
    );
    // Once seen, it is adopted rather than fenced for b1.
    expect(summary(decide(seen(healthyNodes(), { writer: undefined }), NOW, CONFIG))).toEqual([
      'promote db-a1@1',
    ]);
  });

  it('adopts a candidate that already takes writes', () => {
    const nodes = withNodes(healthyNodes(), { 'db-a1': { readOnly: true }, 'db-b1': { readOnly: false } });
    // Already writable: the commit is all it takes.
    expect(summary(decide(seen(nodes, { writer: undefined }), NOW, CONFIG))).toEqual(['promote db-b1@1']);
  });

  it("waits to adopt the writable candidate while its colo's guardian is not visible yet", () => {
    // Coordinators start one by one: b and w are up, a is not; a1 already takes writes.
    const d = decide(
      snapshot({
        writer: undefined,
        reports: [report('coord-b', healthyNodes()), report('coord-w', healthyNodes())],
        guardians: guardians({ a: { sessionAlive: false } }),
      }),
      NOW,
      CONFIG,
    );
    expect(summary(d)).toEqual([]);
    expect(reasons(d)).toContain('skipped-target-unguarded');
  });

  it('with no writable candidate, the best guarded one becomes writer even if another colo is unguarded', () => {
    const nodes = withNodes(healthyNodes(), { 'db-a1': { readOnly: true } });
    const d = decide(
      snapshot({
        writer: undefined,
        reports: [report('coord-b', nodes), report('coord-w', nodes)],
        guardians: guardians({ a: { sessionAlive: false } }),
      }),
      NOW,
      CONFIG,
    );
    expect(summary(d)).toEqual(['promote db-b1@1', 'open-writes db-b1@1']);
  });

  it('does not bootstrap without a quorum of live observers', () => {
    const d = decide(
      snapshot({ writer: undefined, reports: [report('coord-a', healthyNodes())] }),
      NOW,
      CONFIG,
    );
    expect(summary(d)).toEqual([]);
    expect(reasons(d)).toContain('no-quorum');
  });

  it('the bootstrap commit sets no cooldown', () => {
    const first = decide(seen(healthyNodes(), { writer: undefined }), NOW, CONFIG);
    const writer = { node: 'db-a1', epoch: 1, since: NOW, reason: 'bootstrap-writer' as const };
    const next = decide(seen(healthyNodes(), { writer, operation: first.state.operation }), NOW + 10, CONFIG);
    expect(next.state.antiFlap).toEqual({ failoverTimes: [] });
  });
});
