import { Command } from 'commander';
import { systemClock } from '../clock.js';
import { readClusterState, type ClusterState } from '../ops/cluster-state.js';
import { addTargetOptions, openTarget, type TargetOptions } from './cluster-target.js';
import { action } from './user-error.js';

function age(wallMs: number | undefined): string {
  if (!wallMs) return '?';
  const seconds = Math.max(0, Math.round((Date.now() - wallMs) / 1000));
  return seconds < 120 ? `${seconds}s ago` : `${Math.round(seconds / 60)}m ago`;
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

export function formatClusterState(state: ClusterState): string {
  const lines = [`cluster ${state.cluster} (etcd revision ${state.revision})`];
  lines.push(`  leader:    ${state.leader ? `${state.leader.coordinator} (${state.leader.key})` : 'none'}`);
  lines.push(
    `  writer:    ${state.writer ? `${state.writer.node} epoch ${state.writer.epoch} since ${age(state.writer.since)} (${state.writer.reason})` : 'none recorded'}`,
  );
  lines.push(
    `  pin:       ${state.pin ? `${state.pin.node ?? 'current writer'} by ${state.pin.by} (${state.pin.reason})` : 'none'}`,
  );
  if (state.operation) lines.push(`  operation: ${JSON.stringify(state.operation)}`);
  if (state.quarantine && Object.keys(state.quarantine).length > 0)
    lines.push(`  quarantine: ${JSON.stringify(state.quarantine)}`);
  const pending = state.intents.filter((i) => i.status === 'pending' || i.status === 'in-progress');
  for (const intent of pending)
    lines.push(`  intent:    ${intent.kind} ${intent.id} ${intent.status} by ${intent.by}`);
  lines.push(`  observers: ${Object.keys(state.observations).join(', ') || 'none'}`);
  const watchdogs = watchdogStates(state);
  if (watchdogs.length > 0) lines.push(`  watchdog:  ${watchdogs.join(', ')}`);
  const recent = state.history.slice(-5);
  if (recent.length > 0) {
    lines.push('  recent history:');
    for (const entry of recent) lines.push(`    ${JSON.stringify(entry)}`);
  }
  return lines.join('\n');
}

export function statusCommand(): Command {
  const command = new Command('status').description(
    'leader, writer, pin, pending intents and recent history of each cluster',
  );
  addTargetOptions(command)
    .option('--json', 'machine-readable output', false)
    .action(
      action(async (opts: TargetOptions & { json: boolean }) => {
        const target = await openTarget(opts);
        try {
          const states = await Promise.all(
            target.clusters.map((c) =>
              target.etcd.attempt((store) => readClusterState(store, systemClock, c, 1_500)),
            ),
          );
          process.stdout.write(
            opts.json
              ? `${JSON.stringify(states, null, 2)}\n`
              : `${states.map(formatClusterState).join('\n\n')}\n`,
          );
        } finally {
          target.close();
        }
      }),
    );
  return command;
}

export function historyCommand(): Command {
  const command = new Command('history').description(
    "a cluster's audit trail: writer changes, skipped failovers, pins, fences",
  );
  addTargetOptions(command)
    .option('--json', 'one JSON object per line', false)
    .option('--last <n>', 'only the last N entries', (v) => Number(v))
    .action(
      action(async (opts: TargetOptions & { json: boolean; last?: number }) => {
        const target = await openTarget(opts);
        try {
          for (const cluster of target.clusters) {
            const state = await target.etcd.attempt((store) =>
              readClusterState(store, systemClock, cluster, 1_500),
            );
            const entries = opts.last ? state.history.slice(-opts.last) : state.history;
            for (const entry of entries)
              process.stdout.write(`${opts.json ? '' : `${cluster} `}${JSON.stringify(entry)}\n`);
          }
        } finally {
          target.close();
        }
      }),
    );
  return command;
}
