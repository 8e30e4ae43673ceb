import { Command, InvalidArgumentError } from 'commander';
import { systemClock } from '../clock.js';
// The runtime part (with the intent schema's zod) is loaded by the commands that read the state.
import type { ClusterState } from '../ops/cluster-state.js';
import {
  filterHistory,
  formatHistoryTable,
  parseDuration,
  type StoredHistoryEntry,
} from '../ops/history-format.js';
import { formatServerTable, serverRows, type ServerSpec } from '../ops/server-table.js';
import { oneLine } from '../problem-text.js';
import { addTargetOptions, openTarget, type TargetOptions } from './cluster-target.js';
import { action } from './user-error.js';

function age(wallMs: number | undefined): string {
  if (!wallMs) return '?';
  const seconds = Math.max(0, Math.round((Date.now() - wallMs) / 1000));
  return seconds < 120 ? `${seconds}s ago` : `${Math.round(seconds / 60)}m ago`;
}

/**
 * One intent. An invalid one (a value put in etcd by hand) says what is wrong with it: without
 * that an operator sees only "invalid" until the leader marks it failed.
 */
function intentLine(intent: ClusterState['intents'][number]): string {
  const line = `${intent.kind} ${oneLine(intent.id, 80)} ${intent.status} by ${intent.by}`;
  return intent.kind === 'invalid' ? `${line}: ${intent.problem}` : line;
}

/** Each probed node's watchdog state, as the observers last reported it (DESIGN.md "Watchdog"). */
function watchdogStates(state: ClusterState): string[] {
  const seen = new Map<string, string>();
  for (const report of Object.values(state.observations)) {
    // Reports are shown as stored: a record from another version may lack fields.
    const nodes = (report as { nodes?: unknown } | undefined)?.nodes;
    if (!Array.isArray(nodes)) continue;
    for (const n of nodes as Array<{ node?: unknown; watchdog?: unknown }>)
      if (typeof n.node === 'string' && typeof n.watchdog === 'string') seen.set(n.node, n.watchdog);
  }
  return [...seen].sort(([x], [y]) => x.localeCompare(y)).map(([node, s]) => `${node} ${s}`);
}

interface QuarantineLike {
  node: string;
  status: string;
  epoch: number;
  errantGtids?: string;
}

interface ReplicaHealthLike {
  broken?: Record<string, { thread: string; errno: number; message: string }>;
  diverging?: Record<string, { errantGtids: string }>;
  semiSyncOff?: Record<string, { since: number; clients: number }>;
}

/** Semi-sync as each node was last reported: master on/fallen back with ACKers, or ACKing. */
function semiSyncStates(state: ClusterState): string[] {
  const seen = new Map<string, string>();
  for (const report of Object.values(state.observations)) {
    const nodes = (report as { nodes?: unknown } | undefined)?.nodes;
    if (!Array.isArray(nodes)) continue;
    for (const n of nodes as Array<{
      node?: unknown;
      reachable?: unknown;
      semiSync?: Record<string, unknown>;
    }>) {
      const ss = n.semiSync;
      if (typeof n.node !== 'string' || !ss || n.reachable !== true) continue;
      const text = ss.masterEnabled
        ? `${n.node} ${ss.masterOn ? 'on' : 'OFF (async)'} ${String(ss.clients)} ACKer(s) ${String(ss.waitPoint)} ${String(ss.timeoutMs)} ms`
        : `${n.node} ACKs`;
      seen.set(n.node, text);
    }
  }
  return [...seen].sort(([x], [y]) => x.localeCompare(y)).map(([, text]) => text);
}

export interface StatusLook {
  /** The cluster's nodes from the spec: the server table's order, colos and roles. */
  specs?: readonly ServerSpec[];
  /** Full GTID positions. */
  wide?: boolean;
  colour?: boolean;
}

export function formatClusterState(state: ClusterState, look: StatusLook = {}): string {
  const lines = [`cluster ${state.cluster} (etcd revision ${state.revision})`];
  lines.push(`  leader:    ${state.leader ? `${state.leader.coordinator} (${state.leader.key})` : 'none'}`);
  lines.push(
    `  writer:    ${state.writer ? `${state.writer.node} epoch ${state.writer.epoch} since ${age(state.writer.since)} (${state.writer.reason})` : 'none recorded'}`,
  );
  lines.push(
    `  pin:       ${state.pin ? `${state.pin.node ?? 'current writer'} by ${state.pin.by} (${state.pin.reason})` : 'none'}`,
  );
  if (state.operation) lines.push(`  operation: ${JSON.stringify(state.operation)}`);
  for (const q of Object.values((state.quarantine ?? {}) as Record<string, QuarantineLike>)) {
    lines.push(
      `  quarantine: ${q.node} ${q.status}${q.errantGtids ? ` (errant ${q.errantGtids})` : ''} since epoch ${q.epoch}`,
    );
  }
  const replicas = (state.replicas ?? {}) as ReplicaHealthLike;
  for (const [node, b] of Object.entries(replicas.broken ?? {}))
    lines.push(`  BROKEN:    ${node} replication ${b.thread} thread stopped, error ${b.errno}: ${b.message}`);
  for (const [node, d] of Object.entries(replicas.diverging ?? {}))
    lines.push(`  diverging: ${node} holds ${d.errantGtids} the writer lacks (quarantined if it lasts)`);
  for (const [node, s] of Object.entries(replicas.semiSyncOff ?? {}))
    lines.push(`  WARNING:   ${node} semi-sync fell back to async (${s.clients} ACKer(s)) ${age(s.since)}`);
  const semiSync = semiSyncStates(state);
  if (semiSync.length > 0) lines.push(`  semi-sync: ${semiSync.join(', ')}`);
  const lastFailover = [...state.history]
    .reverse()
    .find((h) => h.event === 'promote' && h.lostGtids !== undefined);
  if (lastFailover)
    lines.push(
      `  last failover: ${lastFailover.message} ${age((lastFailover as { wallAt?: number }).wallAt)}, lost: ${lastFailover.lostGtids || 'nothing'}`,
    );
  const pending = state.intents.filter((i) => i.status === 'pending' || i.status === 'in-progress');
  for (const intent of pending) lines.push(`  intent:    ${intentLine(intent)}`);
  lines.push(`  observers: ${Object.keys(state.observations).join(', ') || 'none'}`);
  const watchdogs = watchdogStates(state);
  if (watchdogs.length > 0) lines.push(`  watchdog:  ${watchdogs.join(', ')}`);
  const servers = serverRows(state, look.specs ?? [], { wide: look.wide === true });
  if (servers.length > 0) {
    lines.push('');
    for (const line of formatServerTable(servers, { colour: look.colour === true })) lines.push(`  ${line}`);
  }
  const recent = state.history.slice(-5) as StoredHistoryEntry[];
  if (recent.length > 0) {
    lines.push('', '  recent history:');
    for (const line of formatHistoryTable(recent, { header: false })) lines.push(`    ${line}`);
  }
  return lines.join('\n');
}

