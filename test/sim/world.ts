/**
 * One simulated deployment (hashicorp/raft's MakeCluster, for baton): three sites a, b and a
 * witness w; co-masters m-a and m-b replicating from each other; one coordinator per site
 * running the real loop against a simulated etcd and simulated MariaDB; one client per database
 * site. Network cuts between sites also decide which coordinators reach an etcd quorum (one
 * member per site).
 */

import {
  DEFAULT_CORE_CONFIG,
  joinTimings,
  timingProblems,
  type ClusterSpec,
  type CoordinatorSpec,
  type CoreConfig,
  type LoopTimings,
  type TimingRule,
} from '../../src/core/index.js';
import type { CoordinatorConfig } from '../../src/coordinator/config.js';
import { clusterKeys, type ClusterKeys } from '../../src/coordinator/keys.js';
import { Coordinator } from '../../src/coordinator/loop.js';
import type { Database, NodeShooter } from '../../src/coordinator/ports.js';
import type { PromotionApprover } from '../../src/coordinator/executor.js';
import { Checkers } from './checkers.js';
import { SimClient } from './client.js';
import { ProcessGate } from './process-gate.js';
import type { Prng } from './prng.js';
import { Scheduler } from './scheduler.js';
import { SimEtcd } from './sim-etcd.js';
import { SimMysqlWorld, SimNetwork, type SimNode } from './sim-mysql.js';
import { fields, Trace } from './trace.js';
import { SIM_WALL_ORIGIN, VirtualClock } from './virtual-clock.js';

export const SITES = ['a', 'b', 'w'] as const;
export const DB_COLOS = ['a', 'b'] as const;

export interface WorldOptions {
  policy: CoreConfig['policy'];
  core: CoreConfig;
  timings: LoopTimings;
  /** Replication delay of each co-master. */
  lagMs: Record<string, number>;
  /** One-way delay of the binlog stream between the database colos (0 inside a colo). */
  wanDelayMs: number;
  /** Wall-clock error of each coordinator host (NTP is never perfect). */
  wallSkewMs: Record<string, number>;
  /** Add a replica per database site (r-a from m-a, r-b from m-b). */
  replicas: boolean;
  /** Guardians have a fence command (STONITH) for a local writer SQL cannot fence. */
  stonith: boolean;
  /** Nemesis keeps its fault assumption (see nemesis.ts); tests turn it off to show the limit. */
  guardianFaultAssumption: boolean;
  /** Coordinators vouch for the writer and every node runs the watchdog event (core/watchdog.ts). */
  watchdog: boolean;
  /**
   * A deliberately broken coordinator, to prove the checkers can fail (tests only):
   * `opens-every-node` (coordinator b opens whatever it probes); `blind-to-replicas` (every
   * coordinator's probes of a replica lose its own-domain GTIDs and its replication errors).
   */
  brokenCoordinator?: 'opens-every-node' | 'blind-to-replicas';
  /**
   * A beforePromote hook (issue 12): each ask takes a drawn time (sometimes past the hook's
   * timeout) and vetoes with `vetoChance`. The core's `beforePromoteTimeoutMs` is set with it.
   */
  beforePromote?: { maxDelayMs: number; vetoChance: number; rng: Prng };
}

/**
 * The hook as the executor sees it (PromotionApprover), on virtual time: the first poll for an
 * operation draws how long the hook takes and whether it says no.
 */
function simulatedApprover(
  clock: { now(): number },
  hook: NonNullable<WorldOptions['beforePromote']>,
  trace: (line: string) => void,
): PromotionApprover {
  const runs = new Map<string, { startedAt: number; takesMs: number; approves: boolean }>();
  return {
    poll(action) {
      let run = runs.get(action.operationId);
      if (!run) {
        run = {
          startedAt: clock.now(),
          takesMs: hook.rng.int(0, hook.maxDelayMs),
          approves: !hook.rng.chance(hook.vetoChance),
        };
        runs.set(action.operationId, run);
        trace(
          `beforePromote ${action.operationId} ${action.node}@${action.epoch}: takes ${run.takesMs} ms, ${run.approves ? 'approves' : 'vetoes'}`,
        );
      }
      if (clock.now() - run.startedAt < run.takesMs) return undefined;
      return run.approves
        ? { approved: true, detail: 'exit 0' }
        : { approved: false, detail: 'exit 3: the simulated hook says no' };
    },
  };
}

