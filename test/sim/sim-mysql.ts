/**
 * Simulated MariaDB servers and the network between colos.
 *
 * GTIDs: each co-master writes in its own replication domain (distinct gtid_domain_id), so a
 * node's executed set is one prefix per domain (`domain-server-seq`, MariaDB's
 * gtid_current_pos), and the origin keeps the commit time of every transaction of its domain so
 * replication lag is "apply what was committed at least lagMs ago".
 *
 * Replication (issue 10): a channel between colos receives a transaction no earlier than its
 * origin commit time plus the link's one-way delay, so the writer's colo replica runs ahead of the
 * other master. GTID strict mode on (re)connect: a source whose binlog lacks a position the node
 * asks for (any replicated domain, not its own) stops the IO thread with error 1236. An IO thread
 * that starts (repoint, START SLAVE after a stop, server restart) discards the relay log, as
 * MariaDB's GTID mode does (measured, /work/notes/semisync.md §6). A row injected on a replica
 * (break-replication) stops its SQL thread with error 1062 at the source transaction that collides.
 *
 * Faults: crash (connections refused; restart comes back read_only=ON, as every server's config
 * says, with its executed set intact), hang (SIGSTOP: requests queue; callers time out; on
 * resume the server executes what is in its socket buffers in arrival order, so a fence sent
 * while it hung still lands), slow (answers after a delay), network cuts between colos, WAN delay,
 * errant writes on a replica, replication errors.
 */

import {
  DeadlineExceededError,
  ServerDownError,
  type Database,
  type MonoMs,
  type Probe,
  type ReplicationError,
  type ReplicationStatus,
  type WatchdogHold,
  RepointOptions,
} from '../../src/coordinator/ports.js';
import { containsGtidSet, parseGtidSet } from '../../src/core/gtid.js';
import type { ProcessGate } from './process-gate.js';
import type { Scheduler } from './scheduler.js';

export class ReadOnlyError extends Error {
  override name = 'ReadOnlyError';
}

/** Colo-level links. A cut is symmetric; a colo always reaches itself. */
export class SimNetwork {
  private cuts = new Set<string>();
  /** One-way delay of the binlog stream on each link between colos (drawn per seed). */
  private baseDelay = new Map<string, number>();
  /** Extra delays of active faults on a link (the largest one counts). */
  private extraDelays = new Map<string, number[]>();

  constructor(readonly colos: readonly string[]) {}

  setDelay(a: string, b: string, ms: number): void {
    if (a !== b) this.baseDelay.set(linkKey(a, b), ms);
  }

