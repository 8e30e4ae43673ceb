/**
 * The standard measures of one run, derived from what was recorded during it. Pure, so every rule
 * of what counts (and when a measure has no value) is unit-tested.
 */
import type { HistoryEntry } from '../../src/core/index.js';
import { acksByNonWriter } from '../../test/integration/support/routed-write-client.js';
import type { Ack } from '../../test/integration/support/write-client.js';
import { formatValue, measured, notMeasured, type Measure, type StandardMeasureName } from './measures.js';

export interface WriterChange {
  node: string;
  epoch: number;
  /** When the watch delivered it; 0 for the record that was already there when the watch started. */
  seenAt: number;
}

export interface RunFacts {
  /** Time zero (epoch ms): when the fault took effect, or when a switchover was requested. */
  zeroAt: number;
  /** A planned switchover: there is no failure to detect. */
  planned: boolean;
  /** When measuring started (the watch), before time zero. */
  observedFrom: number;
  /** When the measuring client was stopped. */
  endAt: number;
  /** The measuring client's acknowledgements. */
  acks: readonly Ack[];
  writerBefore: { node: string; epoch: number };
  writerAfter: { node: string; epoch: number } | undefined;
  /** Every writer record the watch saw, oldest first, the first one with seenAt 0. */
  writerChanges: readonly WriterChange[];
  /** The cluster's history, read after the run. */
  history: readonly HistoryEntry[];
  lostAckedWrites: Measure;
  /** Overlaps of two writable nodes the sampler proved. */
  twoWritable: number;
}

const ms = (n: number) => formatValue(n, 'ms');

/** A tail with no acknowledgement at least this long, and longer than every gap, means writes had not resumed. */
export const UNRESUMED_TAIL_MS = 1_000;

/** Skips that say a quorum judged the writer dead and a failover was held back (not "not dead yet"). */
function isFailoverDecision(entry: HistoryEntry): boolean {
  if (entry.event === 'promote') return entry.reason !== 'bootstrap-writer';
  if (entry.event === 'skip') return entry.reason.startsWith('skipped-');
  return entry.event === 'pin' && entry.reason === 'flap-budget-exhausted';
}

/** A journalled operation's id ends in the decision's time (`failover-<epoch>-<ms>`); its commit may be later. */
export function decidedAt(entry: HistoryEntry): number {
  const started = /-(\d{10,})$/.exec(entry.operationId ?? '');
  return started ? Number(started[1]) : entry.at;
}

export function firstFailoverDecision(
  history: readonly HistoryEntry[],
  zeroAt: number,
): { entry: HistoryEntry; at: number } | undefined {
  return history
    .filter(isFailoverDecision)
    .map((entry) => ({ entry, at: decidedAt(entry) }))
    .filter((d) => d.at >= zeroAt)
    .sort((x, y) => x.at - y.at)[0];
}

export function longestGapAfter(acks: readonly Ack[], zeroAt: number, endAt: number): Measure {
  const after = acks.filter((a) => a.ackedAt > zeroAt && a.ackedAt <= endAt);
  if (after.length === 0) {
    return notMeasured(
      `no write was acknowledged in the ${ms(endAt - zeroAt)} observed after the fault (the outage lasted at least that long)`,
    );
  }
  const lastBefore = acks.filter((a) => a.ackedAt <= zeroAt).at(-1);
  const times = [...(lastBefore ? [lastBefore.ackedAt] : []), ...after.map((a) => a.ackedAt)];
  let longest = 0;
  for (let i = 1; i < times.length; i++)
    longest = Math.max(longest, (times[i] as number) - (times[i - 1] as number));
  const tail = endAt - (times.at(-1) as number);
  if (tail >= UNRESUMED_TAIL_MS && tail > longest) {
    return notMeasured(
      `writes had not resumed when the run ended: no write acknowledged in its last ${ms(tail)} (the outage was at least that long)`,
    );
  }
  if (!lastBefore) return notMeasured('no write was acknowledged before the fault to measure a gap from');
  return measured(longest);
}

export function measureRun(facts: RunFacts): Record<StandardMeasureName, Measure> {
  const { zeroAt, writerBefore, writerAfter } = facts;
  const moved = writerAfter !== undefined && writerAfter.node !== writerBefore.node;
  const unchanged = `the writer did not change (still ${writerBefore.node})`;

  const firstOnNewWriter = moved
    ? facts.acks.find((a) => a.node === writerAfter.node && a.ackedAt > zeroAt)
    : undefined;
  const resumeMs = !moved
    ? notMeasured(unchanged)
    : firstOnNewWriter
      ? measured(firstOnNewWriter.ackedAt - zeroAt)
      : notMeasured(`no write was acknowledged by the new writer ${writerAfter.node}`);

  const decision = firstFailoverDecision(facts.history, zeroAt);
  const detectMs = facts.planned
    ? notMeasured('a planned switchover: there is no failure to detect')
    : decision
      ? measured(decision.at - zeroAt)
      : notMeasured('no failover decision (a failover or a skipped-* verdict) in history after the fault');

  const promotion = facts.writerChanges.find((c) => c.seenAt > zeroAt && c.node !== writerBefore.node);
  const promoteMs = promotion ? measured(promotion.seenAt - zeroAt) : notMeasured(unchanged);

  const fences = facts.history.filter((h) => h.event === 'fence' && h.at >= facts.observedFrom).length;

  let writerChanges = 0;
  for (let i = 1; i < facts.writerChanges.length; i++) {
    if (facts.writerChanges[i]?.node !== facts.writerChanges[i - 1]?.node) writerChanges++;
  }
  const observed = facts.acks.filter((a) => a.ackedAt >= facts.observedFrom);
  return {
    outageMs: longestGapAfter(facts.acks, zeroAt, facts.endAt),
    resumeMs,
    detectMs,
    promoteMs,
    lostAckedWrites: facts.lostAckedWrites,
    nonWriterAcks: measured(acksByNonWriter([...observed], { changes: [...facts.writerChanges] }).length),
    fences: measured(fences),
    epochChanges: writerAfter
      ? measured(writerAfter.epoch - writerBefore.epoch)
      : notMeasured('no writer record at the end of the run'),
    writerChanges: measured(writerChanges),
    twoWritable: measured(facts.twoWritable),
  };
}
