/**
 * One coordinator per site managing many clusters (issue 13, "One coordinator, many clusters"):
 *   npm run bench:scale -- [--clusters 10,50,200] [--idle-seconds 30] [--settle-seconds 20]
 *                          [--failovers 3] [--node-flags none|footprint|FLAG,FLAG] [--keep]
 * For each cluster count: three etcd members on loopback, 4 fake MariaDB servers per cluster
 * (bench/scale/fake-mariadb.ts, in this process), and `baton run` for sites a, b and w, all
 * managing every cluster. Once every cluster has a writer and start-up has settled, it measures
 * an idle window (coordinators' CPU, RSS and decision cycles; etcd's writes and database size;
 * the fakes' and the machine's load), then kills the writer a1 of `--failovers` clusters, one at
 * a time, and times each failover to b1. Prints Markdown tables for docs/scale.md.
 * `--node-flags none` (the default) runs the coordinators as baton ships them, `footprint` with the V8
 * footprint flags (FOOTPRINT_NODE_FLAGS), and a comma-separated list of node flags without their
 * dashes (`max-semi-space-size=1,optimize-for-size`) with those.
 * `--keep` keeps each run's directory (configs, logs, etcd data). Processes always stop.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FOOTPRINT_NODE_FLAGS } from '../src/lab/lab-coordinators.js';
import { VERSION } from '../src/version.js';
import { ScaleEnvironment, killRemainingChildren } from './scale/environment.js';
import { coordinatorTable, etcdTable, fixed, grpcTable, runTable } from './scale/report.js';
import { cpuPressureSummary, loadAverage } from './scale/measure.js';
import { measureScale, type ScaleResult } from './scale/scale-run.js';
import { arg, usage as exitWithUsage } from './cli-args.js';

const PROGRAM = 'bench:scale';
const VALUE_FLAGS = ['--clusters', '--idle-seconds', '--settle-seconds', '--failovers', '--node-flags'];
const SWITCHES = ['--keep'];

function usage(message: string): never {
  return exitWithUsage(
    PROGRAM,
    `${message} (usage: npm run bench:scale -- [--clusters 10,50,200] [--idle-seconds 30] ` +
      '[--settle-seconds 20] [--failovers 3] [--node-flags none|footprint|FLAG,FLAG] [--keep])',
  );
}

function checkFlags(argv: readonly string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (SWITCHES.includes(flag)) continue;
    if (!VALUE_FLAGS.includes(flag)) usage(`unknown argument ${flag}`);
    if (argv[i + 1] === undefined || (argv[i + 1] as string).startsWith('--')) usage(`${flag} needs a value`);
    i++;
  }
}

function wholeNumber(name: string, fallback: string, min: number): number {
  const text = arg(name, fallback);
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) usage(`--${name} ${text}: a whole number, ${min} or more`);
  return value;
}

checkFlags(process.argv.slice(2));
const clusterCounts = arg('clusters', '10,50,200')
  .split(',')
  .map((text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > 2000)
      usage(`--clusters ${text}: whole numbers from 1 to 2000, comma-separated`);
    return n;
  });
const idleSeconds = wholeNumber('idle-seconds', '30', 1);
const settleSeconds = wholeNumber('settle-seconds', '20', 0);
const failovers = wholeNumber('failovers', '3', 0);
/** none (what baton ships), footprint (FOOTPRINT_NODE_FLAGS), or node flags without their dashes, comma-separated. */
function parseNodeFlags(text: string): readonly string[] {
  if (text === 'footprint') return FOOTPRINT_NODE_FLAGS;
  if (text === 'none') return [];
  const flags = text.split(',');
  const bad = flags.find((f) => !/^[a-z][a-z0-9-]*(=[\w.]+)?$/.test(f));
  if (bad !== undefined)
    usage(
      `--node-flags ${text}: none, footprint (${FOOTPRINT_NODE_FLAGS.join(' ')}), or flags without dashes ` +
        `like max-semi-space-size=1,optimize-for-size`,
    );
  return flags.map((f) => `--${f}`);
}

