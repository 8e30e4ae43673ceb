import path from 'node:path';
import { WanProxy } from './wan-proxy.js';
import { readWanConfig, writeWanApplied, type AppliedSpike, type WanConfig } from './wan-config.js';

/**
 * Entry point of the lab's WAN proxy process: `node wan-proxy-main.js <dir>/wan.json`.
 * SIGHUP re-reads wan.json, so `baton lab fault delay|spike|heal` change latency on live
 * connections; every application is acknowledged in <dir>/wan-applied.json. A spike is ended
 * here, by timer, so it ends on time even if the command that started it is killed.
 */
const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: wan-proxy-main <wan.json>\n');
  process.exit(2);
}
const labDir = path.dirname(configPath);

let config = readWanConfig(configPath);
const proxy = new WanProxy(config.routes, config.sourceAddress);
let spike: AppliedSpike | null = null;
let spikeTimer: NodeJS.Timeout | undefined;
let appliedAt = new Date().toISOString();

function configureProxy(): void {
  const running = spike !== null && spike.endedAt === null;
  proxy.configure({
    delays: config.delays,
    jitterPercent: config.jitterPercent,
    spikeFactor: running ? (spike as AppliedSpike).factor : 1,
  });
}

function acknowledge(): void {
  writeWanApplied(labDir, { generation: config.generation, appliedAt, spike });
}

function endSpike(at: Date): void {
  clearTimeout(spikeTimer);
  if (spike && spike.endedAt === null) spike = { ...spike, endedAt: at.toISOString() };
}

/**
 * Ends the spike at `endsAtMs` on the wall clock, never before: a timer may fire a millisecond
 * early by the wall clock (the test of `--for 3` once measured 2,999 ms), and the benchmark's
 * blip lengths are read from these times.
 */
function scheduleSpikeEnd(id: number, endsAtMs: number): void {
  spikeTimer = setTimeout(
    () => {
      const now = new Date();
      if (now.getTime() < endsAtMs) return scheduleSpikeEnd(id, endsAtMs);
      endSpike(now);
      configureProxy();
      acknowledge();
      process.stdout.write(`spike ${id} ended\n`);
    },
    Math.max(1, endsAtMs - Date.now()),
  );
}

function apply(next: WanConfig): void {
  const now = new Date();
  config = next;
  appliedAt = now.toISOString();
  const requested = next.spike;
  if (requested === null) {
    endSpike(now);
  } else if (requested.id > (spike?.id ?? 0)) {
    endSpike(now);
    spike = {
      id: requested.id,
      factor: requested.factor,
      startedAt: now.toISOString(),
      endsAt: new Date(now.getTime() + requested.durationMs).toISOString(),
      endedAt: null,
    };
    scheduleSpikeEnd(requested.id, now.getTime() + requested.durationMs);
  }
  configureProxy();
  acknowledge();
  process.stdout.write(
    `generation ${next.generation}: delays ${JSON.stringify(next.delays)} jitter ${next.jitterPercent} %` +
      (spike?.endedAt === null ? ` spike x${spike.factor} until ${spike.endsAt}` : '') +
      '\n',
  );
}

process.on('SIGHUP', () => {
  try {
    apply(readWanConfig(configPath));
  } catch (error) {
    // The command that sent SIGHUP times out waiting for the acknowledgement and says so.
    process.stderr.write(`could not apply ${configPath}: ${(error as Error).message}\n`);
  }
});
await proxy.listen();
apply(config);
process.stdout.write(`wan proxy listening on ${config.routes.length} routes\n`);
