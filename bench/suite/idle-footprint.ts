/** A coordinator's footprint at rest: RSS and CPU of each coordinator on an idle lab. */
import { readFileSync } from 'node:fs';
import type { WanProfileName } from '../../src/lab/wan-profile.js';
import { startScenario } from '../../test/integration/support/scenario.js';
import { sleep } from './scenarios/support.js';

export interface IdleSample {
  coordinator: string;
  rssMb: number;
  cpuPercentOfCore: number;
  seconds: number;
}

/** Idle means steady state: start-up (lazy compilation, the first decisions) passes first. */
const SETTLE_MS = 10_000;

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

export async function idleFootprint(seconds: number, wan: WanProfileName): Promise<IdleSample[]> {
  const scenario = await startScenario({ policy: 'availability', wan });
  try {
    await scenario.client.stop();
    await sleep(SETTLE_MS);
    const coordinators = (await scenario.lab.status()).processes.filter((p) => p.kind === 'coordinator');
    const before = coordinators.map((c) => cpuTicks(c.pid));
    await sleep(seconds * 1000);
    const samples = coordinators.map((c, i) => ({
      coordinator: c.name,
      rssMb: Math.round(rssMb(c.pid) * 10) / 10,
      // /proc ticks are 1/100 s.
      cpuPercentOfCore:
        Math.round(((cpuTicks(c.pid) - (before[i] as number)) / 100 / seconds) * 10_000) / 100,
      seconds,
    }));
    await scenario.sampler.stop();
    return samples;
  } finally {
    await scenario.lab.down();
  }
}

export function formatIdle(sample: IdleSample): string {
  return `idle ${sample.coordinator}: RSS ${sample.rssMb.toFixed(1)} MB, CPU ${sample.cpuPercentOfCore.toFixed(2)} % of a core over ${sample.seconds} s`;
}
