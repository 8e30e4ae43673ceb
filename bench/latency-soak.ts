/**
 * No false positive from latency alone (issue 11): a lab on a WAN profile, a client writing all
 * along, and latency spikes now and then; at the end, the writer must be the one it started with,
 * at the same epoch, with no fence, promote or skip in history.
 *   npm run bench:soak -- [--wan PROFILE] [--minutes M] [--witness-ms MS]
 *                         [--spike-factor F] [--spike-seconds S] [--quiet-seconds Q] [--seed N]
 * --witness-ms sets every link to and from w to MS one way (the witness alone far away).
 * Spikes multiply every link delay by F for S seconds, with a seeded random 0.5–1.5 × Q seconds
 * of quiet between them. Exits 1 if the writer moved or was fenced.
 */
import { DEFAULT_WAN_PROFILE, WAN_PROFILE_NAMES, type WanProfileName } from '../src/lab/wan-profile.js';
import { startScenario } from '../test/integration/support/scenario.js';
import { prng } from '../test/unit/core/prng.js';
import { arg, usage as exitWithUsage } from './cli-args.js';

function usage(message: string): never {
  return exitWithUsage('soak', message);
}

function positive(name: string, fallback: string): number {
  const value = Number(arg(name, fallback));
  if (!Number.isFinite(value) || value <= 0) usage(`--${name} ${arg(name, fallback)}: a positive number`);
  return value;
}

const wan = arg('wan', DEFAULT_WAN_PROFILE) as WanProfileName;
if (!WAN_PROFILE_NAMES.includes(wan)) usage(`--wan ${wan}: one of ${WAN_PROFILE_NAMES.join(', ')}`);
const minutes = positive('minutes', '10');
const factor = positive('spike-factor', '3');
const spikeSeconds = positive('spike-seconds', '2');
const quietSeconds = positive('quiet-seconds', '30');
const witnessMs = arg('witness-ms', '');
const seed = Number(arg('seed', String(Date.now() % 100_000)));
const next = prng(seed).next;

const scenario = await startScenario({ policy: 'availability', wan });
let failed = false;
try {
  if (witnessMs !== '') {
    for (const [from, to] of [
      ['a', 'w'],
      ['w', 'a'],
      ['b', 'w'],
      ['w', 'b'],
    ] as const) {
      await scenario.lab.fault('delay', from, to, witnessMs);
    }
  }
  const before = await scenario.clusterState();
  const startedAt = Date.now();
  const endAt = startedAt + minutes * 60_000;
  console.log(
    `soak seed ${seed}: ${wan}${witnessMs ? `, witness at ${witnessMs} ms` : ''} for ${minutes} min, ` +
      `spikes ×${factor} for ${spikeSeconds} s; writer ${before.writer?.node} at epoch ${before.writer?.epoch}`,
  );
  let spikes = 0;
  while (Date.now() < endAt) {
    const quietMs = quietSeconds * 1000 * (0.5 + next());
    await new Promise((resolve) => setTimeout(resolve, Math.min(quietMs, Math.max(0, endAt - Date.now()))));
    if (Date.now() >= endAt) break;
    await scenario.lab.fault('spike', '--factor', String(factor), '--for', String(spikeSeconds));
    spikes++;
  }
  const after = await scenario.clusterState();
  const seen = new Set(before.history.map((h) => JSON.stringify(h)));
  const events = after.history.filter(
    (h) => !seen.has(JSON.stringify(h)) && ['fence', 'promote', 'skip', 'quarantine'].includes(h.event),
  );
  const { outages } = await scenario.finish();
  const longest = Math.max(0, ...outages.map((o) => o.ms));
  const moved = after.writer?.node !== before.writer?.node || after.writer?.epoch !== before.writer?.epoch;
  failed = moved || events.length > 0;
  console.log(
    `== soak ${wan}${witnessMs ? ` (witness ${witnessMs} ms)` : ''}: ${minutes} min, ${spikes} spikes; ` +
      `writer ${after.writer?.node}@${after.writer?.epoch} (${moved ? 'MOVED' : 'unchanged'}), ` +
      `${events.length} fence/promote/skip/quarantine entries, longest client gap ${longest} ms, ` +
      `${scenario.client.acks.length} writes acknowledged`,
  );
  for (const e of events) console.log(`  ${e.event} ${e.reason}: ${e.message}`);
} finally {
  await scenario.lab.down();
}
process.exit(failed ? 1 : 0);
