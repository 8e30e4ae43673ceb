import { describe, expect, it } from 'vitest';
import type { ClusterLayout } from '../../../src/http/cluster-layout.js';
import {
  buildClusterOverview,
  HISTORY_ROWS,
  isTimeZone,
  type OverviewInput,
} from '../../../src/http/cluster-overview.js';
import type { ClusterState } from '../../../src/ops/cluster-state.js';
import { historyColumns, type StoredHistoryEntry } from '../../../src/ops/history-format.js';
import { serverRows } from '../../../src/ops/server-table.js';

const NOW = Date.UTC(2026, 11, 5, 3, 30, 0);
const MINUTE = 60_000;

const LAYOUT: ClusterLayout = {
  // Config order: a replica first, to show candidates are drawn on top whatever the order.
  nodes: [
    { name: 'a2', colo: 'a', role: 'replica' },
    { name: 'a1', colo: 'a', role: 'candidate' },
    { name: 'b1', colo: 'b', role: 'candidate' },
    { name: 'b2', colo: 'b', role: 'replica' },
  ],
  policy: 'consistency',
  failoverBudget: { count: 3, windowMs: 60 * MINUTE },
};

function node(name: string, source: string, readOnly = true): Record<string, unknown> {
  return {
    node: name,
    reachable: true,
    health: 'up',
    readOnly,
    executedGtids: '1-11-42',
    replication: [{ source, ioState: 'yes', sqlRunning: true }],
  };
}

function history(minutesAgo: number, over: Partial<StoredHistoryEntry>): StoredHistoryEntry {
  return {
    epoch: 2,
    reason: 'writer-dead-quorum',
    event: 'promote',
    message: 'm',
    by: 'auto',
    at: 0,
    wallAt: NOW - minutesAgo * MINUTE,
    ...over,
  } as StoredHistoryEntry;
}

const HISTORY = [
  history(90, { event: 'promote', reason: 'bootstrap-writer', node: 'a1', epoch: 1 }),
  history(20, { event: 'skip', reason: 'no-quorum', node: 'a1', epoch: 1 }),
  history(10, { event: 'promote', node: 'b1', from: 'a1', epoch: 2, message: 'failover: a1 → b1' }),
];

function state(over: Partial<ClusterState> = {}): ClusterState {
  const nodes = [node('a1', 'b1', false), node('a2', 'a1'), node('b1', 'a1'), node('b2', 'b1')];
  return {
    cluster: 'orders',
    revision: 41,
    leader: { key: '/baton/orders/leader/7', coordinator: 'w', createRevision: 3 },
    writer: { node: 'a1', epoch: 1, since: NOW - 90 * MINUTE, reason: 'bootstrap-writer' },
    cooldown: { cooldownUntil: NOW + 2 * MINUTE, failoverTimes: [NOW - 10 * MINUTE, NOW - 61 * MINUTE] },
    observations: { a: { nodes }, w: { nodes } },
    guardians: {},
    intents: [],
    history: HISTORY,
    ...over,
  };
}

function input(over: Partial<OverviewInput> = {}): OverviewInput {
  return {
    state: state(),
    layout: LAYOUT,
    coordinator: 'w',
    stateAgeMs: 412.6,
    session: { valid: true, leaseLeftMs: 3_456.7, isLeader: true },
    wallNow: NOW,
    timeZone: 'UTC',
    ...over,
  };
}

