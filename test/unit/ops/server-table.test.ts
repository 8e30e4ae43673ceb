import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../../src/ops/cluster-state.js';
import { formatServerTable, serverRows, type ServerSpec } from '../../../src/ops/server-table.js';

const SPECS: ServerSpec[] = [
  { name: 'a1', colo: 'a', role: 'candidate' },
  { name: 'a2', colo: 'a', role: 'replica' },
  { name: 'b1', colo: 'b', role: 'candidate' },
  { name: 'b2', colo: 'b', role: 'replica' },
];

const LONG_GTID = '0-1-100,1-11-4242,2-21-377';

function node(name: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    node: name,
    reachable: true,
    health: 'up',
    readOnly: true,
    executedGtids: '1-11-42',
    watchdog: 'armed',
    ...over,
  };
}

function state(over: Partial<ClusterState> = {}): ClusterState {
  const healthy = [
    node('a1', { readOnly: false, replication: [{ source: 'b1', ioState: 'yes', sqlRunning: true }] }),
    node('a2', { lagMs: 120, replication: [{ source: 'a1', ioState: 'yes', sqlRunning: true }] }),
    node('b1', {
      lagMs: 2_500,
      executedGtids: LONG_GTID,
      replication: [{ source: 'a1', ioState: 'yes', sqlRunning: true }],
    }),
    node('b2', { replication: [{ source: 'b1', ioState: 'no', sqlRunning: true }] }),
  ];
  return {
    cluster: 'lab',
    revision: 7,
    writer: { node: 'a1', epoch: 3, since: 0, reason: 'bootstrap-writer' },
    observations: {
      a: { nodes: healthy },
      b: { nodes: healthy.map((n) => (n.node === 'a1' ? { ...n, reachable: false, health: 'down' } : n)) },
      w: { nodes: healthy },
    },
    guardians: {},
    intents: [],
    history: [],
    ...over,
  };
}

const cellsOf = (s: ClusterState, wide = false) =>
  Object.fromEntries(serverRows(s, SPECS, { wide }).map((r) => [r.cells[0], r.cells]));

describe('status: one row per server', () => {
  it('says where each server is, what it is, how it is, and who sees it up', () => {
    const rows = cellsOf(state());
    expect(rows.a1).toEqual(['a1', 'a', 'writer', 'up', 'OFF', '-', 'b1', '1-11-42', 'armed', 'a,w']);
    expect(rows.a2).toEqual(['a2', 'a', 'replica', 'up', 'ON', '120 ms', 'a1', '1-11-42', 'armed', 'a,b,w']);
    expect(rows.b1?.slice(2, 6)).toEqual(['standby master', 'up', 'ON', '2.5 s']);
    expect(rows.b2?.[6]).toBe('b1 (stopped)');
  });

  it('abbreviates a long GTID position, in full with --wide', () => {
    expect(cellsOf(state()).b1?.[7]).toBe(LONG_GTID.length > 24 ? `${LONG_GTID.slice(0, 23)}…` : LONG_GTID);
    expect(cellsOf(state(), true).b1?.[7]).toBe(LONG_GTID);
  });

  it('marks a server nobody sees up as down, and quarantine and broken replication above both', () => {
    const down = state();
    for (const report of Object.values(down.observations) as { nodes: Record<string, unknown>[] }[])
      report.nodes = report.nodes.map((n) =>
        n.node === 'b2' ? { ...n, reachable: false, health: 'down' } : n,
      );
    expect(cellsOf(down).b2?.slice(3)).toContain('down');
    expect(cellsOf(down).b2?.[9]).toBe('nobody');
    expect(cellsOf(down).b2?.[5]).toBe('-');
    const troubled = state({
      quarantine: { a2: { node: 'a2', status: 'errant' } },
      replicas: { broken: { b2: { thread: 'sql', errno: 1062, message: 'dup' } } },
    });
    expect(cellsOf(troubled).a2?.[3]).toBe('quarantined');
    expect(cellsOf(troubled).b2?.[3]).toBe('broken replication');
  });

  it('gives each row its name, role, state and resolved sources (the web view draws them)', () => {
    const rows = serverRows(state(), SPECS);
    expect(rows.map((r) => [r.name, r.role, r.state])).toEqual([
      ['a1', 'writer', 'up'],
      ['a2', 'replica', 'up'],
      ['b1', 'standby master', 'up'],
      ['b2', 'replica', 'up'],
    ]);
    expect(rows.find((r) => r.name === 'b2')?.sources).toEqual([{ node: 'b1', running: false }]);
    expect(rows.find((r) => r.name === 'a2')?.sources).toEqual([{ node: 'a1', running: true }]);
    // A source the observer could not name is in the FROM cell, but is no arrow.
    const unnamed = state();
    for (const report of Object.values(unnamed.observations) as { nodes: Record<string, unknown>[] }[])
      report.nodes = report.nodes.map((n) =>
        n.node === 'a2' ? { ...n, replication: [{ ioState: 'yes', sqlRunning: true }] } : n,
      );
    const a2 = serverRows(unnamed, SPECS).find((r) => r.name === 'a2');
    expect([a2?.cells[6], a2?.sources]).toEqual(['?', []]);
  });

  it('marks the writer the caller names when it knows a newer record than the state', () => {
    const rows = serverRows(state(), SPECS, { writer: 'b1' });
    expect(rows.map((r) => r.role)).toEqual(['standby master', 'replica', 'writer', 'replica']);
    // The writer's lag is not shown; b1's was 2.5 s as a standby.
    expect(rows.find((r) => r.name === 'b1')?.cells[5]).toBe('-');
  });

  it('without a spec, lists the reported servers and names only the writer', () => {
    const rows = serverRows(state(), []);
    expect(rows.map((r) => r.cells[0])).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect(rows.map((r) => r.cells[2])).toEqual(['writer', '-', '-', '-']);
  });

  it('aligns the table, and colours only the state, only when asked', () => {
    const rows = serverRows(state(), SPECS);
    const plain = formatServerTable(rows);
    expect(plain[0]?.split(/ {2,}/)).toEqual([
      'SERVER',
      'COLO',
      'ROLE',
      'STATE',
      'READ_ONLY',
      'LAG',
      'FROM',
      'GTID',
      'WATCHDOG',
      'UP FOR',
    ]);
    expect(plain.join('\n')).not.toContain('\x1b[');
    const roleAt = (plain[0] as string).indexOf('ROLE');
    expect((plain[1] as string).indexOf('writer')).toBe(roleAt);
    const coloured = formatServerTable(rows, { colour: true });
    expect(coloured[1]).toContain('\x1b[32mup');
    expect(coloured[0]).not.toContain('\x1b[');
  });
});
