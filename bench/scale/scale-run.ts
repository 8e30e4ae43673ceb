/**
 * One cluster count's measurements on a started ScaleEnvironment: wait until every cluster has a
 * writer, let start-up pass, measure a steady idle window (coordinators, etcd, the fakes and the
 * machine), then fail over single clusters while the others stay quiet. A coordinator too busy to
 * answer a scrape leaves its metric figures empty ("–") rather than ending the run: that is a
 * result too.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { systemClock } from '../../src/clock.js';
import type { SiteName } from '../../src/lab/topology.js';
import type { Child, ScaleEnvironment } from './environment.js';
import type { ReadOnlyChange } from './fake-mariadb.js';
import {
  bucketDelta,
  cpuPressureStallUs,
  cpuSeconds,
  histogramBuckets,
  histogramQuantile,
  httpGetText,
  loadAverage,
  machineTicks,
  parsePrometheus,
  rssMb,
  total,
  type Sample,
} from './measure.js';

const SCRAPE_TIMEOUT_MS = 10_000;
const ETCD_CALL_TIMEOUT_MS = 5_000;
const FAILOVER_TIMEOUT_MS = 30_000;
/** Between two failovers, for the first cluster's moves (repoints, quarantine) to be done with. */
const FAILOVER_GAP_MS = 5_000;
const CYCLE_HISTOGRAM = 'baton_decision_cycle_seconds';

export interface CoordinatorFigures {
  site: SiteName;
  cpuPercent: number | undefined;
  rssMb: number | undefined;
  rssMaxMb: number | undefined;
  /** Decision cycles per cluster per second (the loop aims at one per cycleIntervalMs: 5/s). */
  cyclesPerClusterSecond: number | undefined;
  cycleMeanMs: number | undefined;
  cycleP50Ms: number | undefined;
  cycleP99Ms: number | undefined;
  eventLoopLagP99Ms: number | undefined;
}

export interface EtcdFigures {
  /** What the raft leader (member w) applied per second; every member applies the same. */
  putsPerSecond: number | undefined;
  txnsPerSecond: number | undefined;
  deletesPerSecond: number | undefined;
  rangesPerSecond: number | undefined;
  /** Store revisions per second: one per write transaction that changed something. */
  revisionsPerSecond: number | undefined;
  proposalsPerSecond: number | undefined;
  /** gRPC calls and streams started per second, all members together (keepalive streams included). */
  grpcStartedPerSecond: number | undefined;
  /** The same by gRPC method (LeaseKeepAlive, Range, Txn, Put, …), busiest first. */
  grpcByMethod: Array<[string, number]>;
  dbSizeMb: number | undefined;
  dbInUseMb: number | undefined;
  dbGrowthMbPerMinute: number | undefined;
  leaderChanges: number | undefined;
  keys: number | undefined;
  members: Array<{ name: string; cpuPercent: number | undefined; rssMb: number | undefined }>;
}

export interface FailoverFigures {
  cluster: string;
  /** Until the writer key names b1 and b1 received read_only=OFF, whichever came later. */
  ms?: number;
  writerRecordMs?: number;
  openedMs?: number;
  note: string;
}

export interface ScaleResult {
  clusters: number;
  startupSeconds: number;
  /** Clusters with a writer record when start-up was declared over (all of them, unless it timed out). */
  writersAtStart: number;
  windowSeconds: number;
  coordinators: CoordinatorFigures[];
  etcd: EtcdFigures;
  /** This process: the fake servers (and the bench's own sampling). */
  fakes: { cpuPercent: number; roundTripsPerSecond: number; stampsPerSecond: number; eventLoopP99Ms: number };
  /** cpuStallPercent: share of the window some runnable task waited for a CPU (all processes, ours and others'). */
  machine: {
    busyPercent: number;
    cpuStallPercent: number | undefined;
    loadBefore: string;
    loadAfter: string;
  };
  /** Share of the window's cluster-seconds (sampled each second) in which a master took writes. */
  writableShare: number;
  /** read_only changes during the idle window: none is expected while all is quiet. */
  windowReadOnlyChanges: ReadOnlyChange[];
  failovers: FailoverFigures[];
  scrapeFailures: string[];
  unmodelled: Array<[string, number]>;
}

