/**
 * Measures what the failover goals are about, on the real lab:
 *   npm run bench -- [--wan PROFILE] [--runs N] [--scenarios kill,hang,cut,switchover]
 *                    [--idle-seconds S]
 * Scenarios: kill (kill -9 of the writer a1), hang (SIGSTOP of a1), cut (site a cut off),
 * cut-raft-a (the same with etcd's raft leader inside site a), switchover (planned, through the
 * CLI), semisync-kill (kill -9 under 8 concurrent writers with `--semi-sync` and the consistency
 * policy: lost acknowledged rows and catch-up time besides the outage); kill-routed, cut-routed and
 * switchover-routed: the same through HAProxy's write port (`lab up --haproxy`), for a client that
 * only knows that port.
 * Each run starts its own lab on the profile (default: the lab's default), applies the scenario,
 * and measures what a client saw. Prints every run, then per scenario the statistic and its goal
 * (bench/goals.ts), a Markdown row for docs/benchmarks.md, then the coordinators' idle RSS and CPU
 * (--idle-seconds 0 skips it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_WAN_PROFILE, WAN_PROFILE_NAMES, type WanProfileName } from '../src/lab/wan-profile.js';
import { baton, eventually } from '../test/integration/support/lab.js';
import { checkData, describeData } from '../test/integration/support/data-check.js';
import { ackedRowsMissingOn, killWriterUnderLoad } from '../test/integration/support/kill-under-load.js';
import { startScenario, type Scenario } from '../test/integration/support/scenario.js';
import { ConcurrentWriters } from '../test/integration/support/writers.js';
import { acksByNonWriter, RoutedWriteClient } from '../test/integration/support/routed-write-client.js';
import { followWriter } from '../test/integration/support/writer-timeline.js';
import { arg, usage as exitWithUsage } from './cli-args.js';
import { goalsFor, oneWayMs, statistic } from './goals.js';
import { WRITER_FAULTS, applyWriterFault, undoWriterFault, type WriterFault } from './writer-faults.js';

const ROUTED = ['kill-routed', 'cut-routed', 'switchover-routed'] as const;
const SCENARIOS = [...WRITER_FAULTS, 'switchover', 'semisync-kill', ...ROUTED] as const;
type BenchScenario = (typeof SCENARIOS)[number];

function usage(message: string): never {
  return exitWithUsage('bench', message);
}

interface RunResult {
  /** The figure the goal is about: the write outage, or for a cut the time until b1 took writes. */
  ms: number;
  note: string;
}

/**
 * The client counts only stalls over 500 ms as outages; a move may be shorter (a kill on `lan`
 * once took 480 ms): then the gap between the last acknowledged write before the first on `node`
 * and that first one.
 */
function gapBeforeFirstAckOn(scenario: Scenario, node: string): number | undefined {
  const acks = scenario.client.acks;
  const first = acks.findIndex((a) => a.node === node);
  if (first < 1) return undefined;
  return (acks[first]?.ackedAt ?? 0) - (acks[first - 1]?.ackedAt ?? 0);
}

async function outageTo(scenario: Scenario, node: string): Promise<number> {
  const { outages } = await scenario.finish();
  const outage = outages.filter((o) => o.toNode === node).sort((a, b) => b.ms - a.ms)[0];
  const ms = outage?.ms ?? gapBeforeFirstAckOn(scenario, node);
  if (ms === undefined) throw new Error(`no outage measured (acks ${scenario.client.acks.length})`);
  return ms;
}

async function writerFault(fault: WriterFault, wan: WanProfileName): Promise<RunResult> {
  const scenario = await startScenario({ policy: 'availability', wan });
  try {
    const faultAt = await applyWriterFault(scenario.lab, fault);
    await scenario.waitForWriter('b1', 30_000);
    await eventually(
      async () => (scenario.client.acks.some((a) => a.node === 'b1') ? true : undefined),
      10_000,
      'a write on b1',
    );
    const outage = await outageTo(scenario, 'b1');
    const tookWrites = (scenario.client.acks.find((a) => a.node === 'b1')?.ackedAt ?? 0) - faultAt;
    return {
      ms: fault.startsWith('cut') ? tookWrites : outage,
      note: `write outage ${outage} ms, b1 took writes ${tookWrites} ms after the fault`,
    };
  } finally {
    await undoWriterFault(scenario.lab, fault);
    await scenario.lab.down();
  }
}