export function defaultWorldOptions(rng: Prng): WorldOptions {
  const policy = rng.chance(0.5) ? 'consistency' : 'availability';
  const core: CoreConfig = {
    ...DEFAULT_CORE_CONFIG,
    policy,
    maxLagOnFailoverMs: rng.pick([500, 2000, 5000]),
    reportFreshMs: 5000,
    cooldownMs: rng.pick([3000, 6000, 12_000]),
    failoverBudget: { count: rng.int(2, 4), windowMs: 60_000 },
    catchupTimeoutMs: rng.pick([1000, 3000]),
    health: { downAfterFailures: 3, downAfterMs: 1000, upAfterSuccesses: 2, replicaSilenceMs: 1500 },
  };
  const timings: LoopTimings = {
    cycleIntervalMs: 500,
    probeTimeoutMs: 300,
    storeTimeoutMs: 800,
    commandTimeoutMs: 800,
    sessionTtlMs: rng.pick([2500, 3000, 4000]),
    publishRefreshMs: 2000,
  };
  const skew = rng.pick([0, 50, 500, 1000]);
  const wallSkewMs = Object.fromEntries(SITES.map((site) => [site, rng.int(-skew, skew)]));
  const replicas = rng.chance(0.5);
  const stonith = rng.chance(0.5);
  // Half the worlds probe quiet nodes sparsely, as the daemon does (core/quiet-pacing.ts).
  if (rng.chance(0.5)) timings.quietProbeIntervalMs = 1500;
  // Half run the watchdog (with withWatchdogTimings, applied after any tweak).
  const watchdog = rng.chance(0.5);
  // Binlog across the WAN: from a LAN to a continent apart (issue 10 measured 30 ms on the lab).
  const wanDelayMs = rng.pick([0, rng.int(1, 60), rng.int(60, 400)]);
  return {
    watchdog,
    wanDelayMs,
    stonith,
    policy,
    core,
    timings,
    lagMs: { 'm-a': 0, 'm-b': 0 },
    wallSkewMs,
    replicas,
    guardianFaultAssumption: true,
  };
}

/**
 * Timings near the daemon's defaults for a world with the watchdog: a once-a-second event needs
 * a TTL that the coarser timings above cannot give it (watchdogTimingProblem).
 */
export function withWatchdogTimings(t: LoopTimings): LoopTimings {
  return {
    ...t,
    cycleIntervalMs: 300,
    probeTimeoutMs: 200,
    storeTimeoutMs: 500,
    sessionTtlMs: Math.max(4000, t.sessionTtlMs),
    ...(t.quietProbeIntervalMs === undefined ? {} : { quietProbeIntervalMs: 1000 }),
  };
}

/**
 * Config rules (core/timings.ts) the simulation's timings knowingly break. Its TTLs of 2.5 and
 * 3 s are below the 3.9 s that fence-before-lease-expiry asks of store 800 ms + cycle 500 ms:
 * sessions are lost far more often than the daemon's config allows, and the checkers must still
 * find every lease-safety rule kept.
 */
const SIM_WAIVED_RULES: readonly TimingRule[] = ['fence-before-lease-expiry'];

/**
 * The world's timings, coarser than the daemon's, still meet every other rule the daemon's
 * config must meet: a change to them that breaks one fails at once, naming the rule.
 */
function checkSimTimings(options: WorldOptions): void {
  const settings = joinTimings(options.timings, options.core);
  const problems = timingProblems(settings, { watchdog: options.watchdog }).filter(
    (p) => !SIM_WAIVED_RULES.includes(p.rule),
  );
  if (problems.length > 0) {
    const list = problems.map((p) => `${p.rule} (timings.${p.field}: ${p.message})`).join('; ');
    throw new Error(`sim timings break the config rules: ${list}`);
  }
}

export const CLUSTER: ClusterSpec = {
  name: 'orders',
  flavor: 'mariadb',
  colos: ['a', 'b'],
  nodes: [
    { name: 'm-a', colo: 'a', role: 'candidate', priority: 1, host: '10.0.1.10', port: 3306 },
    { name: 'm-b', colo: 'b', role: 'candidate', priority: 1, host: '10.0.2.10', port: 3306 },
  ],
};

export const REPLICAS: ClusterSpec['nodes'] = [
  {
    name: 'r-a',
    colo: 'a',
    role: 'replica',
    priority: 0,
    host: '10.0.1.20',
    port: 3306,
    replicatesFrom: 'm-a',
  },
  {
    name: 'r-b',
    colo: 'b',
    role: 'replica',
    priority: 0,
    host: '10.0.2.20',
    port: 3306,
    replicatesFrom: 'm-b',
  },
];

export function clusterFor(options: Pick<WorldOptions, 'replicas'>): ClusterSpec {
  return options.replicas ? { ...CLUSTER, nodes: [...CLUSTER.nodes, ...REPLICAS] } : CLUSTER;
}

export const COORDINATORS: CoordinatorSpec[] = SITES.map((s) => ({ name: s, colo: s }));

interface Process {
  spec: CoordinatorSpec;
  gate: ProcessGate;
  coordinator: Coordinator;
  incarnation: number;
}