export interface RunSettings {
  settleSeconds: number;
  idleSeconds: number;
  failovers: number;
  log: (line: string) => void;
}

export async function measureScale(env: ScaleEnvironment, settings: RunSettings): Promise<ScaleResult> {
  const { log } = settings;
  const startup = await waitForWriters(env, 60_000 + env.clusters.length * 500, log);
  log(
    startup.writers === env.clusters.length
      ? `all ${env.clusters.length} clusters have a writer after ${startup.seconds.toFixed(1)} s; settling ${settings.settleSeconds} s`
      : `only ${startup.writers} of ${env.clusters.length} clusters have a writer after ${startup.seconds.toFixed(0)} s: ` +
          `measuring anyway; settling ${settings.settleSeconds} s`,
  );
  await sleep(settings.settleSeconds * 1000);

  log(`idle window: ${settings.idleSeconds} s`);
  const scrapeFailures: string[] = [];
  const fakesLoop = monitorEventLoopDelay({ resolution: 10 });
  const start = await snapshot(env, scrapeFailures);
  fakesLoop.enable();
  const rssMax = new Map<string, number>();
  let writable = 0;
  let sampled = 0;
  const sampler = setInterval(() => {
    for (const c of env.coordinators())
      rssMax.set(c.name, Math.max(rssMax.get(c.name) ?? 0, rssMb(c.pid) ?? 0));
    writable += env.fleet.clustersTakingWrites(env.clusters);
    sampled += env.clusters.length;
  }, 1_000);
  await sleep(settings.idleSeconds * 1000);
  clearInterval(sampler);
  fakesLoop.disable();
  const end = await snapshot(env, scrapeFailures);
  const seconds = (end.at - start.at) / 1000;
  for (const failure of scrapeFailures) log(`scrape failed: ${failure}`);

  const coordinators = env
    .coordinators()
    .map((c) => coordinatorFigures(c, start, end, seconds, env.clusters.length, rssMax.get(c.name)));
  const etcd = etcdFigures(env, start, end, seconds);
  const machine = {
    busyPercent: ((end.machine.busy - start.machine.busy) / (end.machine.total - start.machine.total)) * 100,
    cpuStallPercent:
      end.stallUs === undefined || start.stallUs === undefined
        ? undefined
        : ((end.stallUs - start.stallUs) / 1e6 / seconds) * 100,
    loadBefore: start.load,
    loadAfter: end.load,
  };
  const fakes = {
    cpuPercent: ((end.self - start.self) / seconds) * 100,
    roundTripsPerSecond: (end.roundTrips - start.roundTrips) / seconds,
    stampsPerSecond: (end.stamps - start.stamps) / seconds,
    // How late this process's event loop ran: a fake answers no sooner than its loop gets to it.
    eventLoopP99Ms: fakesLoop.percentile(99) / 1e6,
  };
  const windowReadOnlyChanges = env.fleet.readOnlyChanges.filter((c) => c.at >= start.at && c.at <= end.at);

  const failovers: FailoverFigures[] = [];
  for (const cluster of spread(env.clusters, settings.failovers)) {
    const figure = await failOver(env, cluster);
    failovers.push(figure);
    log(`failover ${cluster}: ${figure.note}`);
    await sleep(FAILOVER_GAP_MS);
  }

  return {
    clusters: env.clusters.length,
    startupSeconds: startup.seconds,
    writersAtStart: startup.writers,
    windowSeconds: seconds,
    coordinators,
    etcd,
    fakes,
    machine,
    writableShare: sampled === 0 ? NaN : writable / sampled,
    windowReadOnlyChanges,
    failovers,
    scrapeFailures,
    unmodelled: [...env.fleet.unmodelled.entries()],
  };
}

/** One process at one moment: its /metrics (undefined when the scrape failed), CPU seconds and RSS. */
interface ProcessSnapshot {
  metrics: Sample[] | undefined;
  cpu: number | undefined;
  rss: number | undefined;
}

interface Snapshot {
  at: number;
  processes: Map<string, ProcessSnapshot>;
  machine: { busy: number; total: number };
  stallUs: number | undefined;
  load: string;
  self: number;
  roundTrips: number;
  stamps: number;
}

