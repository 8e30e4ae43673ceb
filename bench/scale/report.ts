/** The scale bench's Markdown tables, from its results (pure: the numbers in, text out). */
import { percentile } from './measure.js';
import type { ScaleResult } from './scale-run.js';

/** A figure with `digits` decimals, or "–" where nothing was measured. */
export function fixed(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** The decision-cycle histogram's largest finite bucket (src/http/metrics.ts): beyond it, only "at least". */
const CYCLE_HISTOGRAM_TOP_MS = 5_000;

function cycleMs(value: number | undefined): string {
  return value !== undefined && value >= CYCLE_HISTOGRAM_TOP_MS
    ? `≥${CYCLE_HISTOGRAM_TOP_MS}`
    : fixed(value, 1);
}

export function coordinatorTable(results: readonly ScaleResult[]): string {
  const lines = [
    '| clusters | coordinator | CPU % of a core | RSS MB (max) | cycles/s per cluster | decision cycle mean / p50 / p99 ms | event-loop lag p99 ms |',
    '|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    for (const c of r.coordinators) {
      lines.push(
        `| ${r.clusters} | coord-${c.site} | ${fixed(c.cpuPercent, 1)} | ${fixed(c.rssMb, 0)} (${fixed(c.rssMaxMb, 0)}) | ` +
          `${fixed(c.cyclesPerClusterSecond, 2)} | ${fixed(c.cycleMeanMs, 1)} / ${cycleMs(c.cycleP50Ms)} / ${cycleMs(c.cycleP99Ms)} | ` +
          `${fixed(c.eventLoopLagP99Ms, 1)} |`,
      );
    }
  }
  return lines.join('\n');
}

export function etcdTable(results: readonly ScaleResult[]): string {
  const lines = [
    '| clusters | puts/s | txns/s | revisions/s | deletes/s | ranges/s | gRPC calls+streams/s | keys | db MB (in use) | db growth MB/min | etcd CPU % a/b/w | etcd RSS MB a/b/w | leader changes |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|',
  ];
  for (const r of results) {
    const e = r.etcd;
    lines.push(
      `| ${r.clusters} | ${fixed(e.putsPerSecond, 0)} | ${fixed(e.txnsPerSecond, 0)} | ${fixed(e.revisionsPerSecond, 0)} | ` +
        `${fixed(e.deletesPerSecond, 1)} | ${fixed(e.rangesPerSecond, 0)} | ${fixed(e.grpcStartedPerSecond, 0)} | ${fixed(e.keys, 0)} | ` +
        `${fixed(e.dbSizeMb, 1)} (${fixed(e.dbInUseMb, 1)}) | ${fixed(e.dbGrowthMbPerMinute, 2)} | ` +
        `${e.members.map((m) => fixed(m.cpuPercent, 1)).join(' / ')} | ${e.members.map((m) => fixed(m.rssMb, 0)).join(' / ')} | ${fixed(e.leaderChanges, 0)} |`,
    );
  }
  return lines.join('\n');
}

export function grpcTable(results: readonly ScaleResult[]): string {
  const lines = [
    '| clusters | gRPC calls and streams started per second, by method (all members) |',
    '|---:|---|',
  ];
  for (const r of results) {
    const methods = r.etcd.grpcByMethod.map(
      ([method, rate]) => `${method} ${fixed(rate, rate < 10 ? 1 : 0)}`,
    );
    lines.push(`| ${r.clusters} | ${methods.join(', ')} |`);
  }
  return lines.join('\n');
}

export function runTable(results: readonly ScaleResult[]): string {
  const lines = [
    '| clusters | start-up: writers after s | writer open % of cluster-seconds | read_only changes in the idle window | ' +
      'failover ms (each) | failover max ms | fakes CPU % (event-loop p99 ms) | round trips/s to fakes | ' +
      'machine busy % of all cores | CPU stall % (PSI some) | load avg before → after |',
    '|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of results) {
    const times = r.failovers.flatMap((f) => (f.ms === undefined ? [] : [f.ms]));
    const each = r.failovers.map((f) => (f.ms === undefined ? 'none' : String(Math.round(f.ms)))).join(', ');
    const cells = [
      r.clusters,
      `${r.writersAtStart}/${r.clusters} after ${fixed(r.startupSeconds, 1)}`,
      fixed(r.writableShare * 100, 1),
      r.windowReadOnlyChanges.length,
      each || '–',
      fixed(percentile(times, 100), 0),
      `${fixed(r.fakes.cpuPercent, 1)} (${fixed(r.fakes.eventLoopP99Ms, 0)})`,
      fixed(r.fakes.roundTripsPerSecond, 0),
      fixed(r.machine.busyPercent, 0),
      fixed(r.machine.cpuStallPercent, 0),
      `${r.machine.loadBefore} → ${r.machine.loadAfter}`,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