async function switchover(wan: WanProfileName): Promise<RunResult> {
  const scenario = await startScenario({ policy: 'availability', wan });
  try {
    const result = await baton(['switchover', '--lab', scenario.lab.dir, '--to', 'b1', '--timeout', '30']);
    if (result.code !== 0) throw new Error(`switchover failed: ${result.stderr.trim()}`);
    await scenario.waitForWriter('b1', 10_000);
    await eventually(
      async () => (scenario.client.acks.some((a) => a.node === 'b1') ? true : undefined),
      10_000,
      'a write on b1',
    );
    await scenario.finish();
    const gap = gapBeforeFirstAckOn(scenario, 'b1');
    if (gap === undefined) throw new Error('no write on a1 before the first on b1');
    return { ms: gap, note: `gap between the last write on a1 and the first on b1 ${gap} ms` };
  } finally {
    await scenario.lab.down();
  }
}

/** Issue 10: semi-sync in each colo, consistency policy, kill -9 under 8 concurrent writers. */
async function semiSyncKill(wan: WanProfileName): Promise<RunResult> {
  const scenario = await startScenario({ policy: 'consistency', semiSync: true, wan });
  const writers = new ConcurrentWriters(await scenario.lab.status(), 8);
  try {
    const state = await killWriterUnderLoad(scenario, writers);
    await eventually(
      async () => (scenario.client.acks.some((a) => a.node === 'b1') ? true : undefined),
      10_000,
      'a write on b1',
    );
    await writers.stop();
    const outage = await outageTo(scenario, 'b1');
    const lost = (await ackedRowsMissingOn(scenario, writers, 'b1')).length;
    const promote = await scenario.waitForPromote(state.writer?.epoch ?? -1, 10_000);
    const catchUp = /caught up from (\S+?)(?: in (\d+) ms)?\)/.exec(promote.message);
    if (lost > 0) throw new Error(`${lost} acknowledged rows not on b1 (${promote.message})`);
    // a1 returns: it must rejoin with b1's rows (its crash-truncated tail fetched back) or be quarantined.
    await scenario.lab.fault('start', 'a1');
    const quarantined = await scenario.quarantineVerdicts(30_000);
    const rejoined = await checkData(await scenario.lab.status(), 'b1', quarantined);
    const differs = rejoined.servers.filter((x) => !x.matches && !x.quarantined);
    if (differs.length > 0) throw new Error(`after a1 returned:\n${describeData(rejoined)}`);
    const a1 = rejoined.servers.find((x) => x.node === 'a1');
    const refetched = readdirSync(path.join(scenario.lab.dir, 'logs')).some((file) =>
      readFileSync(path.join(scenario.lab.dir, 'logs', file), 'utf8').includes('crash-truncated tail'),
    );
    return {
      ms: outage,
      note:
        `write outage ${outage} ms, ${writers.acked.length} rows acknowledged, lost 0, ` +
        (catchUp ? `caught up from ${catchUp[1]} in ${catchUp[2] ?? '?'} ms` : 'no catch-up needed') +
        `; a1 returned ${a1?.matches ? 'matching b1' : 'quarantined'}` +
        (refetched ? ' (its truncated tail fetched back from b1)' : ''),
    };
  } finally {
    await writers.stop();
    await scenario.lab.down();
  }
}

/**
 * Issue 12: the same faults, for a client that knows only HAProxy's write port. The figure is
 * the longest gap between its acknowledged writes; every acknowledgement is checked against the
 * writer record of that moment.
 */
async function routed(move: 'kill' | 'cut' | 'switchover', wan: WanProfileName): Promise<RunResult> {
  const scenario = await startScenario({ policy: 'availability', wan, haproxy: true });
  const status = await scenario.lab.status();
  const timeline = await followWriter(status);
  const client = new RoutedWriteClient(status).start();
  try {
    await eventually(async () => (client.acks.length >= 20 ? true : undefined), 10_000, 'routed writes');
    if (move === 'switchover') {
      const result = await baton(['switchover', '--lab', scenario.lab.dir, '--to', 'b1', '--timeout', '30']);
      if (result.code !== 0) throw new Error(`switchover failed: ${result.stderr}`);
    } else {
      await applyWriterFault(scenario.lab, move);
    }
    await scenario.waitForWriter('b1', 30_000);
    await eventually(
      async () => (client.acks.filter((a) => a.node === 'b1').length >= 20 ? true : undefined),
      15_000,
      'routed writes on b1',
    );
    await client.stop();
    await scenario.finish();
    const gap = client.outages(0).sort((a, b) => b.ms - a.ms)[0];
    if (!gap) throw new Error('no gap measured');
    const wrong = acksByNonWriter(client.acks, timeline).length;
    if (move !== 'switchover') await undoWriterFault(scenario.lab, move);
    return {
      ms: gap.ms,
      note: `longest gap through HAProxy ${gap.ms} ms (${gap.fromNode} -> ${gap.toNode}), ${client.reconnects} reconnects, acknowledged by a non-writer: ${wrong}`,
    };
  } finally {
    await client.stop();
    await timeline.stop();
    await scenario.lab.down();
  }
}