/** Cursor home, then clear below: a redraw in place, without the flash of clearing first. */
const REDRAW_HOME = '\x1b[H';
const CLEAR_BELOW = '\x1b[J';
const CLEAR_LINE_END = '\x1b[K';

export function statusCommand(): Command {
  const command = new Command('status').description(
    'leader, writer, every server (role, state, lag, who sees it), pin, intents and recent history',
  );
  addTargetOptions(command)
    .option('--json', 'machine-readable output', false)
    .option('--wide', 'full GTID positions', false)
    .option('--watch', 'redraw every second, like watch(1); Ctrl-C to stop', false)
    .action(
      action(async (opts: TargetOptions & { json: boolean; wide: boolean; watch: boolean }) => {
        const { readClusterState } = await import('../ops/cluster-state.js');
        const target = await openTarget(opts);
        const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
        const render = async (): Promise<string> => {
          const states = await Promise.all(
            target.clusters.map((c) =>
              target.etcd.attempt((store) => readClusterState(store, systemClock, c, 1_500)),
            ),
          );
          if (opts.json) return `${JSON.stringify(states, null, 2)}\n`;
          const text = states
            .map((state) =>
              formatClusterState(state, { specs: target.nodeSpecs(state.cluster), wide: opts.wide, colour }),
            )
            .join('\n\n');
          return `${text}\n`;
        };
        try {
          if (!opts.watch) {
            process.stdout.write(await render());
            return;
          }
          let stop = false;
          const onSignal = (): void => {
            stop = true;
          };
          process.once('SIGINT', onSignal);
          process.once('SIGTERM', onSignal);
          process.stdout.write('\x1b[2J');
          while (!stop) {
            let body: string;
            try {
              body = await render();
            } catch (error) {
              body = `baton: ${(error as Error).message}\n`;
            }
            const stamped = `every 1 s, ${new Date().toLocaleTimeString()}\n\n${body}`;
            process.stdout.write(
              `${REDRAW_HOME}${stamped.replace(/\n/g, `${CLEAR_LINE_END}\n`)}${CLEAR_BELOW}`,
            );
            await new Promise((resolve) => setTimeout(resolve, 1_000));
          }
        } finally {
          target.close();
        }
      }),
    );
  return command;
}

function positiveCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number, 1 or more');
  return n;
}

function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 90s, 15m, 2h or 1d');
  return ms;
}

const HISTORY_EVENTS = [
  'promote',
  'fence',
  'skip',
  'pin',
  'unpin',
  'quarantine',
  'rejoin',
  'operation-completed',
  'hook',
];

export function historyCommand(): Command {
  const command = new Command('history').description(
    "a cluster's audit trail: writer changes, skipped failovers, pins, fences (local time)",
  );
  addTargetOptions(command)
    .option('--json', 'one JSON object per line (with its cluster), for scripts', false)
    .option('--last <n>', 'only the last N entries (after the other filters)', positiveCount)
    .option('--since <duration>', 'only entries from this long ago on: 90s, 15m, 2h, 1d', duration)
    .option('--event <type>', `only this kind of entry: ${HISTORY_EVENTS.join(', ')}, …`)
    .action(
      action(
        async (opts: TargetOptions & { json: boolean; last?: number; since?: number; event?: string }) => {
          const { readClusterState } = await import('../ops/cluster-state.js');
          const target = await openTarget(opts);
          try {
            for (const cluster of target.clusters) {
              const state = await target.etcd.attempt((store) =>
                readClusterState(store, systemClock, cluster, 1_500),
              );
              const entries = filterHistory(state.history as StoredHistoryEntry[], {
                ...(opts.last !== undefined ? { last: opts.last } : {}),
                ...(opts.since !== undefined ? { since: Date.now() - opts.since } : {}),
                ...(opts.event !== undefined ? { event: opts.event } : {}),
              });
              if (opts.json) {
                for (const entry of entries)
                  process.stdout.write(`${JSON.stringify({ cluster, ...entry })}\n`);
                continue;
              }
              if (target.clusters.length > 1) process.stdout.write(`cluster ${cluster}\n`);
              const lines = entries.length > 0 ? formatHistoryTable(entries) : ['(no entries)'];
              process.stdout.write(`${lines.join('\n')}\n`);
            }
          } finally {
            target.close();
          }
        },
      ),
    );
  return command;
}