export class SimWorld {
  readonly scheduler = new Scheduler();
  readonly trace = new Trace(() => this.scheduler.now());
  readonly network = new SimNetwork(SITES);
  readonly etcd: SimEtcd;
  readonly mysql: SimMysqlWorld;
  readonly checkers: Checkers;
  readonly keys: ClusterKeys = clusterKeys(CLUSTER.name);
  readonly cluster: ClusterSpec;
  readonly processes = new Map<string, Process>();
  readonly clients: SimClient[] = [];
  /** Coordinators cut from their etcd member on top of site-level cuts. */
  readonly etcdLinkCut = new Set<string>();
  private incarnations = 0;

  constructor(
    readonly rng: Prng,
    readonly options: WorldOptions,
  ) {
    checkSimTimings(options);
    this.cluster = clusterFor(options);
    this.etcd = new SimEtcd(this.scheduler, rng.fork());
    this.mysql = new SimMysqlWorld(this.scheduler, this.network, {
      changed: () => this.checkers.singleWriter(),
      becameWritable: (node) => {
        this.trace.add(node.name, 'read_only=OFF');
        this.checkers.becameWritable(node);
      },
      openWritesSent: (caller, node) => this.checkers.openWritesSent(caller, node),
      watchdogClosed: (node) => this.trace.add(node.name, 'watchdog: read_only=ON'),
      replicationError: (node, error) =>
        this.trace.add(
          node.name,
          `replication ${error.thread} thread stopped: ${error.errno} ${error.message}`,
        ),
    });
    this.network.setDelay(DB_COLOS[0], DB_COLOS[1], options.wanDelayMs);
    this.checkers = new Checkers(
      this.mysql,
      this.etcd,
      this.keys,
      {
        policy: options.policy,
        cooldownMs: options.core.cooldownMs,
        // A leader's decision time is its own wall clock: allow for etcd latency and clock skew.
        decisionSlackMs:
          options.timings.storeTimeoutMs +
          2 * Math.max(0, ...Object.values(options.wallSkewMs).map(Math.abs)),
        reportFreshMs: options.core.reportFreshMs,
        observeSlackMs:
          options.timings.cycleIntervalMs +
          (options.timings.quietProbeIntervalMs ?? options.timings.cycleIntervalMs),
        candidates: this.cluster.nodes.filter((n) => n.role === 'candidate').map((n) => n.name),
        errantSpread: process.env.SIM_ERRANT_SPREAD !== '0',
        settling: process.env.SIM_SETTLING !== '0',
      },
      () => SIM_WALL_ORIGIN + this.scheduler.now(),
    );
    this.etcd.onCommit((events, revision, caller) => {
      for (const e of events) {
        if (e.kv.key === this.keys.writer || e.kv.key === this.keys.operation || e.kv.key === this.keys.pin) {
          this.trace.add(
            'etcd',
            `${e.type} ${e.kv.key.slice(this.keys.root.length)} ${e.type === 'put' ? e.kv.value : ''} by ${caller ?? '?'}`,
          );
        }
      }
      this.checkers.commit(events, revision, caller);
    });

    const ma = this.mysql.add(
      { name: 'm-a', colo: 'a', domain: 1, serverId: 1, host: '10.0.1.10', port: 3306 },
      'm-b',
    );
    const mb = this.mysql.add(
      { name: 'm-b', colo: 'b', domain: 2, serverId: 2, host: '10.0.2.10', port: 3306 },
      'm-a',
    );
    ma.lagMs = options.lagMs['m-a'] ?? 0;
    mb.lagMs = options.lagMs['m-b'] ?? 0;
    if (options.replicas) {
      this.mysql.add(
        { name: 'r-a', colo: 'a', domain: 11, serverId: 11, host: '10.0.1.20', port: 3306 },
        'm-a',
      );
      this.mysql.add(
        { name: 'r-b', colo: 'b', domain: 12, serverId: 12, host: '10.0.2.20', port: 3306 },
        'm-b',
      );
    }

    // Bootstrapped by an operator: m-a is the writer at epoch 1.
    this.etcd.txn(
      [],
      [
        {
          put: this.keys.writer,
          value: JSON.stringify({
            node: 'm-a',
            epoch: 1,
            since: SIM_WALL_ORIGIN,
            reason: 'bootstrap-writer',
          }),
        },
      ],
    );
    ma.readOnly = false;

    for (const colo of DB_COLOS) {
      this.clients.push(new SimClient(`client-${colo}`, colo, this.mysql, (w) => this.checkers.ack(w)));
    }
    if (options.watchdog) this.mysql.startWatchdogs(() => rng.float());
    for (const spec of COORDINATORS) this.startProcess(spec);
    this.worldTick();
  }