function runOnce(scenario: BenchScenario, wan: WanProfileName): Promise<RunResult> {
  if (scenario === 'kill-routed') return routed('kill', wan);
  if (scenario === 'cut-routed') return routed('cut', wan);
  if (scenario === 'switchover-routed') return routed('switchover', wan);
  if (scenario === 'switchover') return switchover(wan);
  if (scenario === 'semisync-kill') return semiSyncKill(wan);
  return writerFault(scenario, wan);
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.replace(/\D+/g, '')) / 1024;
}

const SETTLE_MS = 10_000;

async function idleFootprint(seconds: number, wan: WanProfileName): Promise<void> {
  const scenario = await startScenario({ policy: 'availability', wan });
  try {
    await scenario.client.stop();
    // Idle means steady state: let start-up (lazy compilation, the first decisions) pass first.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const coordinators = (await scenario.lab.status()).processes.filter((p) => p.kind === 'coordinator');
    const before = coordinators.map((c) => cpuTicks(c.pid));
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    coordinators.forEach((c, i) => {
      const cpuPercent = ((cpuTicks(c.pid) - (before[i] as number)) / 100 / seconds) * 100;
      console.log(
        `idle ${c.name}: RSS ${rssMb(c.pid).toFixed(1)} MB, CPU ${cpuPercent.toFixed(2)} % of a core over ${seconds} s`,
      );
    });
    await scenario.sampler.stop();
  } finally {
    await scenario.lab.down();
  }
}

const wan = arg('wan', DEFAULT_WAN_PROFILE) as WanProfileName;
if (!WAN_PROFILE_NAMES.includes(wan)) usage(`--wan ${wan}: one of ${WAN_PROFILE_NAMES.join(', ')}`);
const runs = Number(arg('runs', '10'));
if (!Number.isInteger(runs) || runs < 1)
  usage(`--runs ${arg('runs', '')}: a whole number of runs, 1 or more`);
const scenarios = arg('scenarios', arg('faults', 'kill,hang,cut,switchover')).split(',') as BenchScenario[];
const unknown = scenarios.filter((s) => !SCENARIOS.includes(s));
if (unknown.length > 0) usage(`unknown scenario ${unknown.join(', ')}: one of ${SCENARIOS.join(', ')}`);

console.log(
  `WAN profile ${wan}: L = ${oneWayMs(wan)} ms one way (the profile's longest link), ${runs} runs each`,
);
const rows: string[] = [];
for (const scenario of scenarios) {
  const results: number[] = [];
  for (let i = 0; i < runs; i++) {
    try {
      const result = await runOnce(scenario, wan);
      results.push(result.ms);
      console.log(`${scenario} run ${i + 1}: ${result.note}`);
    } catch (error) {
      console.log(`${scenario} run ${i + 1} FAILED: ${(error as Error).message}`);
    }
  }
  if (results.length === 0) continue;
  const verdicts = goalsFor(scenario, wan).map((goal) => {
    const value = statistic(results, goal.statistic);
    return `${goal.statistic} ${value} ms (goal ≤ ${goal.limitMs} ms = ${goal.formula}: ${value <= goal.limitMs ? 'met' : 'NOT met'})`;
  });
  const figures = `p50 ${statistic(results, 'p50')} ms, p99 ${statistic(results, 'p99')} ms, max ${statistic(results, 'max')} ms`;
  console.log(
    `== ${scenario} @ ${wan} over ${results.length}/${runs} runs: ${figures}; ${verdicts.join('; ')}`,
  );
  rows.push(
    `| ${wan} | ${scenario} | ${results.length}/${runs} | ${figures} | ${verdicts.join('; ') || '—'} |`,
  );
}
console.log('\n| profile | scenario | runs | figures | goal |\n|---|---|---|---|---|');
for (const row of rows) console.log(row);
const idleSeconds = Number(arg('idle-seconds', '30'));
if (idleSeconds > 0) await idleFootprint(idleSeconds, wan);
