import { describe, expect, it } from 'vitest';
import { rankCandidates } from '../../../src/core/candidates.js';
import { liveReports } from '../../../src/core/health.js';
import type { NodeObservation } from '../../../src/core/observation.js';
import type { ClusterSnapshot } from '../../../src/core/snapshot.js';
import type { ClusterSpec } from '../../../src/core/topology.js';
import { CONFIG, NOW, report, snapshot } from './fixtures.js';

const SPEC3: ClusterSpec = {
  name: 'orders',
  flavor: 'mysql',
  colos: ['a', 'b', 'c'],
  nodes: [
    { name: 'c1', colo: 'c', role: 'candidate', priority: 10, host: 'c1', port: 1 },
    { name: 'b1', colo: 'b', role: 'candidate', priority: 10, host: 'b1', port: 1 },
    { name: 'a1', colo: 'a', role: 'candidate', priority: 10, host: 'a1', port: 1 },
    { name: 'r1', colo: 'a', role: 'replica', priority: 99, host: 'r1', port: 1 },
  ],
};
const U = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

function obs(node: string, over: Partial<NodeObservation> = {}): NodeObservation {
  return {
    node,
    reachable: true,
    health: 'up',
    readOnly: true,
    executedGtids: `${U}:1-10`,
    retrievedGtids: `${U}:1-10`,
    lagMs: 0,
    observedAt: NOW,
    ...over,
  };
}

const ALL_GUARDED = {
  a: { coordinator: 'coord-a', sessionAlive: true },
  b: { coordinator: 'coord-b', sessionAlive: true },
  c: { coordinator: 'coord-c', sessionAlive: true },
};

function rank(
  nodes: NodeObservation[],
  spec: ClusterSpec = SPEC3,
  guardians: ClusterSnapshot['guardians'] = ALL_GUARDED,
): string[] {
  const snap = snapshot({
    spec,
    writer: undefined,
    guardians,
    reports: [report('coord-a', nodes), report('coord-b', nodes), report('coord-w', nodes)],
  });
  return rankCandidates(snap, liveReports(snap, NOW, CONFIG)).map((c) => c.spec.name);
}

describe('candidate ranking', () => {
  it.each([
    {
      name: 'all equal: colo breaks the tie, replicas never rank',
      nodes: [obs('a1'), obs('b1'), obs('c1'), obs('r1')],
      order: ['a1', 'b1', 'c1'],
    },
    {
      name: 'reachable first',
      nodes: [obs('a1', { reachable: false, health: 'down' }), obs('b1'), obs('c1')],
      order: ['b1', 'c1', 'a1'],
    },
    {
      name: 'caught up (relay log applied) before lower lag',
      nodes: [obs('a1', { retrievedGtids: `${U}:1-12`, lagMs: 0 }), obs('b1', { lagMs: 50 }), obs('c1')],
      order: ['c1', 'b1', 'a1'],
    },
    {
      name: 'lowest lag, unknown lag last',
      nodes: [obs('a1', { lagMs: undefined }), obs('b1', { lagMs: 20 }), obs('c1', { lagMs: 10 })],
      order: ['c1', 'b1', 'a1'],
    },
    {
      name: 'priority before colo',
      nodes: [obs('a1'), obs('b1'), obs('c1')],
      spec: { ...SPEC3, nodes: SPEC3.nodes.map((n) => (n.name === 'c1' ? { ...n, priority: 11 } : n)) },
      order: ['c1', 'a1', 'b1'],
    },
    {
      name: 'a candidate whose colo has no live guardian ranks after every guarded one',
      nodes: [obs('a1', { lagMs: 0 }), obs('b1', { lagMs: 100 }), obs('c1', { lagMs: 100 })],
      guardians: { ...ALL_GUARDED, a: { coordinator: 'coord-a', sessionAlive: false } },
      order: ['b1', 'c1', 'a1'],
    },
  ])('$name', ({ nodes, order, spec, guardians }) => {
    expect(rank(nodes, spec, guardians)).toEqual(order);
  });
});