const nodeFlags = parseNodeFlags(arg('node-flags', 'none'));
const keep = process.argv.includes('--keep');
if (!existsSync(fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))))
  usage('dist/cli/main.js is missing: run `npm run build` first (npm run bench:scale does)');

const log = (line: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

let current: { env?: ScaleEnvironment; dir: string } | undefined;
let stopping = false;

/** Ctrl-C or SIGTERM: stop what runs, remove the directory (unless --keep), exit 130. */
async function interrupted(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.error(`\n${signal}: stopping coordinators, etcd and the fake servers`);
  await current?.env?.stop().catch(() => undefined);
  if (current && !keep) rmSync(current.dir, { recursive: true, force: true });
  process.exit(130);
}
process.once('SIGINT', () => void interrupted('SIGINT'));
process.once('SIGTERM', () => void interrupted('SIGTERM'));
process.on('exit', killRemainingChildren);

log(
  `baton ${VERSION}, node ${process.version}, ${os.cpus().length} cores; clusters ${clusterCounts.join(', ')}; ` +
    `settle ${settleSeconds} s, idle ${idleSeconds} s, ${failovers} failover(s) each; coordinator node flags: ` +
    `${nodeFlags.join(' ') || 'none'}`,
);
const results: ScaleResult[] = [];
let failed = false;
for (const clusters of clusterCounts) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `baton-scale-${clusters}-`));
  current = { dir };
  log(`== ${clusters} clusters (${clusters * 4} fake servers), directory ${dir}`);
  log(`machine before the run: load average ${loadAverage()}, CPU pressure ${cpuPressureSummary()}`);
  try {
    const env = await ScaleEnvironment.start({ clusters, dir, nodeFlags, log });
    current.env = env;
    env.fleet.on('unmodelled', (statement: string) =>
      log(`fake servers: not modelled, answered with an error: ${statement}`),
    );
    try {
      const result = await measureScale(env, { settleSeconds, idleSeconds, failovers, log });
      results.push(result);
      for (const c of result.coordinators) {
        log(
          `coord-${c.site}: CPU ${fixed(c.cpuPercent, 1)} %, RSS ${fixed(c.rssMb, 0)} MB, ` +
            `${fixed(c.cyclesPerClusterSecond, 2)} cycles/s per cluster, ` +
            `cycle p50 ${fixed(c.cycleP50Ms, 1)} ms p99 ${fixed(c.cycleP99Ms, 1)} ms`,
        );
      }
      const e = result.etcd;
      log(
        `etcd: ${fixed(e.putsPerSecond, 0)} puts/s, ${fixed(e.txnsPerSecond, 0)} txns/s, ` +
          `${fixed(e.revisionsPerSecond, 0)} revisions/s, db ${fixed(e.dbSizeMb, 1)} MB ` +
          `(${fixed(e.dbGrowthMbPerMinute, 2)} MB/min)`,
      );
      for (const change of result.windowReadOnlyChanges)
        log(
          `read_only change in the idle window: ${change.server} read_only=${change.readOnly} by ${change.by}`,
        );
    } finally {
      current.env = undefined;
      await env.stop();
    }
  } catch (error) {
    failed = true;
    log(`${clusters} clusters FAILED: ${(error as Error).message}`);
  } finally {
    if (keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
    current = undefined;
  }
}

console.log(`\n### Coordinators (idle window ${idleSeconds} s after a ${settleSeconds} s settle)\n`);
console.log(coordinatorTable(results));
console.log('\n### etcd (counters of the raft leader, w; db growth over the idle window)\n');
console.log(etcdTable(results));
console.log('');
console.log(grpcTable(results));
console.log('\n### Failover of one cluster and the load around it\n');
console.log(runTable(results));
const unmodelled = new Map<string, number>();
for (const r of results)
  for (const [statement, count] of r.unmodelled)
    unmodelled.set(statement, (unmodelled.get(statement) ?? 0) + count);
if (unmodelled.size > 0) {
  console.log('\nStatements the fakes did not model (answered with error 1064):');
  for (const [statement, count] of unmodelled) console.log(`  ${count}× ${statement}`);
}
process.exit(failed ? 1 : 0);
