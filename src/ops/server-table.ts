/**
 * `baton status`'s one row per server (issue 14), in the spirit of `patronictl list`: where it
 * is, what it is, whether it is healthy, how far behind, and which observers see it. Built from
 * the reports in etcd only, read as stored (a record from another version may lack fields).
 * Pure: colour is a parameter.
 */
import type { ClusterState } from './cluster-state.js';

export interface ServerSpec {
  name: string;
  colo: string;
  role: 'candidate' | 'replica';
}

interface ReportedNode {
  node: string;
  reachable?: boolean;
  health?: string;
  readOnly?: boolean;
  lagMs?: number;
  executedGtids?: string;
  watchdog?: string;
  replication?: { source?: string; ioState?: string; sqlRunning?: boolean }[];
}

/** Each observer's report of each node: observer → node → what it saw. */
function reportsByObserver(state: ClusterState): Map<string, Map<string, ReportedNode>> {
  const out = new Map<string, Map<string, ReportedNode>>();
  for (const [observer, report] of Object.entries(state.observations)) {
    const nodes = (report as { nodes?: unknown } | undefined)?.nodes;
    if (!Array.isArray(nodes)) continue;
    const seen = new Map<string, ReportedNode>();
    for (const n of nodes as ReportedNode[]) if (typeof n?.node === 'string') seen.set(n.node, n);
    out.set(observer, seen);
  }
  return out;
}

export const SERVER_COLUMNS = [
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
];

export type ServerState = 'up' | 'down' | 'quarantined' | 'broken replication' | 'unknown';

export type ServerRole = 'writer' | 'standby master' | 'replica' | '-';

/** Where a server replicates from, as its most informative observer saw it. */
export interface ReplicationSource {
  node: string;
  /** Both threads running (a stopped or reconnecting IO thread is not). */
  running: boolean;
}

export interface ServerRow {
  name: string;
  role: ServerRole;
  state: ServerState;
  /** Sources the observer resolved to a node (the web view's arrows); the FROM cell has them all. */
  sources: ReplicationSource[];
  cells: string[];
}

const GTID_WIDTH = 24;

export function serverRows(
  state: ClusterState,
  specs: readonly ServerSpec[],
  options: {
    wide?: boolean;
    /** The writer to mark, when the caller holds a newer record than `state` (the HTTP side's watch). */
    writer?: string;
  } = {},
): ServerRow[] {
  const writer = options.writer ?? state.writer?.node;
  const byObserver = reportsByObserver(state);
  const observers = [...byObserver.keys()].sort();
  const reported = new Set([...byObserver.values()].flatMap((m) => [...m.keys()]));
  const names = specs.length > 0 ? specs.map((s) => s.name) : [...reported].sort();
  const quarantine = (state.quarantine ?? {}) as Record<string, unknown>;
  const broken = ((state.replicas ?? {}) as { broken?: Record<string, unknown> }).broken ?? {};
  return names.map((name) => {
    const spec = specs.find((s) => s.name === name);
    const views = observers
      .map((o) => ({ observer: o, view: byObserver.get(o)?.get(name) }))
      .filter((v): v is { observer: string; view: ReportedNode } => v.view !== undefined);
    // The most informative view: one that reached the server.
    const best = views.find((v) => v.view.reachable === true)?.view ?? views[0]?.view;
    const upBy = views.filter((v) => v.view.health === 'up').map((v) => v.observer);
    const role: ServerRole =
      writer === name ? 'writer' : spec?.role === 'candidate' ? 'standby master' : spec ? 'replica' : '-';
    const serverState: ServerState =
      quarantine[name] !== undefined
        ? 'quarantined'
        : broken[name] !== undefined
          ? 'broken replication'
          : upBy.length > 0
            ? 'up'
            : views.length > 0
              ? 'down'
              : 'unknown';
    const channels = (best?.replication ?? []).map((ch) => ({
      source: ch.source,
      running: ch.ioState === 'yes' && ch.sqlRunning !== false,
    }));
    const sources = channels.map((ch) => `${ch.source ?? '?'}${ch.running ? '' : ' (stopped)'}`).join(', ');
    const gtid = best?.executedGtids ?? '';
    return {
      name,
      role,
      state: serverState,
      sources: channels.flatMap((ch) =>
        ch.source === undefined ? [] : [{ node: ch.source, running: ch.running }],
      ),
      cells: [
        name,
        spec?.colo ?? '-',
        role,
        serverState,
        best?.readOnly === true ? 'ON' : best?.readOnly === false ? 'OFF' : '?',
        // The writer's own heartbeat lag is its echo through the other master: not a lag.
        // An unreachable server's last lag is history, not its lag.
        role !== 'writer' && best?.reachable === true && typeof best.lagMs === 'number'
          ? formatLag(best.lagMs)
          : '-',
        sources || '-',
        options.wide || gtid.length <= GTID_WIDTH ? gtid || '-' : `${gtid.slice(0, GTID_WIDTH - 1)}…`,
        best?.watchdog ?? '-',
        upBy.length > 0 ? upBy.join(',') : 'nobody',
      ],
    };
  });
}

function formatLag(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(1)} s`;
}

const COLOURS: Record<ServerState, string> = {
  up: '\x1b[32m',
  down: '\x1b[31m',
  'broken replication': '\x1b[31m',
  quarantined: '\x1b[33m',
  unknown: '\x1b[33m',
};

/** Aligned lines under a header; the STATE cell coloured when asked (a TTY without NO_COLOR). */
export function formatServerTable(rows: readonly ServerRow[], options: { colour?: boolean } = {}): string[] {
  const all = [SERVER_COLUMNS, ...rows.map((r) => r.cells)];
  const widths = SERVER_COLUMNS.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const stateColumn = SERVER_COLUMNS.indexOf('STATE');
  return all.map((cells, rowIndex) =>
    cells
      .map((cell, i) => {
        const padded = i === cells.length - 1 ? cell : cell.padEnd(widths[i] as number);
        const row = rows[rowIndex - 1];
        if (!options.colour || i !== stateColumn || !row) return padded;
        return `${COLOURS[row.state]}${padded}\x1b[0m`;
      })
      .join('  ')
      .trimEnd(),
  );
}