  node(name: string): SimNode {
    return this.mysql.node(name) as SimNode;
  }

  /** Replication and client traffic every 200 ms. */
  private worldTick(): void {
    this.scheduler.after(200, () => {
      this.mysql.replicateAll();
      for (const client of this.clients) client.tick();
      this.checkers.sampleHoldings();
      this.worldTick();
    });
  }

  startProcess(spec: CoordinatorSpec): void {
    const gate = new ProcessGate();
    const clock = new VirtualClock(this.scheduler, gate, this.options.wallSkewMs[spec.name] ?? 0);
    const store = this.etcd.client(spec.name, gate, Math.max(250, this.options.timings.sessionTtlMs / 10));
    const databases = new Map<string, Database>();
    for (const node of this.cluster.nodes) {
      databases.set(node.name, this.mysql.database(spec.name, spec.colo, node.name, gate));
    }
    if (this.options.brokenCoordinator === 'opens-every-node' && spec.name === 'b') {
      // A coordinator that ignores the writer record: the checkers must catch it.
      for (const [name, db] of databases) {
        const broken = Object.create(db) as Database;
        broken.probe = async (deadline) => {
          await db.openWrites(deadline);
          return db.probe(deadline);
        };
        databases.set(name, broken);
      }
    }
    if (this.options.brokenCoordinator === 'blind-to-replicas') {
      for (const node of this.cluster.nodes) {
        if (node.role !== 'replica') continue;
        const db = databases.get(node.name) as Database;
        const own = String(this.node(node.name).spec.domain);
        const blind = Object.create(db) as Database;
        blind.probe = async (deadline) => {
          const probe = await db.probe(deadline);
          const executedGtids = probe.executedGtids
            .split(',')
            .filter((g) => g !== '' && g.split('-')[0] !== own)
            .join(',');
          const replication = probe.replication.map(({ error: _error, ...ch }) => ch);
          return { ...probe, executedGtids, replication };
        };
        databases.set(node.name, blind);
      }
    }
    const config: CoordinatorConfig = {
      self: spec,
      cluster: this.cluster,
      coordinators: COORDINATORS,
      core: this.options.core,
      timings: this.options.timings,
      watchdog: this.options.watchdog,
    };
    const incarnation = ++this.incarnations;
    let lastDecision = '';
    const coordinator = new Coordinator({
      config,
      clock,
      store,
      databases,
      ...(this.options.stonith ? { shooter: this.shooter(spec, gate) } : {}),
      ...(this.options.beforePromote
        ? {
            approver: simulatedApprover(clock, this.options.beforePromote, (line) =>
              this.trace.add(`coord ${spec.name}`, line),
            ),
          }
        : {}),
      log: (kind, f) => {
        if (kind === 'cycle-failed') this.checkers.loopError(spec.name, String(f.error));
        if (kind === 'state-read-failed' || kind === 'publish-failed') return;
        if (kind === 'decision') {
          // The leader explains itself every cycle: keep the trace to changes of mind.
          const key = `${String(f.reason)} ${String(f.message)}`;
          if (key === lastDecision) return;
          lastDecision = key;
        }
        this.trace.add(`coord ${spec.name}`, `${kind} ${fields(f)}`);
      },
    });
    this.processes.set(spec.name, { spec, gate, coordinator, incarnation });
    void coordinator.run(new AbortController().signal);
  }

  /**
   * A fence command that works out of band on the coordinator's own site (IPMI, kill -9 over
   * ssh): the node goes down at once, and its supervisor restarts it (read-only) 2-10 s later.
   */
  private shooter(spec: CoordinatorSpec, gate: ProcessGate): NodeShooter {
    return {
      shoot: (name) => {
        const node = this.mysql.node(name);
        const local = node !== undefined && node.spec.colo === spec.colo;
        if (local) {
          this.trace.add('stonith', `${spec.name} shoots ${name}`);
          this.checkers.shot(spec.name, node);
          node.crash();
          this.scheduler.after(this.rng.int(2000, 10_000), () => node.restart());
        }
        const result = local
          ? { ok: true, detail: 'shot' }
          : { ok: false, detail: `${name} is not in site ${spec.colo}` };
        return gate.pass(Promise.resolve(result));
      },
    };
  }

  /** Recompute which coordinators reach an etcd quorum (their site in a majority component). */
  updateEtcdReachability(): void {
    for (const spec of COORDINATORS) {
      const component = this.network.component(spec.colo);
      const quorum = component.size * 2 > SITES.length;
      if (quorum && !this.etcdLinkCut.has(spec.name)) this.etcd.heal(spec.name);
      else this.etcd.partition(spec.name);
    }
  }

  writableNodes(): SimNode[] {
    return [...this.mysql.nodes.values()].filter((n) => n.writable);
  }
}
