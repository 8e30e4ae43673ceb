/**
 * Measures what the issue's performance targets are about, on the real lab:
 *   npm run bench -- [--runs N] [--faults kill,hang,cut,cut-raft-a] [--idle-seconds S]
 * For each fault, N runs of: lab with coordinators (availability policy) -> steady writes ->
 * fault on the writer (a1) -> b1 writable -> write outage as the client saw it. Prints every
 * run and p50/p99 per fault, then the coordinators' idle RSS and CPU.
 * cut-raft-a: see writer-faults.ts.
 */
import { readFileSync } from 'node:fs';
import { startScenario } from '../test/integration/support/scenario.js';
import { eventually } from '../test/integration/support/lab.js';
import { applyWriterFault, undoWriterFault, type WriterFault } from './writer-faults.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function runOnce(fault: WriterFault): Promise<number> {
  const scenario = await startScenario({ policy: 'availability' });
  try {
    const faultAt = await applyWriterFault(scenario.lab, fault);
    await scenario.waitForWriter('b1', 30_000);
    await eventually(
      async () => (scenario.client.acks.some((a) => a.node === 'b1') ? true : undefined),
      10_000,
      'a write on b1',
    );
    const { outages } = await scenario.finish();
    const outage = outages.find((o) => o.toNode === 'b1');
    if (!outage) throw new Error(`no outage measured (acks ${scenario.client.acks.length})`);
    const firstOnB1 = scenario.client.acks.find((a) => a.node === 'b1');
    console.log(
      `${fault}: write outage ${outage.ms} ms (b1 took writes ${(firstOnB1?.ackedAt ?? 0) - faultAt} ms after the fault)`,
    );
    return fault.startsWith('cut') ? (firstOnB1?.ackedAt ?? 0) - faultAt : outage.ms;
  } finally {
    await undoWriterFault(scenario.lab, fault);
    await scenario.lab.down();
  }
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

async function idleFootprint(seconds: number): Promise<void> {
  const scenario = await startScenario({ policy: 'availability' });
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

const runs = Number(arg('runs', '10'));
const faults = arg('faults', 'kill,hang,cut').split(',') as WriterFault[];
for (const fault of faults) {
  const results: number[] = [];
  for (let i = 0; i < runs; i++) {
    try {
      results.push(await runOnce(fault));
    } catch (error) {
      console.log(`${fault}: run ${i + 1} failed: ${(error as Error).message}`);
    }
  }
  if (results.length > 0) {
    const label = fault.startsWith('cut') ? 'new writer taking writes after the cut' : 'write outage';
    console.log(
      `== ${fault}: ${label} over ${results.length}/${runs} runs: p50 ${percentile(results, 50)} ms, p99 ${percentile(results, 99)} ms, max ${Math.max(...results)} ms`,
    );
  }
}
await idleFootprint(Number(arg('idle-seconds', '30')));