  /** A fault's extra delay on a link; returns the function that removes it. */
  addDelay(a: string, b: string, ms: number): () => void {
    const key = linkKey(a, b);
    const list = this.extraDelays.get(key) ?? [];
    list.push(ms);
    this.extraDelays.set(key, list);
    return () => {
      const i = list.indexOf(ms);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /** One-way delay of a transaction from `from` to `to`: 0 inside a colo. */
  delayMs(from: string, to: string): number {
    if (from === to) return 0;
    const key = linkKey(from, to);
    return Math.max(this.baseDelay.get(key) ?? 0, ...(this.extraDelays.get(key) ?? []));
  }

  clearExtraDelays(): void {
    this.extraDelays.clear();
  }

  cut(a: string, b: string): void {
    if (a !== b) this.cuts.add(linkKey(a, b));
  }

  heal(a: string, b: string): void {
    this.cuts.delete(linkKey(a, b));
  }

  healAll(): void {
    this.cuts.clear();
  }

  reachable(from: string, to: string): boolean {
    return from === to || !this.cuts.has(linkKey(from, to));
  }

  /** Colos in the same connected component as `colo`. */
  component(colo: string): Set<string> {
    const seen = new Set([colo]);
    const todo = [colo];
    while (todo.length > 0) {
      const c = todo.pop() as string;
      for (const other of this.colos) {
        if (!seen.has(other) && this.reachable(c, other)) {
          seen.add(other);
          todo.push(other);
        }
      }
    }
    return seen;
  }

  describeCuts(): string[] {
    return [...this.cuts].sort();
  }
}

function linkKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** Every transaction a domain's origin committed, by seq (index seq-1): its commit time. */
export class DomainLog {
  private times = new Map<number, number[]>();

  append(domain: number, at: number): number {
    let log = this.times.get(domain);
    if (!log) this.times.set(domain, (log = []));
    log.push(at);
    return log.length;
  }

  /** Seqs committed so far in a domain. */
  length(domain: number): number {
    return this.times.get(domain)?.length ?? 0;
  }

  /** Highest seq s ≤ upTo with commit time ≤ at (commit times increase with seq). */
  appliedBy(domain: number, upTo: number, at: number, from: number): number {
    const log = this.times.get(domain) ?? [];
    let s = from;
    while (s < upTo && (log[s] as number) <= at) s++;
    return s;
  }

  commitTime(domain: number, seq: number): number | undefined {
    return this.times.get(domain)?.[seq - 1];
  }
}

export interface SimNodeSpec {
  name: string;
  colo: string;
  domain: number;
  serverId: number;
  host: string;
  port: number;
}

type QueuedRequest = () => void;

export type NodeListener = (node: SimNode) => void;

export class SimNode {
  up = true;
  hung = false;
  readOnly = true;
  /** Extra answer delay for probes and commands (slow server or slow link). */
  slowMs = 0;
  /** Per domain: executed prefix (seqs 1..n). */
  readonly executed = new Map<number, number>();
  /** Per domain: received into the relay log. */
  readonly retrieved = new Map<number, number>();
  sourceName: string | undefined;
  ioState: 'yes' | 'no' | 'connecting' = 'no';
  replicationStopped = false;
  /** A thread stopped on an error (Last_IO_Errno / Last_SQL_Errno); cleared when it starts again. */
  ioError: ReplicationError | undefined;
  sqlError: ReplicationError | undefined;
  /** A row injected here collides with this source transaction (break-replication): 1062 when applied. */
  conflict: { domain: number; seq: number } | undefined;
  lagMs = 0;
  /** The watchdog's deadline in the heartbeat row (sim time; undefined until first stamped). */
  fenceAfter: number | undefined;
  private queued: QueuedRequest[] = [];
  private waiters: { done: () => boolean }[] = [];
  killedConnections = 0;

  constructor(
    readonly spec: SimNodeSpec,
    private readonly world: SimMysqlWorld,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  /** Accepts a client write right now. */
  get writable(): boolean {
    return this.up && !this.hung && !this.readOnly;
  }

  private formatted: { version: number; text: string } | undefined;
  /** Bumped whenever `executed` changes, so its text form is built once per change. */
  private executedVersion = 0;

  executedGtids(): string {
    if (this.formatted?.version !== this.executedVersion) {
      this.formatted = { version: this.executedVersion, text: formatPositions(this.executed, this.world) };
    }
    return this.formatted.text;
  }

  /** Tests and the checkers may set positions directly; everything else goes through commit/replicate. */
  setExecuted(domain: number, seq: number): void {
    this.executed.set(domain, seq);
    this.executedVersion++;
  }

  /** Commit a client transaction in this node's domain. */
  commit(): string {
    if (this.readOnly) throw new ReadOnlyError(`${this.name}: read_only`);
    return this.commitOwn();
  }

  /**
   * A transaction written on this server by someone who bypasses read_only (root, a job run on
   * the wrong host): binlogged in its own domain, an errant transaction everywhere else.
   */
  errantWrite(): string {
    return this.commitOwn();
  }

  private commitOwn(): string {
    const seq = this.world.log.append(this.spec.domain, this.world.scheduler.now());
    this.setExecuted(this.spec.domain, seq);
    return `${this.spec.domain}-${this.spec.serverId}-${seq}`;
  }

  /** SQL thread running: not stopped by a command, not stopped on an error. */
  get sqlRunning(): boolean {
    return !this.replicationStopped && this.sqlError === undefined;
  }

  /**
   * The IO thread starts (repoint, START SLAVE after a stop, restart): errors are cleared, and in
   * GTID mode the relay log is discarded, so what was received but not applied is gone and is
   * fetched again from gtid_slave_pos (measured: 20 ACKed transactions lost on a2).
   */
  private startThreads(): void {
    this.ioError = undefined;
    this.sqlError = undefined;
    this.ioState = 'no';
    for (const domain of this.retrieved.keys()) {
      this.retrieved.set(domain, this.executed.get(domain) ?? 0);
    }
  }

  /** When each repoint happened (the checkers ask whether replication settles). */
  readonly repoints: number[] = [];

  /** Domains this node replicates (MariaDB DO_DOMAIN_IDS); undefined: all. */
  onlyDomains: Set<number> | undefined;

  /** CHANGE MASTER (setting or clearing the domain filter) + START SLAVE. */
  repointTo(source: string, onlyDomains?: number[]): void {
    this.repoints.push(this.world.scheduler.now());
    this.onlyDomains = onlyDomains ? new Set(onlyDomains) : undefined;
    this.sourceName = source;
    this.replicationStopped = false;
    this.startThreads();
  }

  stopReplication(): void {
    this.replicationStopped = true;
  }

  /** START SLAVE: starts what is not running; an IO thread that starts discards the relay log. */
  startReplication(): void {
    const ioStarts = this.replicationStopped || this.ioError !== undefined;
    this.replicationStopped = false;
    this.sqlError = undefined;
    if (ioStarts) this.startThreads();
  }

  /** Run a request now, or queue it while hung (executed on resume, in arrival order). */
  request(run: () => void): void {
    if (this.hung) this.queued.push(run);
    else run();
  }

  crash(): void {
    this.up = false;
    this.hung = false;
    this.queued = [];
    this.ioState = 'no';
    this.world.changed(this);
  }

  restart(): void {
    if (this.up) return;
    this.up = true;
    this.readOnly = true;
    this.replicationStopped = false;
    this.startThreads();
    this.world.changed(this);
  }

  hang(): void {
    if (this.up) this.hung = true;
  }

  resume(): void {
    if (!this.hung) return;
    this.hung = false;
    const queued = this.queued;
    this.queued = [];
    this.world.batch(() => {
      for (const run of queued) run();
    });
  }

  /** A stamp with a hold, as the server runs it: the deadline only moves later. */
  stampWatchdog(holdMs: number): void {
    const until = this.world.scheduler.now() + holdMs;
    this.fenceAfter = Math.max(this.fenceAfter ?? -Infinity, until);
  }

  /** One run of the watchdog event (on a hung server it does not run; on a dead one neither). */
  watchdogTick(): void {
    if (!this.up || this.hung || this.readOnly || this.fenceAfter === undefined) return;
    if (this.world.scheduler.now() <= this.fenceAfter) return;
    this.world.hooks.watchdogClosed(this);
    this.setReadOnly(true);
  }

  setReadOnly(on: boolean): void {
    if (this.readOnly === on) return;
    this.readOnly = on;
    if (!on) this.world.hooks.becameWritable(this);
    this.world.changed(this);
  }

  whenExecuted(done: () => boolean): void {
    this.waiters.push({ done });
  }

  /**
   * One replication step from the source. The IO thread, on connecting, asks for its position in
   * every replicated domain and stops with 1236 if the source's binlog lacks it; once connected it
   * fetches what the source executed, a cross-colo link only what was committed at least its delay
   * ago. The SQL thread applies what is older than the lag, and stops on a colliding row.
   */
  replicate(now: number): void {
    if (!this.up || this.hung) return;
    const source = this.sourceName === undefined ? undefined : this.world.node(this.sourceName);
    if (!source || this.replicationStopped || this.ioError) {
      this.ioState = 'no';
    } else if (source.up && !source.hung && this.world.network.reachable(this.spec.colo, source.spec.colo)) {
      if (this.ioState !== 'yes') {
        const missing = this.positionMissingOn(source);
        if (missing) {
          this.ioState = 'no';
          this.ioError = {
            thread: 'io',
            errno: 1236,
            message: `Got fatal error 1236 from master when reading data from binary log: 'Error: connecting slave requested to start from GTID ${missing}, which is not in the master's binlog'`,
          };
          this.world.hooks.replicationError?.(this, this.ioError);
        } else {
          this.ioState = 'yes';
        }
      }
      if (this.ioState === 'yes') {
        const delay = this.world.network.delayMs(source.spec.colo, this.spec.colo);
        for (const [domain, seq] of source.executed) {
          if (domain === this.spec.domain) continue; // our own events come back filtered by server id
          if (this.onlyDomains && !this.onlyDomains.has(domain)) continue;
          const have = this.retrieved.get(domain) ?? 0;
          if (have >= seq) continue;
          const upTo = delay === 0 ? seq : this.world.log.appliedBy(domain, seq, now - delay, have);
          if (upTo > have) this.retrieved.set(domain, upTo);
        }
      }
    } else {
      this.ioState = 'connecting';
    }
    if (!this.sqlRunning) return;
    let advanced = false;
    for (const [domain, retrieved] of this.retrieved) {
      const have = this.executed.get(domain) ?? 0;
      const collides = this.conflict?.domain === domain ? this.conflict.seq : undefined;
      const upTo = collides !== undefined ? Math.min(retrieved, collides - 1) : retrieved;
      let next = have;
      if (have < upTo) next = this.world.log.appliedBy(domain, upTo, now - this.lagMs, have);
      if (next > have) {
        this.setExecuted(domain, next);
        advanced = true;
      }
      if (
        collides !== undefined &&
        next === collides - 1 &&
        retrieved >= collides &&
        (this.world.log.commitTime(domain, collides) ?? Infinity) <= now - this.lagMs
      ) {
        this.sqlError = {
          thread: 'sql',
          errno: 1062,
          message: `Could not execute Write_rows_v1 event on table app.writes; Duplicate entry '${collides}' for key 'PRIMARY', Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY (GTID ${domain}-${this.world.serverIdOfDomain(domain)}-${collides})`,
        };
        this.world.hooks.replicationError?.(this, this.sqlError);
        break;
      }
    }
    if (advanced && this.waiters.length > 0) this.waiters = this.waiters.filter((w) => !w.done());
  }

  /**
   * GTID strict mode: the first position this node asks for (its relay log's, per domain it
   * replicated; its own domain's events are skipped by server id) that `source` has not executed.
   */
  positionMissingOn(source: SimNode): string | undefined {
    const domains = new Set([...this.executed.keys(), ...this.retrieved.keys()]);
    for (const domain of [...domains].sort((a, b) => a - b)) {
      if (domain === this.spec.domain) continue;
      const want = Math.max(this.executed.get(domain) ?? 0, this.retrieved.get(domain) ?? 0);
      if (want > (source.executed.get(domain) ?? 0)) {
        return `${domain}-${this.world.serverIdOfDomain(domain)}-${want}`;
      }
    }
    return undefined;
  }

  /** Executed ∪ received, per domain: what this server holds of a domain. */
  holds(domain: number): number {
    return Math.max(this.executed.get(domain) ?? 0, this.retrieved.get(domain) ?? 0);
  }

  /** Exact lag from the heartbeat idea: age of the oldest source transaction not applied yet. */
  heartbeatLagMs(now: number): number | undefined {
    const source = this.sourceName === undefined ? undefined : this.world.node(this.sourceName);
    if (!source) return undefined;
    let oldest: number | undefined;
    for (const [domain, seq] of source.executed) {
      if (domain === this.spec.domain) continue;
      const have = this.executed.get(domain) ?? 0;
      if (have >= seq) continue;
      const t = this.world.log.commitTime(domain, have + 1);
      if (t !== undefined && (oldest === undefined || t < oldest)) oldest = t;
    }
    return oldest === undefined ? 0 : now - oldest;
  }

  probe(now: number): Probe {
    const source = this.sourceName === undefined ? undefined : this.world.node(this.sourceName);
    const probe: Probe = {
      readOnly: this.readOnly,
      executedGtids: this.executedGtids(),
      replication: source ? [this.channelStatus(source)] : [],
      serverId: this.spec.serverId,
      gtidSource: String(this.spec.domain),
      version: '10.11.19-MariaDB-sim',
    };
    const lag = this.heartbeatLagMs(now);
    if (lag !== undefined) probe.heartbeatLagMs = lag;
    return probe;
  }

  /** SHOW SLAVE STATUS: as the adapter reads it, the SQL thread's error first (dialect.ts). */
  private channelStatus(source: SimNode): ReplicationStatus {
    const status: ReplicationStatus = {
      sourceHost: source.spec.host,
      sourcePort: source.spec.port,
      ioRunning: this.ioState,
      sqlRunning: this.sqlRunning,
      retrievedGtids: formatPositions(this.retrieved, this.world),
    };
    const error = this.sqlError ?? (this.ioState === 'no' ? this.ioError : undefined);
    if (error) status.error = error;
    return status;
  }
}

function formatPositions(positions: Map<number, number>, world: SimMysqlWorld): string {
  return [...positions.entries()]
    .filter(([, seq]) => seq > 0)
    .sort(([a], [b]) => a - b)
    .map(([domain, seq]) => `${domain}-${world.serverIdOfDomain(domain)}-${seq}`)
    .join(',');
}

/** What the checkers watch. */
export interface WorldHooks {
  /** Any change of up/hung/read_only (batched while a resumed server drains its queue). */
  changed(): void;
  becameWritable(node: SimNode): void;
  /** A process sent read_only=OFF (checked against its lease at send time). */
  openWritesSent(caller: string, node: SimNode): void;
  /** The node's watchdog event made it read-only. */
  watchdogClosed(node: SimNode): void;
  /** A replication thread of the node stopped on an error. */
  replicationError?(node: SimNode, error: ReplicationError): void;
}

/** All simulated servers of one cluster, the network, and hooks for the checkers. */
export class SimMysqlWorld {
  readonly log = new DomainLog();
  readonly nodes = new Map<string, SimNode>();
  private batching = 0;
  private dirty = false;

  constructor(
    readonly scheduler: Scheduler,
    readonly network: SimNetwork,
    readonly hooks: WorldHooks,
  ) {}

  add(spec: SimNodeSpec, sourceName?: string): SimNode {
    const node = new SimNode(spec, this);
    node.sourceName = sourceName;
    this.nodes.set(spec.name, node);
    return node;
  }

  node(name: string): SimNode | undefined {
    return this.nodes.get(name);
  }

  serverIdOfDomain(domain: number): number {
    for (const n of this.nodes.values()) if (n.spec.domain === domain) return n.spec.serverId;
    return domain;
  }

  changed(_node: SimNode): void {
    if (this.batching > 0) this.dirty = true;
    else this.hooks.changed();
  }

  /** Apply several changes atomically as far as the checkers can see. */
  batch(fn: () => void): void {
    this.batching++;
    try {
      fn();
    } finally {
      this.batching--;
    }
    if (this.batching === 0 && this.dirty) {
      this.dirty = false;
      this.hooks.changed();
    }
  }

  /**
   * The watchdog event on every node: once a second at a node's own phase, plus up to 200 ms
   * of scheduling jitter (WATCHDOG_SLACK_MS allows 250).
   */
  startWatchdogs(random: () => number): void {
    for (const node of this.nodes.values()) {
      const tick = (): void => {
        node.watchdogTick();
        this.scheduler.after(1000 + Math.floor(random() * 200), tick);
      };
      this.scheduler.after(Math.floor(random() * 1000), tick);
    }
  }

  replicateAll(): void {
    const now = this.scheduler.now();
    for (const node of this.nodes.values()) node.replicate(now);
  }

  /** The Database port for process `caller` in `fromColo` talking to `nodeName`. */
  database(caller: string, fromColo: string, nodeName: string, gate?: ProcessGate): Database {
    return new SimDatabase(this, caller, fromColo, nodeName, gate);
  }
}

class SimDatabase implements Database {
  constructor(
    private readonly world: SimMysqlWorld,
    private readonly caller: string,
    private readonly fromColo: string,
    private readonly nodeName: string,
    private readonly gate: ProcessGate | undefined,
  ) {}

  /** Answers reach the calling process through its gate (paused: later; crashed: never). */
  private deliver<T>(work: Promise<T>): Promise<T> {
    return this.gate ? this.gate.pass(work) : work;
  }

  /**
   * One request: dropped by a network cut (times out), refused by a dead server, queued by a hung
   * one (times out, runs on resume), delayed by a slow one.
   */
  private call<T>(
    what: string,
    deadline: MonoMs,
    run: (node: SimNode, ok: (v: T) => void, fail: (e: Error) => void) => void,
  ): Promise<T> {
    const sched = this.world.scheduler;
    const node = this.world.node(this.nodeName) as SimNode;
    // Fast path: a healthy, reachable, prompt server answers at once (see SimStoreClient.call).
    if (
      what !== 'waitForGtids' &&
      node.up &&
      !node.hung &&
      node.slowMs === 0 &&
      sched.now() < deadline &&
      this.world.network.reachable(this.fromColo, node.spec.colo)
    ) {
      let answer: Promise<T> | undefined;
      run(
        node,
        (value) => (answer ??= Promise.resolve(value)),
        (error) => (answer ??= Promise.reject(error)),
      );
      // Settled now and the process is running: nothing can pause it before delivery.
      if (answer)
        return this.gate === undefined || this.gate.state === 'running' ? answer : this.deliver(answer);
    }
    const work = new Promise<T>((resolve, reject) => {
      let settled = false;
      const ok = (v: T): void => {
        if (!settled) {
          settled = true;
          resolve(v);
        }
      };
      const fail = (e: Error): void => {
        if (!settled) {
          settled = true;
          reject(e);
        }
      };
      const timeout = (): void =>
        fail(new DeadlineExceededError(`mysql ${this.nodeName} ${what}: deadline exceeded`));
      if (sched.now() >= deadline) {
        timeout();
        return;
      }
      if (!this.world.network.reachable(this.fromColo, node.spec.colo)) {
        sched.at(deadline, timeout);
        return;
      }
      const send = (): void => {
        if (!node.up) {
          fail(new ServerDownError(`mysql ${this.nodeName}: connection refused`));
          return;
        }
        if (node.hung) sched.at(deadline, timeout);
        node.request(() => {
          if (node.up) run(node, ok, fail);
        });
      };
      if (node.slowMs > 0) {
        if (sched.now() + node.slowMs >= deadline) sched.at(deadline, timeout);
        else sched.after(node.slowMs, send);
      } else {
        send();
      }
    });
    return this.deliver(work);
  }

  roundTripMs(): number {
    return 0;
  }

  probe(deadline: MonoMs): Promise<Probe> {
    return this.call('probe', deadline, (node, ok) => ok(node.probe(this.world.scheduler.now())));
  }

  fence(deadline: MonoMs): Promise<{ executedGtids: string }> {
    return this.call('fence', deadline, (node, ok) => {
      node.setReadOnly(true);
      node.killedConnections++;
      ok({ executedGtids: node.executedGtids() });
    });
  }

  async openWrites(deadline: MonoMs, hold?: WatchdogHold, committed?: Promise<void>): Promise<void> {
    if (committed) {
      // The stamp goes before the commit, read_only=OFF after it (MysqlDatabase.openWrites).
      if (hold) {
        await this.call('stamp', deadline, (node, ok) => {
          node.stampWatchdog(hold.holdMs);
          ok(undefined);
        });
      }
      await committed;
      return this.openWrites(deadline);
    }
    this.world.hooks.openWritesSent(this.caller, this.world.node(this.nodeName) as SimNode);
    return this.call('openWrites', deadline, (node, ok) => {
      if (hold) node.stampWatchdog(hold.holdMs);
      node.setReadOnly(false);
      ok(undefined);
    });
  }

  waitForGtids(gtids: string, deadline: MonoMs): Promise<boolean> {
    const wanted = parseGtidSet(gtids, 'mariadb');
    const sched = this.world.scheduler;
    return this.call<boolean>('waitForGtids', deadline, (node, ok) => {
      const done = (): boolean => {
        if (!containsGtidSet(parseGtidSet(node.executedGtids(), 'mariadb'), wanted)) return false;
        ok(true);
        return true;
      };
      if (done()) return;
      node.whenExecuted(done);
      sched.at(deadline, () => ok(false));
    });
  }

  repoint(
    source: { host: string; port: number },
    deadline: MonoMs,
    options: RepointOptions = {},
  ): Promise<void> {
    const { onlyKeys } = options;
    return this.call('repoint', deadline, (node, ok, fail) => {
      const target = [...this.world.nodes.values()].find(
        (n) => n.spec.host === source.host && n.spec.port === source.port,
      );
      if (!target) {
        fail(new Error(`mysql ${this.nodeName}: unknown source ${source.host}:${source.port}`));
        return;
      }
      node.repointTo(target.name, onlyKeys?.map(Number));
      ok(undefined);
    });
  }

  stopReplication(deadline: MonoMs): Promise<void> {
    return this.call('stopReplication', deadline, (node, ok) => {
      node.stopReplication();
      ok(undefined);
    });
  }

  startReplication(deadline: MonoMs): Promise<void> {
    return this.call('startReplication', deadline, (node, ok) => {
      node.startReplication();
      ok(undefined);
    });
  }

  writeHeartbeat(deadline: MonoMs, hold?: WatchdogHold): Promise<void> {
    return this.call('writeHeartbeat', deadline, (node, ok) => {
      if (hold && !node.readOnly) node.stampWatchdog(hold.holdMs);
      ok(undefined);
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