describe('the web view’s cluster overview', () => {
  it('says who answers, how old the state is, the leader, and its lease when this coordinator leads', () => {
    const overview = buildClusterOverview(input());
    expect(overview).toMatchObject({
      cluster: 'orders',
      answeredBy: 'w',
      generatedAt: NOW,
      stateAgeMs: 413,
      revision: 41,
      leader: { coordinator: 'w', thisCoordinator: true, leaseLeftMs: 3_457 },
      session: { valid: true, leaseLeftMs: 3_457 },
      policy: 'consistency',
    });
    const elsewhere = buildClusterOverview(
      input({ coordinator: 'a', session: { valid: true, leaseLeftMs: 3_000, isLeader: false } }),
    );
    expect(elsewhere.leader).toEqual({ coordinator: 'w', thisCoordinator: false });
    // Its own loop knows its leadership before the next background read does, both ways.
    const justElected = buildClusterOverview(
      input({ coordinator: 'b', session: { valid: true, leaseLeftMs: 3_900, isLeader: true } }),
    );
    expect(justElected.leader).toEqual({ coordinator: 'b', thisCoordinator: true, leaseLeftMs: 3_900 });
    const steppedDown = buildClusterOverview(
      input({ session: { valid: true, leaseLeftMs: 3_000, isLeader: false } }),
    );
    expect(steppedDown.leader).toEqual({ coordinator: 'w', thisCoordinator: true });
    expect(
      buildClusterOverview(
        input({
          state: state({ leader: undefined }),
          session: { valid: false, leaseLeftMs: 0, isLeader: false },
        }),
      ).leader,
    ).toBeNull();
  });

  it('shows the watch’s newer writer at once, in the header, the rows and the diagram’s data', () => {
    const before = buildClusterOverview(input());
    expect(before.writer).toMatchObject({ node: 'a1', epoch: 1, sinceText: '2026-12-05 02:00:00.000' });
    const watched = { node: 'b1', epoch: 2, since: NOW - 1_000, reason: 'writer-dead-quorum' };
    const after = buildClusterOverview(input({ writer: watched }));
    expect(after.writer).toEqual({ ...watched, sinceText: '2026-12-05 03:29:59.000' });
    expect(after.servers.filter((s) => s.role === 'writer').map((s) => s.name)).toEqual(['b1']);
    // An older record from the loop does not take the writer back.
    const stale = buildClusterOverview(input({ writer: { node: 'b1', epoch: 0 } }));
    expect(stale.writer?.node).toBe('a1');
  });

  it('uses status’s server rows, with each server’s colo and why it is marked', () => {
    const troubled = state({
      quarantine: { a2: { node: 'a2', status: 'errant', epoch: 2, errantGtids: '1-12-5' } },
      replicas: { broken: { b2: { thread: 'io', errno: 1236, message: 'not in binlog' } } },
    });
    const overview = buildClusterOverview(input({ state: troubled }));
    const expected = serverRows(troubled, LAYOUT.nodes);
    expect(overview.servers.map((s) => s.cells)).toEqual(expected.map((r) => r.cells));
    expect(overview.servers.map((s) => [s.name, s.colo, s.state])).toEqual([
      ['a2', 'a', 'quarantined'],
      ['a1', 'a', 'up'],
      ['b1', 'b', 'up'],
      ['b2', 'b', 'broken replication'],
    ]);
    expect(overview.servers.find((s) => s.name === 'a2')?.notes).toEqual([
      'quarantined (errant): errant 1-12-5',
    ]);
    expect(overview.servers.find((s) => s.name === 'b2')?.notes).toEqual([
      'replication io thread stopped, error 1236: not in binlog',
    ]);
  });

  it('draws colos in config order, candidates on top, and an arrow per named replication source', () => {
    const { diagram } = buildClusterOverview(input());
    expect(diagram.colos.map((c) => c.name)).toEqual(['a', 'b']);
    expect(diagram.servers.map((s) => s.name)).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect(diagram.arrows.map((a) => `${a.from}>${a.to}`).sort()).toEqual([
      'a1>a2',
      'a1>b1',
      'b1>a1',
      'b1>b2',
    ]);
  });

  it('puts the last hour on the timeline, and the history table newest first in the browser’s zone', () => {
    const overview = buildClusterOverview(input({ timeZone: 'America/New_York' }));
    expect(overview.timeline.from).toBe(NOW - 60 * MINUTE);
    expect(overview.timeline.to).toBe(NOW);
    expect(overview.timeline.markers.map((m) => m.kind)).toEqual(['skip', 'writer-change']);
    expect(overview.history).toEqual(
      [...HISTORY].reverse().map((e, i) => ({
        kind: ['writer-change', 'skip', 'writer-change'][i],
        cells: historyColumns(e, { timeZone: 'America/New_York' }),
      })),
    );
    expect(overview.history[0]?.cells[0]).toBe('2026-12-04 22:20:00.000');
  });

  it(`keeps the history table to the newest ${HISTORY_ROWS} entries`, () => {
    const many = Array.from({ length: HISTORY_ROWS + 5 }, (_, i) =>
      history(1, { event: 'pin', reason: 'pin-requested', epoch: i }),
    );
    const overview = buildClusterOverview(input({ state: state({ history: many }) }));
    expect(overview.history).toHaveLength(HISTORY_ROWS);
    expect(overview.history[0]?.cells[3]).toBe(`e${HISTORY_ROWS + 4}`);
  });

  it('counts the cooldown left and the automatic failovers inside the budget window', () => {
    const { antiFlap } = buildClusterOverview(input());
    expect(antiFlap).toEqual({
      cooldownLeftMs: 2 * MINUTE,
      failoversInWindow: 1,
      budget: { count: 3, windowMs: 60 * MINUTE },
      lastSkip: null,
    });
    const over = buildClusterOverview(input({ state: state({ cooldown: undefined }) })).antiFlap;
    expect([over.cooldownLeftMs, over.failoversInWindow]).toEqual([0, 0]);
  });

  it('knows an IANA zone from a typo', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Europe/Berlinn')).toBe(false);
  });
});
