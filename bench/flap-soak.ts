/**
 * The flap soak (issue 13): a lab on a WAN profile, a client writing all along, and
 * `lab fault flap` putting short blips on it (writer stalls, writer-colo cuts, etcd-member
 * stalls). baton must ride every one out: no writer change and no fence. Reports each blip next
 * to the longest gap the client saw around it.
 *   npm run bench:flap -- [--wan PROFILE] [--minutes M] [--seed S]
 * Exits 1 if the writer moved or anything was fenced.
 */
import { flapFault, type BlipRecord } from '../src/lab/lab-flap.js';
import type { HistoryEntry } from '../src/core/history.js';
import { DEFAULT_WAN_PROFILE, WAN_PROFILE_NAMES, type WanProfileName } from '../src/lab/wan-profile.js';
import { startScenario } from '../test/integration/support/scenario.js';
import type { Ack } from '../test/integration/support/write-client.js';
import { arg, usage as exitWithUsage } from './cli-args.js';

export interface BlipOutcome {
  blip: BlipRecord;
  /** The longest gap between acknowledged writes that overlaps the blip or the 2 s after it. */
  longestGapMs: number;
}

export interface FlapSoakResult {
  wan: WanProfileName;
  minutes: number;
  seed: number;
  writerBefore: string;
  writerAfter: string;
  writerChanges: number;
  fences: HistoryEntry[];
  /** Other history entries the soak caused (skips, quarantines): context, not failures. */
  otherEntries: HistoryEntry[];
  blips: BlipOutcome[];
  acknowledged: number;
}

/** Nearest-rank percentile (the suite's own lives with its statistics; this file stands alone). */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** After a blip ends, a gap that began inside it can only be seen once the next write lands. */
const AFTERMATH_MS = 2_000;

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

export async function flapSoak(options: {
  wan: WanProfileName;
  minutes: number;
  seed: number;
  onBlip?: (line: string) => void;
}): Promise<FlapSoakResult> {
  const scenario = await startScenario({ policy: 'availability', wan: options.wan });
  try {
    // Settle: the client writes on a1 before the first blip.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const before = await scenario.clusterState();
    const records: BlipRecord[] = [];
    await flapFault(
      scenario.lab.dir,
      { minutes: String(options.minutes), seed: String(options.seed), json: true },
      (line) => {
        const parsed = JSON.parse(line) as BlipRecord | { message: string };
        if ('kind' in parsed) records.push(parsed);
        options.onBlip?.(
          'kind' in parsed ? `${parsed.kind} ${parsed.target} ${parsed.effectiveMs} ms` : parsed.message,
        );
      },
    );
    await new Promise((resolve) => setTimeout(resolve, AFTERMATH_MS));
    const after = await scenario.clusterState();
    await scenario.finish();
    const seen = new Set(before.history.map((h) => JSON.stringify(h)));
    const fresh = after.history.filter((h) => !seen.has(JSON.stringify(h)));
    const acks = scenario.client.acks;
    return {
      wan: options.wan,
      minutes: options.minutes,
      seed: options.seed,
      writerBefore: `${before.writer?.node}@${before.writer?.epoch}`,
      writerAfter: `${after.writer?.node}@${after.writer?.epoch}`,
      writerChanges: fresh.filter((h) => h.event === 'promote').length,
      fences: fresh.filter((h) => h.event === 'fence'),
      otherEntries: fresh.filter((h) => h.event !== 'promote' && h.event !== 'fence'),
      blips: records.map((blip) => ({
        blip,
        longestGapMs: longestGapOverlapping(
          acks,
          Date.parse(blip.startedAt),
          Date.parse(blip.endedAt) + AFTERMATH_MS,
        ),
      })),
      acknowledged: acks.length,
    };
  } finally {
    await scenario.lab.down();
  }
}

/** Per blip kind: how long the blips were and how long the client's longest gap around each was. */
export function describeFlapSoak(result: FlapSoakResult): string[] {
  const lines = [
    `== flap soak @ ${result.wan}, ${result.minutes} min, seed ${result.seed}: ${result.blips.length} blips, ` +
      `writer ${result.writerBefore} -> ${result.writerAfter}, writer changes ${result.writerChanges}, ` +
      `fences ${result.fences.length}, ${result.acknowledged} writes acknowledged`,
  ];
  const kinds = [...new Set(result.blips.map((b) => b.blip.kind))].sort();
  for (const kind of kinds) {
    const of = result.blips.filter((b) => b.blip.kind === kind);
    const lengths = of.map((b) => b.blip.effectiveMs);
    const gaps = of.map((b) => b.longestGapMs);
    const excess = of.map((b) => b.longestGapMs - b.blip.effectiveMs);
    const figures = (values: number[]): string =>
      `${Math.min(...values)} / ${percentile(values, 50)} / ${percentile(values, 99)} / ${Math.max(...values)}`;
    lines.push(
      `  ${kind} (${of.length}): blip ms min/p50/p99/max ${figures(lengths)}; client's longest gap ${figures(gaps)}; ` +
        `gap minus blip ${figures(excess)}`,
    );
  }
  for (const f of result.fences) lines.push(`  fence ${f.node} ${f.reason}: ${f.message}`);
  const reasons = new Map<string, number>();
  for (const e of result.otherEntries)
    reasons.set(`${e.event} ${e.reason}`, (reasons.get(`${e.event} ${e.reason}`) ?? 0) + 1);
  if (reasons.size > 0)
    lines.push(`  other history: ${[...reasons].map(([r, n]) => `${r} ×${n}`).join(', ')}`);
  return lines;
}

function usage(message: string): never {
  return exitWithUsage('flap', message);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const wan = arg('wan', DEFAULT_WAN_PROFILE) as WanProfileName;
  if (!WAN_PROFILE_NAMES.includes(wan)) usage(`--wan ${wan}: one of ${WAN_PROFILE_NAMES.join(', ')}`);
  const minutes = Number(arg('minutes', '2'));
  if (!Number.isFinite(minutes) || minutes <= 0) usage(`--minutes ${arg('minutes', '')}: a positive number`);
  const seed = Number(arg('seed', String(Date.now() % 100_000)));
  if (!Number.isInteger(seed) || seed < 0) usage(`--seed ${arg('seed', '')}: a whole number`);
  const result = await flapSoak({ wan, minutes, seed, onBlip: (line) => console.log(`  ${line}`) });
  for (const line of describeFlapSoak(result)) console.log(line);
  process.exit(result.writerChanges > 0 || result.fences.length > 0 ? 1 : 0);
}