/** Everything at one moment; the scrapes run in parallel, CPU counters are read right after. */
async function snapshot(env: ScaleEnvironment, failures: string[]): Promise<Snapshot> {
  const scrape = (name: string, url: string): Promise<Sample[] | undefined> =>
    httpGetText(url, SCRAPE_TIMEOUT_MS).then(parsePrometheus, (error: unknown) => {
      failures.push(`${name}: ${(error as Error).message}`);
      return undefined;
    });
  const children = [...env.coordinators(), ...env.etcdMembers()];
  const metrics = await Promise.all(
    children.map((c) =>
      scrape(c.name, c.kind === 'coordinator' ? env.metricsUrl(c.site) : `${env.etcdUrl(c.site)}/metrics`),
    ),
  );
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    processes: new Map(
      children.map((c, i) => [c.name, { metrics: metrics[i], cpu: cpuSeconds(c.pid), rss: rssMb(c.pid) }]),
    ),
    machine: machineTicks(),
    stallUs: cpuPressureStallUs(),
    load: loadAverage(),
    self: (usage.user + usage.system) / 1e6,
    roundTrips: env.fleet.roundTrips,
    stamps: env.fleet.stamps,
  };
}

function coordinatorFigures(
  c: Child,
  start: Snapshot,
  end: Snapshot,
  seconds: number,
  clusters: number,
  rssMax: number | undefined,
): CoordinatorFigures {
  const before = start.processes.get(c.name);
  const after = end.processes.get(c.name);
  const cpuPercent = percentOf(after?.cpu, before?.cpu, seconds);
  const count = delta(after?.metrics, before?.metrics, `${CYCLE_HISTOGRAM}_count`);
  const sumSeconds = delta(after?.metrics, before?.metrics, `${CYCLE_HISTOGRAM}_sum`);
  let p50: number | undefined;
  let p99: number | undefined;
  if (after?.metrics && before?.metrics) {
    const cycles = bucketDelta(
      histogramBuckets(after.metrics, CYCLE_HISTOGRAM),
      histogramBuckets(before.metrics, CYCLE_HISTOGRAM),
    );
    p50 = histogramQuantile(0.5, cycles);
    p99 = histogramQuantile(0.99, cycles);
  }
  const lag = after?.metrics && total(after.metrics, 'baton_process_nodejs_eventloop_lag_p99_seconds');
  const rss = after?.rss;
  return {
    site: c.site,
    cpuPercent,
    rssMb: rss,
    rssMaxMb: rss === undefined ? rssMax : Math.max(rssMax ?? 0, rss),
    cyclesPerClusterSecond: count === undefined ? undefined : count / seconds / clusters,
    cycleMeanMs:
      count === undefined || sumSeconds === undefined || count === 0
        ? undefined
        : (sumSeconds / count) * 1000,
    cycleP50Ms: p50 === undefined ? undefined : p50 * 1000,
    cycleP99Ms: p99 === undefined ? undefined : p99 * 1000,
    eventLoopLagP99Ms: lag === undefined ? undefined : lag * 1000,
  };
}

