/**
 * One fault on the lab, with the coordinators' own account of it: where did the time go?
 *   node --import tsx bench/trace-fault.ts kill|hang|cut|cut-raft-a|switchover [OUT_DIR]
 * Starts a lab with coordinators and a write load, applies the fault to the writer (a1 / site a)
 * or switches over to b1, waits for b1 to take writes, keeps every log in OUT_DIR, and prints the
 * coordinators' decisions, actions, guardian and session events merged in time order, relative
 * to the fault (for a switchover: to the last write a1 acknowledged).
 * TRACE_WAN=PROFILE runs it on that WAN profile (default: the lab's default).
 * TRACE_DELAY_MS=N first adds N ms of one-way latency on every link between the sites.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_WAN_PROFILE, type WanProfileName } from '../src/lab/wan-profile.js';
import { baton, eventually } from '../test/integration/support/lab.js';
import { startScenario } from '../test/integration/support/scenario.js';
import { WRITER_FAULTS, applyWriterFault, undoWriterFault, type WriterFault } from './writer-faults.js';

const fault = (process.argv[2] ?? '') as WriterFault | 'switchover';
if (!WRITER_FAULTS.includes(fault as WriterFault) && fault !== 'switchover') {
  console.error(
    'usage: node --import tsx bench/trace-fault.ts kill|hang|cut|cut-raft-a|switchover [OUT_DIR]',
  );
  process.exit(2);
}
const out = process.argv[3] ?? mkdtempSync(path.join(tmpdir(), `baton-trace-${fault}-`));
const SHOWN = new Set(['decision', 'action', 'guardian', 'session-ended', 'session-opened', 'fence-command']);

const wan = (process.env.TRACE_WAN ?? DEFAULT_WAN_PROFILE) as WanProfileName;
const scenario = await startScenario({ policy: 'availability', wan });
let faultAt = 0;
const delayMs = Number(process.env.TRACE_DELAY_MS ?? '0');
if (delayMs > 0) {
  for (const [x, y] of ['ab', 'ba', 'aw', 'wa', 'bw', 'wb'])
    await scenario.lab.fault('delay', x as string, y as string, String(delayMs));
  await new Promise((resolve) => setTimeout(resolve, 8000));
}
try {
  const commandAt = Date.now();
  if (fault === 'switchover') {
    const result = await baton(['switchover', '--lab', scenario.lab.dir, '--to', 'b1', '--timeout', '30']);
    if (result.code !== 0) throw new Error(`switchover failed: ${result.stderr.trim()}`);
  } else {
    faultAt = await applyWriterFault(scenario.lab, fault);
    console.log(
      `fault took effect ${faultAt - commandAt} ms into its command, which returned after ${Date.now() - commandAt} ms`,
    );
  }
  await eventually(
    async () => (scenario.client.acks.some((a) => a.node === 'b1') ? true : undefined),
    30_000,
    'a write on b1',
  );
  if (fault === 'switchover') {
    // Times are relative to the last write a1 acknowledged: the start of the write gap.
    const acks = scenario.client.acks;
    faultAt = acks[acks.findIndex((a) => a.node === 'b1') - 1]?.ackedAt ?? commandAt;
    console.log(`switchover command started ${commandAt - faultAt} ms from the last write on a1`);
  }
  const first = scenario.client.acks.find((a) => a.node === 'b1');
  console.log(`first write acknowledged by b1 ${(first?.ackedAt ?? 0) - faultAt} ms after the fault`);
} finally {
  if (fault !== 'switchover') await undoWriterFault(scenario.lab, fault);
  await scenario.finish().catch((error: Error) => console.log(`invariants: ${error.message}`));
  cpSync(path.join(scenario.lab.dir, 'logs'), out, { recursive: true });
  await scenario.lab.down();
}

const lines: { at: number; text: string }[] = [];
for (const file of readdirSync(out).filter((f) => f.startsWith('coord-'))) {
  for (const raw of readFileSync(path.join(out, file), 'utf8').split('\n')) {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (!SHOWN.has(String(entry.event))) continue;
    const at = Date.parse(String(entry.time)) - faultAt;
    if (at < -1000) continue;
    const { time, level, pid, cluster, coordinator, component, msg, ...rest } = entry;
    void [time, level, pid, cluster, component];
    lines.push({
      at,
      text: `${String(coordinator ?? file).padEnd(2)} ${String(msg)} ${JSON.stringify(rest)}`,
    });
  }
}
for (const line of lines.sort((a, b) => a.at - b.at)) {
  console.log(`${String(line.at).padStart(6)} ms  ${line.text.slice(0, 220)}`);
}
console.log(`logs: ${out}`);
