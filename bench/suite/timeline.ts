/**
 * A run's timeline for its SVG: acknowledged writes per bucket, and the moments that explain the
 * gaps (the fault, the leader's failover decision, fences, writer and coordinator-leader changes),
 * all in ms relative to time zero.
 */
import type { HistoryEntry } from '../../src/core/index.js';
import type { Ack } from '../../test/integration/support/write-client.js';
import type { LeaderChange } from './cluster-watch.js';
import { firstFailoverDecision, type WriterChange } from './measure-run.js';

export const BUCKET_MS = 100;

export type MarkerKind = 'fault' | 'decision' | 'fence' | 'writer change' | 'leader change';

export interface Marker {
  kind: MarkerKind;
  atMs: number;
  label: string;
}

export interface Timeline {
  bucketMs: number;
  /** Start of the first bucket, relative to time zero (negative: before the fault). */
  fromMs: number;
  /** Acknowledged writes per bucket, by the node that acknowledged them. */
  buckets: { startMs: number; node: string; acks: number }[];
  markers: Marker[];
}

/**
 * Acknowledgements in [fromMs, toMs) relative to zeroAt, counted per bucket and node. Empty
 * buckets are listed (with node '') so that a gap shows as a gap, not as a missing bar.
 */
export function bucketAcks(
  acks: readonly Ack[],
  zeroAt: number,
  fromMs: number,
  toMs: number,
  bucketMs = BUCKET_MS,
): Timeline['buckets'] {
  const first = Math.floor(fromMs / bucketMs) * bucketMs;
  const counts = new Map<number, Map<string, number>>();
  for (let start = first; start < toMs; start += bucketMs) counts.set(start, new Map());
  for (const ack of acks) {
    const at = ack.ackedAt - zeroAt;
    if (at < fromMs || at >= toMs) continue;
    const byNode = counts.get(Math.floor(at / bucketMs) * bucketMs) as Map<string, number>;
    byNode.set(ack.node, (byNode.get(ack.node) ?? 0) + 1);
  }
  return [...counts].flatMap(([startMs, byNode]) =>
    byNode.size === 0
      ? [{ startMs, node: '', acks: 0 }]
      : [...byNode].sort(([a], [b]) => a.localeCompare(b)).map(([node, n]) => ({ startMs, node, acks: n })),
  );
}

export function timelineMarkers(
  zeroAt: number,
  zeroLabel: string,
  history: readonly HistoryEntry[],
  writerChanges: readonly WriterChange[],
  fromMs: number,
  toMs: number,
  leaderChanges: readonly LeaderChange[] = [],
): Marker[] {
  const markers: Marker[] = [{ kind: 'fault', atMs: 0, label: zeroLabel }];
  const decision = firstFailoverDecision(history, zeroAt);
  if (decision)
    markers.push({
      kind: 'decision',
      atMs: decision.at - zeroAt,
      label: `decision: ${decision.entry.reason}`,
    });
  for (const h of history) {
    if (h.event === 'fence')
      markers.push({ kind: 'fence', atMs: h.at - zeroAt, label: `fence ${h.node ?? ''} (${h.reason})` });
  }
  // The first record has seenAt 0: it was there before the watch, not a change.
  for (const c of writerChanges.slice(1)) {
    markers.push({ kind: 'writer change', atMs: c.seenAt - zeroAt, label: `writer ${c.node} @${c.epoch}` });
  }
  for (const c of leaderChanges.slice(1)) {
    markers.push({
      kind: 'leader change',
      atMs: c.seenAt - zeroAt,
      label: `leader ${c.coordinator ?? '(none)'}`,
    });
  }
  return markers.filter((m) => m.atMs >= fromMs && m.atMs <= toMs).sort((a, b) => a.atMs - b.atMs);
}

export function buildTimeline(
  acks: readonly Ack[],
  zeroAt: number,
  zeroLabel: string,
  history: readonly HistoryEntry[],
  writerChanges: readonly WriterChange[],
  leaderChanges: readonly LeaderChange[],
  fromMs: number,
  toMs: number,
): Timeline {
  return {
    bucketMs: BUCKET_MS,
    fromMs,
    buckets: bucketAcks(acks, zeroAt, fromMs, toMs),
    markers: timelineMarkers(zeroAt, zeroLabel, history, writerChanges, fromMs, toMs, leaderChanges),
  };
}
