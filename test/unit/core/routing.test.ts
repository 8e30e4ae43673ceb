import { describe, expect, it } from 'vitest';
import type { NodeObservation } from '../../../src/core/observation.js';
import { replicaCheck, writerCheck, type RoutingView } from '../../../src/core/routing.js';

const NOW = 100_000;

function obs(node: string, over: Partial<NodeObservation> = {}): NodeObservation {
  return {
    node,
    reachable: true,
    health: 'up',
    readOnly: true,
    observedAt: NOW - 100,
    lagMs: 50,
    replication: [
      { source: 'a1', sourceHost: 'h', sourcePort: 1, ioState: 'yes', sqlRunning: true, retrievedGtids: '' },
    ],
    ...over,
  };
}

function view(
  over: Partial<RoutingView> = {},
  nodes: Record<string, Partial<NodeObservation>> = {},
): RoutingView {
  const observations = new Map<string, NodeObservation>([
    ['a1', obs('a1', { readOnly: false, replication: [] })],
    ['a2', obs('a2')],
    ['b1', obs('b1')],
  ]);
  for (const [node, o] of Object.entries(nodes))
    observations.set(node, obs(node, { ...observations.get(node), ...o }));
  return {
    now: NOW,
    sessionValid: true,
    writer: { node: 'a1', epoch: 3 },
    writerReadAt: NOW - 300,
    freshForMs: 2_500,
    observations,
    quarantined: new Set(),
    ...over,
  };
}

describe('writerCheck: 200 only for the recorded writer, with a session, fresh state and seen writable', () => {
  it.each([
    { name: 'the writer', v: view(), node: 'a1', ok: true, reason: 'writer' },
    { name: 'another node', v: view(), node: 'b1', ok: false, reason: 'not-the-writer' },
    {
      name: 'no writer recorded',
      v: view({ writer: undefined }),
      node: 'a1',
      ok: false,
      reason: 'no-writer-recorded',
    },
    {
      name: 'no provable session',
      v: view({ sessionValid: false }),
      node: 'a1',
      ok: false,
      reason: 'no-etcd-session',
    },
    {
      name: 'writer record read too long ago',
      v: view({ writerReadAt: NOW - 2_501 }),
      node: 'a1',
      ok: false,
      reason: 'state-stale',
    },
    {
      name: 'writer record never read',
      v: view({ writerReadAt: undefined }),
      node: 'a1',
      ok: false,
      reason: 'state-stale',
    },
    {
      name: 'not observed',
      v: view({ observations: new Map() }),
      node: 'a1',
      ok: false,
      reason: 'not-observed',
    },
    {
      name: 'observation too old',
      v: view({}, { a1: { observedAt: NOW - 3_000 } }),
      node: 'a1',
      ok: false,
      reason: 'observation-stale',
    },
    {
      name: 'last probe failed',
      v: view({}, { a1: { reachable: false } }),
      node: 'a1',
      ok: false,
      reason: 'unreachable',
    },
    {
      name: 'fenced (read-only)',
      v: view({}, { a1: { readOnly: true } }),
      node: 'a1',
      ok: false,
      reason: 'read-only',
    },
    {
      name: 'read_only unknown',
      v: view({}, { a1: { readOnly: undefined } }),
      node: 'a1',
      ok: false,
      reason: 'read-only',
    },
  ])('$name', ({ v, node, ok, reason }) => {
    expect(writerCheck(v, node)).toMatchObject({ ok, reason });
  });
});

describe('replicaCheck: 200 for a read-only node replicating without error within the lag', () => {
  const limit = { maxLagMs: 1_000, includeWriter: false };
  it.each([
    { name: 'a healthy replica', v: view(), node: 'a2', o: limit, ok: true, reason: 'replica' },
    { name: 'the standby master', v: view(), node: 'b1', o: limit, ok: true, reason: 'replica' },
    { name: 'the writer', v: view(), node: 'a1', o: limit, ok: false, reason: 'writable' },
    {
      name: 'the writer, includeWriter',
      v: view(),
      node: 'a1',
      o: { ...limit, includeWriter: true },
      ok: true,
      reason: 'writer',
    },
    {
      name: 'the writer without a session, includeWriter',
      v: view({ sessionValid: false }),
      node: 'a1',
      o: { ...limit, includeWriter: true },
      ok: false,
      reason: 'writable',
    },
    {
      name: 'lagging',
      v: view({}, { a2: { lagMs: 1_001 } }),
      node: 'a2',
      o: limit,
      ok: false,
      reason: 'lagging',
    },
    {
      name: 'lag unknown',
      v: view({}, { a2: { lagMs: undefined } }),
      node: 'a2',
      o: limit,
      ok: false,
      reason: 'lag-unknown',
    },
    {
      name: 'quarantined',
      v: view({ quarantined: new Set(['a2']) }),
      node: 'a2',
      o: limit,
      ok: false,
      reason: 'quarantined',
    },
    {
      name: 'quarantine not read yet',
      v: view({ quarantined: undefined }),
      node: 'a2',
      o: limit,
      ok: false,
      reason: 'quarantine-unknown',
    },
    {
      name: 'replication stopped on an error',
      v: view(
        {},
        {
          a2: {
            replication: [
              {
                source: 'a1',
                sourceHost: 'h',
                sourcePort: 1,
                ioState: 'no',
                sqlRunning: false,
                retrievedGtids: '',
                error: { thread: 'sql', errno: 1062, message: 'Duplicate entry' },
              },
            ],
          },
        },
      ),
      node: 'a2',
      o: limit,
      ok: false,
      reason: 'replication-broken',
    },
    {
      name: 'replication stopped by hand',
      v: view(
        {},
        {
          a2: {
            replication: [
              {
                source: 'a1',
                sourceHost: 'h',
                sourcePort: 1,
                ioState: 'yes',
                sqlRunning: false,
                retrievedGtids: '',
              },
            ],
          },
        },
      ),
      node: 'a2',
      o: limit,
      ok: false,
      reason: 'replication-stopped',
    },
    {
      name: 'no channel',
      v: view({}, { a2: { replication: [] } }),
      node: 'a2',
      o: limit,
      ok: false,
      reason: 'not-replicating',
    },
    {
      name: 'unreachable',
      v: view({}, { a2: { reachable: false } }),
      node: 'a2',
      o: limit,
      ok: false,
      reason: 'unreachable',
    },
  ])('$name', ({ v, node, o, ok, reason }) => {
    expect(replicaCheck(v, node, o)).toMatchObject({ ok, reason });
  });
});
