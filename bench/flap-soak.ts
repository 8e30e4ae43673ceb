/**
 * The flap soak's own figures (issue 13): each blip `lab fault flap` applied, next to the longest
 * gap the measuring client saw around it. The soak itself is the suite's `flap-soak` scenario
 * (bench/suite/scenarios/flap-soak.ts; `npm run bench:flap`).
 */
import type { BlipKind } from '../src/lab/flap-schedule.js';
import type { BlipRecord } from '../src/lab/lab-flap.js';
import type { Ack } from '../test/integration/support/write-client.js';

/** After a blip ends, a gap that began inside it is only seen once the next write lands. */
export const AFTERMATH_MS = 2_000;

export interface BlipOutcome {
  blip: BlipRecord;
  /** The longest gap between acknowledged writes that overlaps the blip or the 2 s after it. */
  longestGapMs: number;
}

/** The longest gap between consecutive acks that overlaps [from, to]. */
export function longestGapOverlapping(acks: readonly Ack[], from: number, to: number): number {
  let longest = 0;
  for (let i = 1; i < acks.length; i++) {
    const start = (acks[i - 1] as Ack).ackedAt;
    const end = (acks[i] as Ack).ackedAt;
    if (end >= from && start <= to) longest = Math.max(longest, end - start);
  }
  return longest;
}

export function blipOutcomes(blips: readonly BlipRecord[], acks: readonly Ack[]): BlipOutcome[] {
  return blips.map((blip) => ({
    blip,
    longestGapMs: longestGapOverlapping(
      acks,
      Date.parse(blip.startedAt),
      Date.parse(blip.endedAt) + AFTERMATH_MS,
    ),
  }));
}

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

function spread(values: readonly number[]): string {
  return `${Math.min(...values)} / ${percentile(values, 50)} / ${percentile(values, 99)} / ${Math.max(...values)} ms`;
}

/** One line per kind of blip: their lengths, the client's longest gaps, and the gap beyond the blip. */
export function describeBlipOutcomes(outcomes: readonly BlipOutcome[]): string[] {
  const kinds = [...new Set(outcomes.map((o) => o.blip.kind))].sort() as BlipKind[];
  return kinds.map((kind) => {
    const of = outcomes.filter((o) => o.blip.kind === kind);
    return (
      `${kind} ×${of.length}: blip min/p50/p99/max ${spread(of.map((o) => o.blip.effectiveMs))}; ` +
      `client's longest gap ${spread(of.map((o) => o.longestGapMs))}; ` +
      `gap beyond the blip ${spread(of.map((o) => o.longestGapMs - o.blip.effectiveMs))}`
    );
  });
}
