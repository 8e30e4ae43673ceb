/** The same decisions on a MySQL cluster: GTIDs are uuid:intervals sets, not domain positions. */

import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/core/decide.js';
import type { NodeObservation } from '../../../src/core/observation.js';
import { recordStepOutcome } from '../../../src/core/operation-steps.js';
import type { ClusterSnapshot } from '../../../src/core/snapshot.js';
import {
  channel,
  CONFIG,
  guardians,
  healthyNodes,
  NOW,
  reasons,
  report,
  snapshot,
  SPEC,
  summary,
  withNodes,
} from './fixtures.js';

const A = '11111111-1111-1111-1111-111111111111';
const B = '22222222-2222-2222-2222-222222222222';
const MYSQL = { ...SPEC, flavor: 'mysql' as const };

function mysqlNodes(patch: Record<string, Partial<NodeObservation>> = {}): NodeObservation[] {
  const all = withNodes(healthyNodes(), {
    'db-a1': { executedGtids: `${A}:1-100`, retrievedGtids: '' },
    'db-b1': { executedGtids: `${A}:1-100`, retrievedGtids: `${A}:1-100` },
    'rep-a2': { executedGtids: `${A}:1-100`, retrievedGtids: `${A}:1-100` },
    'rep-b2': { executedGtids: `${A}:1-100`, retrievedGtids: `${A}:1-100` },
  });
  return withNodes(all, patch);
}

function seen(nodes: NodeObservation[], over: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  return snapshot({
    spec: MYSQL,
    reports: [report('coord-a', nodes), report('coord-b', nodes), report('coord-w', nodes)],
    ...over,
  });
}

describe('decide on MySQL GTID sets', () => {
  it('availability failover records the lost range as uuid intervals', () => {
    const dead = mysqlNodes({
      'db-a1': { reachable: false, health: 'down', readOnly: undefined, executedGtids: `${A}:1-107` },
      'db-b1': {
        executedGtids: `${A}:1-100`,
        retrievedGtids: `${A}:1-103`,
        replication: [channel('db-a1', 'connecting', `${A}:1-103`)],
      },
      'rep-a2': { replication: [channel('db-a1', 'connecting')] },
    });
    const snap = snapshot({
      spec: MYSQL,
      reports: [report('coord-b', dead), report('coord-w', dead)],
      guardians: guardians({ a: { sessionAlive: false } }),
    });
    const first = decide(snap, NOW, CONFIG);
    const op = first.state.operation!;
    expect(op.requiredGtids).toBe(`${A}:1-103`);
    const next = decide(
      { ...snap, operation: recordStepOutcome(op, { operationId: op.id, step: 'fence-old', ok: false }) },
      NOW,
      CONFIG,
    );
    // The target applies what it received first (1-103); 104-107 may be lost.
    expect(summary(next)).toEqual([`wait-for-gtids db-b1 ${A}:1-103`]);
    expect(next.state.operation?.lostGtids).toBe(`${A}:104-107`);
  });

  it('a returning ex-writer with its own transactions is kept out', () => {
    const nodes = mysqlNodes({
      'db-a1': { readOnly: true, executedGtids: `${A}:1-105,${B}:1-20`, replication: [channel('db-b1')] },
      'db-b1': {
        readOnly: false,
        executedGtids: `${A}:1-100,${B}:1-20`,
        retrievedGtids: `${A}:1-100`,
        replication: [],
      },
      'rep-a2': { executedGtids: `${A}:1-100,${B}:1-20`, replication: [channel('db-b1')] },
    });
    const d = decide(
      seen(nodes, {
        writer: { node: 'db-b1', epoch: 6, since: NOW, reason: 'writer-dead-quorum' },
        quarantine: { 'db-a1': { node: 'db-a1', since: NOW, epoch: 6, status: 'awaiting-return' } },
      }),
      NOW,
      CONFIG,
    );
    expect(summary(d)).toEqual(['stop-replication db-b1<-db-a1']);
    expect(reasons(d)).toContain('errant-transactions');
    expect(d.state.quarantine['db-a1']?.errantGtids).toBe(`${A}:101-105`);
  });
});
