/**
 * The session TTL's trade-off (issue 13), measured on the lab: a longer TTL rides out longer
 * blips, a shorter one fails over sooner after a real colo cut.
 *   node --import tsx bench/ttl-tradeoff.ts [--wan PROFILE] [--ttls 4000,6000,10000] [--runs N] [--trials N]
 * Per TTL: the longest cut of the writer's colo that was ridden out in every trial (no fence, no
 * new epoch, no gap over 500 ms for a client that still reaches the writer), probed on a grid
 * around what the arithmetic predicts; then the colo-cut failover (cut until b1 took writes) and
 * the kill -9 failover (the client's write outage), each over --runs fresh labs. A TTL the
 * config refuses is reported with the refusal.
 */
import { DEFAULT_TIMINGS, keepaliveIntervalMs } from '../src/core/timings.js';
import { findNode } from '../src/lab/topology.js';
import { DEFAULT_WAN_PROFILE, WAN_PROFILE_NAMES, type WanProfileName } from '../src/lab/wan-profile.js';
import { eventually, faultEffectiveAt } from '../test/integration/support/lab.js';
import { sleep, startScenario, type Scenario } from '../test/integration/support/scenario.js';
import { arg, usage as exitWithUsage } from './cli-args.js';
import { longestGapOverlapping } from './flap-soak.js';

function usage(message: string): never {
  return exitWithUsage('ttl-tradeoff', message);
}

/** The watchdog closes a writer this long (stamp deadline + tick + slack) before its guardian's lease can expire. */
const WATCHDOG_LEAD_MS = DEFAULT_TIMINGS.probeTimeoutMs + 1_250;

/** Worst keepalive phase: the last acknowledged keepalive was sent one interval before the cut. */
export function predictedToleratedCutMs(ttlMs: number): number {
  return ttlMs - keepaliveIntervalMs(ttlMs) - WATCHDOG_LEAD_MS;
}

const NO_OUTAGE_MS = 500;

async function cutRiddenOut(scenario: Scenario, seconds: number): Promise<{ ok: boolean; why: string }> {
  const before = await scenario.clusterState();
  const writer = before.writer?.node ?? 'a1';
  const site = findNode(writer)?.site ?? 'a';
  const output = await scenario.lab.fault('cut', site, '--for', String(seconds));
  const startedAt = faultEffectiveAt(output);
  const endedAt = Date.parse(/lifted at (\S+Z)/.exec(output)?.[1] ?? '');
  await sleep(3_000);
  const after = await scenario.clusterState();
  const seen = new Set(before.history.map((h) => JSON.stringify(h)));
  const fresh = after.history.filter((h) => !seen.has(JSON.stringify(h)));
  const fences = fresh.filter((h) => h.event === 'fence').length;
  const gap = longestGapOverlapping(scenario.client.acks, startedAt, endedAt + 2_000);
  const sameEpoch = after.writer?.epoch === before.writer?.epoch && after.writer?.node === writer;
  const ok = fences === 0 && sameEpoch && gap < NO_OUTAGE_MS;
  const why = `cut ${endedAt - startedAt} ms: ${fences} fences, epoch ${before.writer?.epoch}->${after.writer?.epoch}, longest gap ${gap} ms`;
  if (!ok) {
    // Back to a steady writer before the next trial.
    await eventually(
      async () => ((await scenario.lab.status()).writable.length === 1 ? true : undefined),
      30_000,
      'one writable node again',
    );
    await sleep(5_000);
  }
  return { ok, why };
}

