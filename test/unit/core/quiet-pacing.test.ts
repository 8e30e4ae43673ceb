import { describe, expect, it } from 'vitest';
import type { NodeObservation } from '../../../src/core/observation.js';
import { nodesToProbe, stateReadDue } from '../../../src/core/quiet-pacing.js';

const NODES = ['a1', 'a2', 'b1', 'b2'];
const NOW = 10_000;
const QUIET_MS = 1000;

/** A healthy read-only replica (or, with readOnly false, the open writer) probed at `at`. */
function seen(node: string, at: number, over: Partial<NodeObservation> = {}): NodeObservation {
  return {
    node,
    reachable: true,
    health: 'up',
    readOnly: true,
    observedAt: at,
    replication: [
      {
        sourceHost: 'h',
        sourcePort: 1,
        ioState: 'yes',
        sqlRunning: true,
        retrievedGtids: '0-1-5',
      },
    ],
    ...over,
  };
}

/** Everything seen 200 ms ago and healthy, a1 the open writer. */
function quiet(): Map<string, NodeObservation> {
  return new Map([
    ['a1', seen('a1', NOW - 200, { readOnly: false })],
    ['a2', seen('a2', NOW - 200)],
    ['b1', seen('b1', NOW - 200)],
    ['b2', seen('b2', NOW - 200)],
  ]);
}

function plan(over: {
  everyCycle?: string[];
  last?: Map<string, NodeObservation>;
  busy?: boolean;
}): string[] {
  return nodesToProbe({
    nodes: NODES,
    everyCycle: over.everyCycle ?? ['a1'],
    last: over.last ?? quiet(),
    now: NOW,
    quietIntervalMs: QUIET_MS,
    busy: over.busy ?? false,
  });
}

function withNode(node: string, over: Partial<NodeObservation>): Map<string, NodeObservation> {
  const last = quiet();
  last.set(node, seen(node, last.get(node)?.observedAt ?? NOW, over));
  return last;
}

const STOPPED_IO = [
  { sourceHost: 'h', sourcePort: 1, ioState: 'no' as const, sqlRunning: true, retrievedGtids: '0-1-5' },
];
const STOPPED_SQL = [
  { sourceHost: 'h', sourcePort: 1, ioState: 'yes' as const, sqlRunning: false, retrievedGtids: '0-1-5' },
];

describe('nodesToProbe', () => {
  it.each([
    { name: 'all quiet: only the nodes probed every cycle', over: {}, probe: ['a1'] },
    {
      name: 'the witness-less guardian of colo b: the writer and its own candidate',
      over: { everyCycle: ['a1', 'b1'] },
      probe: ['a1', 'b1'],
    },
    {
      name: 'a node not probed for the quiet interval is due',
      over: { last: withNode('b2', { observedAt: NOW - 1000 }) },
      probe: ['a1', 'b2'],
    },
    {
      name: 'just under the quiet interval: not yet',
      over: { last: withNode('b2', { observedAt: NOW - 999 }) },
      probe: ['a1'],
    },
    {
      name: 'never probed: probed now',
      over: { last: new Map([...quiet()].filter(([n]) => n !== 'a2')) },
      probe: ['a1', 'a2'],
    },
    {
      name: 'a replica whose last probe failed: that replica every cycle',
      over: { last: withNode('a2', { reachable: false }) },
      probe: ['a1', 'a2'],
    },
    {
      name: 'a replica judged down (reachable again, not yet up): every cycle',
      over: { last: withNode('b2', { health: 'down' }) },
      probe: ['a1', 'b2'],
    },
    {
      name: 'a writable node that is not the writer: every cycle',
      over: { last: withNode('b1', { readOnly: false }) },
      probe: ['a1', 'b1'],
    },
    {
      name: "a writable local candidate is the guardian's business: nothing more",
      over: { everyCycle: ['a1', 'b1'], last: withNode('b1', { readOnly: false }) },
      probe: ['a1', 'b1'],
    },
    {
      name: 'a stopped IO thread: every cycle',
      over: { last: withNode('b2', { replication: STOPPED_IO }) },
      probe: ['a1', 'b2'],
    },
    {
      name: 'a stopped SQL thread: every cycle',
      over: { last: withNode('a2', { replication: STOPPED_SQL }) },
      probe: ['a1', 'a2'],
    },
    {
      name: "the writer's last probe failed: everything (replica silence, candidates' GTIDs)",
      over: { last: withNode('a1', { reachable: false, readOnly: undefined }) },
      probe: NODES,
    },
    {
      name: 'a local candidate judged down: everything',
      over: { everyCycle: ['a1', 'b1'], last: withNode('b1', { health: 'down' }) },
      probe: NODES,
    },
    { name: 'an operation in flight: everything', over: { busy: true }, probe: NODES },
    {
      name: 'a node probed every cycle but never seen yet (startup): everything',
      over: { last: new Map() },
      probe: NODES,
    },
  ])('$name', ({ over, probe }) => {
    expect(plan(over)).toEqual(probe);
  });
});

describe('stateReadDue', () => {
  /** Everything as it should be, a1 the writer, last read 200 ms ago. */
  function due(over: {
    busy?: boolean;
    writer?: string | null;
    last?: Map<string, NodeObservation>;
    lastReadAt?: number;
  }): boolean {
    const writer = over.writer === null ? undefined : (over.writer ?? 'a1');
    return stateReadDue({
      busy: over.busy ?? false,
      ...(writer ? { writer } : {}),
      observations: [...(over.last ?? quiet()).values()],
      now: NOW,
      lastReadAt: over.lastReadAt ?? NOW - 200,
      quietIntervalMs: QUIET_MS,
    });
  }

  it.each([
    { name: 'all quiet, read 200 ms ago: no read', over: {}, read: false },
    { name: 'all quiet, read a quiet interval ago: read', over: { lastReadAt: NOW - 1000 }, read: true },
    { name: 'an operation or intent in flight: read', over: { busy: true }, read: true },
    { name: 'no writer record known yet: read', over: { writer: null }, read: true },
    {
      name: 'the writer is read-only (fenced by a switchover, or to be opened): read',
      over: { last: withNode('a1', { readOnly: true }) },
      read: true,
    },
    {
      name: 'another node is writable: read',
      over: { last: withNode('b2', { readOnly: false }) },
      read: true,
    },
    {
      name: 'the record names b1 while a1 is the one open: read',
      over: { writer: 'b1' },
      read: true,
    },
    {
      name: 'a replica unreachable: read',
      over: { last: withNode('a2', { reachable: false, readOnly: undefined }) },
      read: true,
    },
    {
      name: 'a replica judged down: read',
      over: { last: withNode('b2', { health: 'down' }) },
      read: true,
    },
    {
      name: 'a stopped replication thread: read',
      over: { last: withNode('b1', { replication: STOPPED_IO }) },
      read: true,
    },
  ])('$name', ({ over, read }) => {
    expect(due(over)).toBe(read);
  });
});