function etcdFigures(env: ScaleEnvironment, start: Snapshot, end: Snapshot, seconds: number): EtcdFigures {
  const leaderBefore = start.processes.get('etcd-w')?.metrics;
  const leaderAfter = end.processes.get('etcd-w')?.metrics;
  const rate = (...names: string[]): number | undefined => {
    const d = delta(leaderAfter, leaderBefore, ...names);
    return d === undefined ? undefined : d / seconds;
  };
  const dbNames = ['etcd_mvcc_db_total_size_in_bytes', 'etcd_debugging_mvcc_db_total_size_in_bytes'];
  const dbAfter = leaderAfter && first(leaderAfter, ...dbNames);
  const growth = delta(leaderAfter, leaderBefore, ...dbNames);
  const inUse = leaderAfter && first(leaderAfter, 'etcd_mvcc_db_total_size_in_use_in_bytes');
  const grpcStarted = env
    .etcdMembers()
    .map((m) =>
      delta(
        end.processes.get(m.name)?.metrics,
        start.processes.get(m.name)?.metrics,
        'grpc_server_started_total',
      ),
    );
  return {
    putsPerSecond: rate('etcd_mvcc_put_total', 'etcd_debugging_mvcc_put_total'),
    txnsPerSecond: rate('etcd_mvcc_txn_total', 'etcd_debugging_mvcc_txn_total'),
    deletesPerSecond: rate('etcd_mvcc_delete_total', 'etcd_debugging_mvcc_delete_total'),
    rangesPerSecond: rate('etcd_mvcc_range_total', 'etcd_debugging_mvcc_range_total'),
    revisionsPerSecond: rate('etcd_debugging_mvcc_current_revision'),
    proposalsPerSecond: rate('etcd_server_proposals_committed_total'),
    grpcStartedPerSecond: grpcStarted.some((d) => d === undefined)
      ? undefined
      : grpcStarted.reduce((a: number, b) => a + (b ?? 0), 0) / seconds,
    grpcByMethod: grpcRates(env, start, end, seconds),
    dbSizeMb: dbAfter === undefined ? undefined : dbAfter / 1e6,
    dbInUseMb: inUse === undefined ? undefined : inUse / 1e6,
    dbGrowthMbPerMinute: growth === undefined ? undefined : (growth / 1e6 / seconds) * 60,
    leaderChanges: leaderAfter && first(leaderAfter, 'etcd_server_leader_changes_seen_total'),
    keys: leaderAfter && first(leaderAfter, 'etcd_debugging_mvcc_keys_total'),
    members: env.etcdMembers().map((m) => {
      const after = end.processes.get(m.name);
      return {
        name: m.name,
        cpuPercent: percentOf(after?.cpu, start.processes.get(m.name)?.cpu, seconds),
        rssMb: after?.rss,
      };
    }),
  };
}

/** gRPC calls and streams started per second by method, summed over the members that answered both scrapes. */
function grpcRates(
  env: ScaleEnvironment,
  start: Snapshot,
  end: Snapshot,
  seconds: number,
): Array<[string, number]> {
  const byMethod = new Map<string, number>();
  for (const member of env.etcdMembers()) {
    const after = end.processes.get(member.name)?.metrics;
    const before = start.processes.get(member.name)?.metrics;
    if (!after || !before) continue;
    for (const [samples, sign] of [
      [after, 1],
      [before, -1],
    ] as const) {
      for (const s of samples) {
        if (s.name !== 'grpc_server_started_total') continue;
        const method = s.labels.grpc_method ?? '?';
        byMethod.set(method, (byMethod.get(method) ?? 0) + (sign * s.value) / seconds);
      }
    }
  }
  return [...byMethod.entries()].filter(([, rate]) => rate >= 0.05).sort((a, b) => b[1] - a[1]);
}

function percentOf(
  after: number | undefined,
  before: number | undefined,
  seconds: number,
): number | undefined {
  return after === undefined || before === undefined ? undefined : ((after - before) / seconds) * 100;
}

/** The first of these metrics the scrape has (names moved out of etcd's "debugging" namespace over versions). */
function first(samples: readonly Sample[], ...names: string[]): number | undefined {
  for (const name of names) {
    const value = total(samples, name);
    if (value !== undefined) return value;
  }
  return undefined;
}

function delta(
  after: readonly Sample[] | undefined,
  before: readonly Sample[] | undefined,
  ...names: string[]
): number | undefined {
  if (!after || !before) return undefined;
  const a = first(after, ...names);
  const b = first(before, ...names);
  return a === undefined || b === undefined ? undefined : a - b;
}