async function toleratedCut(wan: WanProfileName, ttlMs: number, trials: number): Promise<string> {
  const predicted = predictedToleratedCutMs(ttlMs);
  const grid = [-750, -500, -250, 0, 250, 500]
    .map((d) => Math.round((predicted + d) / 250) * 250)
    .filter((ms) => ms >= 250);
  const scenario = await startScenario({ policy: 'availability', wan, sessionTtlMs: ttlMs });
  let longest = 0;
  const notes: string[] = [];
  try {
    for (const ms of grid) {
      let all = true;
      for (let t = 0; t < trials; t++) {
        const result = await cutRiddenOut(scenario, ms / 1000);
        notes.push(`${result.ok ? 'ok' : 'NOT'} ${result.why}`);
        if (!result.ok) all = false;
        await sleep(2_000);
      }
      if (!all) break;
      longest = ms;
    }
  } finally {
    await scenario.lab.down();
  }
  for (const note of notes) console.log(`    ${note}`);
  return longest === 0 ? `< ${grid[0]} ms` : `${longest} ms`;
}

async function failoverMs(wan: WanProfileName, ttlMs: number, fault: 'kill' | 'cut'): Promise<number> {
  const scenario = await startScenario({ policy: 'availability', wan, sessionTtlMs: ttlMs });
  try {
    const at = faultEffectiveAt(
      await scenario.lab.fault(...(fault === 'kill' ? ['kill', 'a1'] : ['cut', 'a'])),
    );
    await scenario.waitForWriter('b1', 60_000);
    await eventually(
      async () => (scenario.client.acks.some((a) => a.node === 'b1') ? true : undefined),
      10_000,
      'a write on b1',
    );
    if (fault === 'cut') return (scenario.client.acks.find((a) => a.node === 'b1')?.ackedAt ?? 0) - at;
    const { outages } = await scenario.finish();
    const outage = outages.filter((o) => o.toNode === 'b1').sort((a, b) => b.ms - a.ms)[0];
    if (!outage) throw new Error('no outage measured');
    return outage.ms;
  } finally {
    if (fault === 'cut') await scenario.lab.fault('heal').catch(() => undefined);
    await scenario.lab.down();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

const wan = arg('wan', DEFAULT_WAN_PROFILE) as WanProfileName;
if (!WAN_PROFILE_NAMES.includes(wan)) usage(`--wan ${wan}: one of ${WAN_PROFILE_NAMES.join(', ')}`);
const ttls = arg('ttls', '4000,6000,10000').split(',').map(Number);
if (ttls.some((t) => !Number.isInteger(t) || t < 1000 || t % 1000 !== 0))
  usage('--ttls: whole seconds in ms, e.g. 4000,6000,10000');
const runs = Number(arg('runs', '3'));
const trials = Number(arg('trials', '2'));
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(trials) || trials < 1)
  usage('--runs and --trials: whole numbers, 1 or more');

const rows: string[] = [];
for (const ttl of ttls) {
  console.log(`TTL ${ttl} ms @ ${wan}: predicted longest ridden-out cut ${predictedToleratedCutMs(ttl)} ms`);
  try {
    const tolerated = await toleratedCut(wan, ttl, trials);
    const cuts: number[] = [];
    const kills: number[] = [];
    for (let i = 0; i < runs; i++) cuts.push(await failoverMs(wan, ttl, 'cut'));
    for (let i = 0; i < runs; i++) kills.push(await failoverMs(wan, ttl, 'kill'));
    const row = `| ${ttl / 1000} s | ${tolerated} (predicted ${predictedToleratedCutMs(ttl)} ms) | ${median(cuts)} / ${Math.max(...cuts)} ms | ${median(kills)} ms |`;
    console.log(`  cut failover ${cuts.join(', ')} ms; kill outage ${kills.join(', ')} ms`);
    rows.push(row);
  } catch (error) {
    const reason = (error as Error).message.split('\n').slice(0, 3).join(' ');
    console.log(`  TTL ${ttl}: ${reason}`);
    rows.push(`| ${ttl / 1000} s | refused or failed: ${reason} | — | — |`);
  }
}
console.log(
  `\n| session TTL | longest cut ridden out (${trials} trials each) | colo-cut failover p50 / max | kill failover p50 |\n|---|---|---|---|`,
);
for (const row of rows) console.log(row);
