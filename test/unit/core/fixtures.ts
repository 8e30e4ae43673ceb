/**
 * A two-colo MariaDB cluster with a witness: candidates db-a1 (colo a) and db-b1 (colo b),
 * replicas rep-a2 (of db-a1) and rep-b2 (of db-b1); coordinators coord-a, coord-b, coord-w.
 * db-a1 is the writer at epoch 5. Helpers build healthy observations that tests then bend.
 */

import type { Action, ActionType } from '../../../src/core/actions.js';
import { DEFAULT_CORE_CONFIG, type CoreConfig } from '../../../src/core/config.js';
import type { Decision } from '../../../src/core/decision.js';
import type { NodeObservation, ObserverReport } from '../../../src/core/observation.js';
import type { ClusterSnapshot, GuardianStatus } from '../../../src/core/snapshot.js';
import type { ClusterSpec } from '../../../src/core/topology.js';

export const NOW = 1_000_000;

export const SPEC: ClusterSpec = {
  name: 'orders',
  flavor: 'mariadb',
  colos: ['a', 'b'],
  nodes: [
    { name: 'db-a1', colo: 'a', role: 'candidate', priority: 100, host: '10.0.1.1', port: 3306 },
    { name: 'db-b1', colo: 'b', role: 'candidate', priority: 90, host: '10.0.2.1', port: 3306 },
    {
      name: 'rep-a2',
      colo: 'a',
      role: 'replica',
      priority: 0,
      host: '10.0.1.2',
      port: 3306,
      replicatesFrom: 'db-a1',
    },
    {
      name: 'rep-b2',
      colo: 'b',
      role: 'replica',
      priority: 0,
      host: '10.0.2.2',
      port: 3306,
      replicatesFrom: 'db-b1',
    },
  ],
};

export const CONFIG: CoreConfig = { ...DEFAULT_CORE_CONFIG, policy: 'availability' };

const SOURCE_HOST: Record<string, string> = { 'db-a1': '10.0.1.1', 'db-b1': '10.0.2.1' };

export function channel(
  source: string,
  ioState: 'yes' | 'no' | 'connecting' = 'yes',
  retrievedGtids = '1-1-100',
) {
  return {
    source,
    sourceHost: SOURCE_HOST[source] ?? source,
    sourcePort: 3306,
    ioState,
    sqlRunning: true,
    retrievedGtids,
  };
}

/** Healthy view of the cluster from any observer. */
export function healthyNodes(): NodeObservation[] {
  const base = { reachable: true, health: 'up' as const, lagMs: 0, observedAt: NOW };
  return [
    {
      ...base,
      node: 'db-a1',
      readOnly: false,
      executedGtids: '1-1-100',
      retrievedGtids: '',
      replication: [channel('db-b1', 'yes', '')],
    },
    {
      ...base,
      node: 'db-b1',
      readOnly: true,
      executedGtids: '1-1-100',
      retrievedGtids: '1-1-100',
      replication: [channel('db-a1')],
    },
    {
      ...base,
      node: 'rep-a2',
      readOnly: true,
      executedGtids: '1-1-100',
      retrievedGtids: '1-1-100',
      replication: [channel('db-a1')],
    },
    {
      ...base,
      node: 'rep-b2',
      readOnly: true,
      executedGtids: '1-1-100',
      retrievedGtids: '1-1-100',
      replication: [channel('db-b1')],
    },
  ];
}

/** Patch nodes by name. */
export function withNodes(
  nodes: NodeObservation[],
  patch: Record<string, Partial<NodeObservation>>,
): NodeObservation[] {
  return nodes.map((n) => ({ ...n, ...(patch[n.node] ?? {}) }));
}

export const WRITER_DOWN: Partial<NodeObservation> = {
  reachable: false,
  health: 'down',
  error: 'connect ETIMEDOUT',
};

/** What every observer sees when db-a1 is dead: replicas of it are reconnecting. */
export function writerDeadNodes(): NodeObservation[] {
  return withNodes(healthyNodes(), {
    'db-a1': { ...WRITER_DOWN, readOnly: undefined, replication: undefined },
    'db-b1': { replication: [channel('db-a1', 'connecting')] },
    'rep-a2': { replication: [channel('db-a1', 'connecting')] },
  });
}

export function report(
  coordinator: string,
  nodes: NodeObservation[],
  over: Partial<ObserverReport> = {},
): ObserverReport {
  return { coordinator, publishedAt: NOW, receivedAt: NOW - 1000, sessionAlive: true, nodes, ...over };
}

export function guardians(over: { a?: Partial<GuardianStatus>; b?: Partial<GuardianStatus> } = {}) {
  return {
    a: { coordinator: 'coord-a', sessionAlive: true, ...over.a },
    b: { coordinator: 'coord-b', sessionAlive: true, ...over.b },
  };
}

export function snapshot(over: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  const nodes = healthyNodes();
  return {
    spec: SPEC,
    coordinators: [
      { name: 'coord-a', colo: 'a' },
      { name: 'coord-b', colo: 'b' },
      { name: 'coord-w', colo: 'w' },
    ],
    writer: { node: 'db-a1', epoch: 5, since: 0, reason: 'bootstrap-writer' },
    antiFlap: { failoverTimes: [] },
    quarantine: {},
    intents: [],
    reports: [report('coord-a', nodes), report('coord-b', nodes), report('coord-w', nodes)],
    guardians: guardians(),
    ...over,
  };
}

/** The colo a is gone: its coordinator's session expired, every other observer sees db-a1 dead. */
export function colaAGone(over: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  const nodes = writerDeadNodes();
  return snapshot({
    reports: [report('coord-b', nodes), report('coord-w', nodes)],
    guardians: guardians({ a: { sessionAlive: false } }),
    ...over,
  });
}

export function actionsOf<T extends ActionType>(decision: Decision, type: T): Extract<Action, { type: T }>[] {
  return decision.actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);
}

/** Compact action list for table assertions: "promote db-b1@6", "fence db-a1", … */
export function summary(decision: Decision): string[] {
  return decision.actions
    .filter((a) => a.type !== 'record-history')
    .map((a) => {
      switch (a.type) {
        case 'promote':
          return `promote ${a.node}@${a.epoch}`;
        case 'open-writes':
          return `open-writes ${a.node}@${a.epoch}`;
        case 'repoint':
          return `repoint ${a.replica}->${a.source}`;
        case 'stop-replication':
          return `stop-replication ${a.on}<-${a.from}`;
        case 'wait-for-gtids':
          return `wait-for-gtids ${a.node} ${a.gtids}`;
        case 'resolve-intent':
          return `resolve-intent ${a.intentId} ${a.status}`;
        default:
          return `${a.type} ${a.node}`;
      }
    });
}

export function reasons(decision: Decision): string[] {
  return decision.events.map((e) => e.reason);
}