/** Waits until every cluster has a writer record (the coordinators bootstrapped them all), or the timeout. */
async function waitForWriters(
  env: ScaleEnvironment,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<{ seconds: number; writers: number }> {
  const store = env.store;
  if (!store) throw new Error('etcd is not connected');
  const startedAt = performance.now();
  let lastCount = -1;
  for (;;) {
    let count = 0;
    try {
      const keys = await store.client
        .getAll()
        .prefix('/baton/')
        .options({ deadline: new Date(Date.now() + ETCD_CALL_TIMEOUT_MS) })
        .keys();
      count = keys.filter((k) => k.endsWith('/writer')).length;
    } catch (error) {
      log(`waiting for writers: etcd read failed (${(error as Error).message}); retrying`);
    }
    const elapsed = performance.now() - startedAt;
    if (count === env.clusters.length || elapsed > timeoutMs)
      return { seconds: elapsed / 1000, writers: count };
    if (count !== lastCount && count > 0)
      log(`writers: ${count}/${env.clusters.length} after ${(elapsed / 1000).toFixed(1)} s`);
    lastCount = count;
    await sleep(1_000);
  }
}

/** `count` clusters spread over the list (the middle one when only one is asked for). */
function spread(clusters: readonly string[], count: number): string[] {
  const n = Math.min(count, clusters.length);
  return Array.from(
    { length: n },
    (_, k) => clusters[Math.floor(((k + 0.5) * clusters.length) / n)] as string,
  );
}

/**
 * Kills one cluster's writer a1 (its fake stops listening and drops every connection) and times
 * the failover: until etcd's writer record names b1 and b1 got `SET GLOBAL read_only=OFF`.
 */
async function failOver(env: ScaleEnvironment, cluster: string): Promise<FailoverFigures> {
  const store = env.store;
  const a1 = env.fleet.find(cluster, 'a1');
  const b1 = env.fleet.find(cluster, 'b1');
  if (!store || !a1 || !b1) return { cluster, note: 'not measured: cluster not found' };
  const key = `/baton/${cluster}/writer`;
  let record;
  try {
    record = await store.get(key, systemClock.now() + ETCD_CALL_TIMEOUT_MS);
  } catch (error) {
    return { cluster, note: `not measured: reading the writer record failed (${(error as Error).message})` };
  }
  const writer = record && (JSON.parse(record.value) as { node: string; epoch: number });
  if (!record || writer?.node !== 'a1' || !b1.readOnly)
    return { cluster, note: `not measured: writer ${writer?.node ?? 'none'}, b1 read_only=${b1.readOnly}` };

  let recordAt: number | undefined;
  let newWriter: { node: string; epoch: number; reason?: string } | undefined;
  const watch = store.watchKey(key, record.modRevision + 1, (event) => {
    if (event.type !== 'put' || recordAt !== undefined) return;
    const value = JSON.parse(event.kv.value) as { node: string; epoch: number; reason?: string };
    if (value.node === 'b1') {
      recordAt = performance.now();
      newWriter = value;
    }
  });
  try {
    // The watch stream is open before the fault, so its event is timed when it happens.
    await sleep(200);
    const openedBefore = b1.opened.length;
    const killedAt = performance.now();
    await a1.kill();
    const deadline = killedAt + FAILOVER_TIMEOUT_MS;
    while (performance.now() < deadline && (recordAt === undefined || b1.opened.length === openedBefore)) {
      await sleep(5);
    }
    const openedAt = b1.opened[openedBefore];
    const writerRecordMs = recordAt === undefined ? undefined : recordAt - killedAt;
    const openedMs = openedAt === undefined ? undefined : openedAt - killedAt;
    if (writerRecordMs === undefined || openedMs === undefined) {
      return {
        cluster,
        ...(writerRecordMs === undefined ? {} : { writerRecordMs }),
        ...(openedMs === undefined ? {} : { openedMs }),
        note:
          `NO failover within ${FAILOVER_TIMEOUT_MS / 1000} s (writer record ` +
          `${writerRecordMs === undefined ? 'unchanged' : `b1 at ${Math.round(writerRecordMs)} ms`}, b1 ` +
          `${openedMs === undefined ? 'never opened' : `opened at ${Math.round(openedMs)} ms`})`,
      };
    }
    const ms = Math.max(writerRecordMs, openedMs);
    return {
      cluster,
      ms,
      writerRecordMs,
      openedMs,
      note:
        `${Math.round(ms)} ms (writer record b1 epoch ${newWriter?.epoch} ${newWriter?.reason ?? ''} at ` +
        `${Math.round(writerRecordMs)} ms, read_only=OFF on b1 at ${Math.round(openedMs)} ms)`,
    };
  } finally {
    watch.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
