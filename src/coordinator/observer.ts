/**
 * Observe: probe every node of the cluster (local and remote) with a hard deadline and debounce
 * the results with the core's hysteresis. The verdicts are what this coordinator votes with.
 */

import {
  nodesToProbe,
  parseGtidSet,
  formatGtidSet,
  unionGtidSets,
  updateHealth,
  type ClusterSpec,
  type HealthConfig,
  type NodeObservation,
  type ProbeHealthState,
  type ReplicationObservation,
} from '../core/index.js';
import { linkTimeoutMs } from './link-deadline.js';
import { ServerDownError, type Clock, type Database, type Probe } from './ports.js';

/** What the loop knows that decides how densely to probe (see nodesToProbe). */
export interface ProbeFocus {
  /** The writer as last read, and this coordinator's own colo's candidates. */
  everyCycle: string[];
  /** An operation is in flight or the writer is unknown. */
  busy: boolean;
}

/** One probe's outcome. */
interface ProbeResult {
  node: string;
  probe?: Probe;
  error?: string;
  down: boolean;
  /** When the answer (or the failure) arrived. */
  at: number;
}

/**
 * Probes run on their own timer (run), not inside the coordinator's cycle: a cycle waits on
 * etcd, which across a WAN costs round trips, and failure detection (the quorum's votes) must
 * keep its pace regardless (issue 11: at 60 ms one-way the local observer of a killed writer
 * took 1.5 s to vote, three slow cycles, instead of about 0.4 s).
 */
export class Observer {
  private readonly health = new Map<string, ProbeHealthState>();
  /** At most one probe per node in flight; a slow one carries on across ticks. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private latest: NodeObservation[] = [];
  private readonly byNode = new Map<string, NodeObservation>();
  /** Nodes whose last probe was refused by their host: known not to run (ServerDownError). */
  private readonly down = new Set<string>();
  /** Per replication channel (node and source): the retrieved set we last saw and when it changed. */
  private readonly received = new Map<string, { retrieved: string; changedAt: number }>();
  /** Last lag measured per node, kept while no lag can be measured (see lagOf). */
  private readonly lastLag = new Map<string, number>();
  /** When a probe last found some node writable: the last moment we know a writer stamped heartbeats. */
  private writerSeenAt: number | undefined;
  private focus: ProbeFocus = { everyCycle: [], busy: true };
  /** Set while run() probes on its timer: failing nodes are probed again sooner (retryFailing). */
  private signal: AbortSignal | undefined;
  private onObservation: (observation: NodeObservation) => void = () => undefined;

  constructor(
    private readonly cluster: ClusterSpec,
    private readonly clock: Clock,
    private readonly databases: ReadonlyMap<string, Database>,
    private readonly healthConfig: HealthConfig,
    private readonly probeTimeoutMs: number,
    /** Quiet-time probe interval for nodes nothing depends on (quiet-pacing.ts); undefined: every cycle. */
    private readonly quietProbeIntervalMs?: number,
  ) {}

  /** The last probe of `node` was refused: the server is not running (never true for a timeout). */
  knownDown(node: string): boolean {
    return this.down.has(node);
  }

  /** The latest observation of every node probed so far (a node keeps its last one, with its observedAt). */
  observations(): NodeObservation[] {
    return this.latest;
  }

  /** What the loop knows that decides which nodes to probe on each tick (see nodesToProbe). */
  setFocus(focus: ProbeFocus): void {
    this.focus = focus;
  }

  /**
   * Probe on a timer until the signal aborts: every `intervalMs`, each node nodesToProbe picks
   * that has no probe in flight. Every answer is folded in as it arrives and handed to
   * `onObservation` (the loop publishes a changed verdict at once).
   */
  async run(
    intervalMs: number,
    signal: AbortSignal,
    onObservation: (observation: NodeObservation) => void,
  ): Promise<void> {
    this.onObservation = onObservation;
    this.signal = signal;
    while (!signal.aborted) {
      const started = this.clock.now();
      this.startDueProbes(started);
      try {
        await this.clock.sleep(Math.max(1, intervalMs - (this.clock.now() - started)), signal);
      } catch {
        break;
      }
    }
  }

  /**
   * One tick, then wait for the probes in flight up to the probe timeout, and return the latest
   * observations: what a caller without the timer gets (start-up, tests).
   */
  async observeAll(focus?: ProbeFocus): Promise<NodeObservation[]> {
    if (focus) this.focus = focus;
    const start = this.clock.now();
    this.startDueProbes(start);
    await this.waitForProbes(start + this.probeTimeoutMs);
    return this.latest;
  }

  /**
   * Probe these nodes now (joining a probe already in flight) and wait up to the probe timeout:
   * for a guardian that must act on how its own nodes are right now, not a tick ago.
   */
  async refresh(nodes: readonly string[]): Promise<NodeObservation[]> {
    const start = this.clock.now();
    for (const name of nodes) if (!this.inFlight.has(name)) this.startProbe(name, start);
    await this.waitForProbes(start + this.probeTimeoutMs, nodes);
    return this.latest;
  }

  private startDueProbes(now: number): void {
    const names = this.cluster.nodes.map((n) => n.name);
    const due =
      this.quietProbeIntervalMs === undefined
        ? names
        : nodesToProbe({
            nodes: names,
            everyCycle: this.focus.everyCycle,
            last: this.byNode,
            now,
            quietIntervalMs: this.quietProbeIntervalMs,
            busy: this.focus.busy,
          });
    for (const name of due) if (!this.inFlight.has(name)) this.startProbe(name, now);
  }

  private startProbe(name: string, start: number): void {
    const probing = this.observe(name, start)
      .then((result) => this.fold(result))
      .finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, probing);
  }

  private async waitForProbes(until: number, nodes?: readonly string[]): Promise<void> {
    const probes = [...this.inFlight].filter(([name]) => !nodes || nodes.includes(name)).map(([, p]) => p);
    if (probes.length === 0) return;
    const timer = new AbortController();
    try {
      await Promise.race([
        Promise.all(probes),
        this.clock.sleep(Math.max(0, until - this.clock.now()), timer.signal).catch(() => undefined),
      ]);
    } finally {
      timer.abort();
    }
  }

  /** Health, observation and lag from one probe that ended. */
  private fold(result: ProbeResult): void {
    const { observation, heartbeatLagMs, secondsBehindMs } = this.toObservation(result);
    if (result.probe?.readOnly === false) this.writerSeenAt = result.at;
    this.byNode.set(observation.node, observation);
    // Is any node writable as far as we last saw? (Not only this one: a replica's lag stops
    // growing with the clock once the writer is gone, see lagOf.)
    const writerVisible = [...this.byNode.values()].some((o) => o.reachable && o.readOnly === false);
    const lag = this.lagOf(observation.node, heartbeatLagMs, secondsBehindMs, writerVisible, result.at);
    if (lag !== undefined) observation.lagMs = lag;
    const names = this.cluster.nodes.map((n) => n.name);
    this.latest = names.flatMap((name) => this.byNode.get(name) ?? []);
    this.onObservation(observation);
    if (!observation.reachable && observation.health === 'up') this.retryFailing(observation.node, result.at);
  }

  /**
   * A node whose probes began failing is probed again as soon as the hysteresis can use the
   * answer (its failures must span downAfterMs), not on the next tick: a dead writer is then
   * counted down a tick sooner, about 100 ms of every failover at the default timings.
   */
  private retryFailing(node: string, failedAt: number): void {
    const signal = this.signal;
    const { downAfterFailures, downAfterMs } = this.healthConfig;
    if (!signal || signal.aborted || downAfterFailures < 2) return;
    const retryMs = Math.ceil(downAfterMs / (downAfterFailures - 1));
    const due = failedAt + retryMs;
    void this.clock
      .sleep(Math.max(1, due - this.clock.now()), signal)
      .then(() => {
        if (!this.inFlight.has(node)) this.startProbe(node, this.clock.now());
      })
      .catch(() => undefined);
  }

  /**
   * How much of the writer's history a node is missing, in ms. A heartbeat lag is the age of
   * the newest stamp the node applied, so once no writer is visible it keeps growing with the
   * clock although nothing new was written: then the lag is measured against the last moment
   * a writer was seen. When nothing can be measured (the writer is gone, so the replica's
   * Seconds_Behind_Master is NULL), the last measured lag stands: the writer wrote nothing since.
   */
  private lagOf(
    node: string,
    heartbeatLagMs: number | undefined,
    secondsBehindMs: number | undefined,
    writerVisible: boolean,
    now: number,
  ): number | undefined {
    let lag = heartbeatLagMs ?? secondsBehindMs;
    if (heartbeatLagMs !== undefined && !writerVisible && this.writerSeenAt !== undefined) {
      lag = Math.max(0, heartbeatLagMs - (now - this.writerSeenAt));
    }
    if (lag === undefined) return this.lastLag.get(node);
    this.lastLag.set(node, lag);
    return lag;
  }

  private async observe(name: string, start: number): Promise<ProbeResult> {
    const db = this.databases.get(name);
    if (!db) return { node: name, error: 'no connection configured', down: false, at: this.clock.now() };
    try {
      const probe = await db.probe(start + linkTimeoutMs(this.probeTimeoutMs, db));
      return { node: name, probe, down: false, at: this.clock.now() };
    } catch (e) {
      const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      return { node: name, error, down: e instanceof ServerDownError, at: this.clock.now() };
    }
  }

  private toObservation(result: ProbeResult): {
    observation: NodeObservation;
    heartbeatLagMs?: number;
    secondsBehindMs?: number;
    at: number;
  } {
    const { node: name, probe, at } = result;
    if (result.down) this.down.add(name);
    else this.down.delete(name);
    const health = updateHealth(this.health.get(name), probe !== undefined, at, this.healthConfig);
    this.health.set(name, health);
    const observation: NodeObservation = {
      node: name,
      reachable: probe !== undefined,
      health: health.verdict,
      observedAt: at,
    };
    if (result.error !== undefined) observation.error = result.error;
    if (!probe) {
      // Keep the last sets we saw: for a writer that just died they are the best bound on what it
      // had, and the failover's lost range is computed from them (observation.ts).
      const last = this.byNode.get(name);
      if (last?.executedGtids !== undefined) observation.executedGtids = last.executedGtids;
      if (last?.gtidSource !== undefined) observation.gtidSource = last.gtidSource;
      // How it was when last reached, and since when it is not: the failover policy judges a dead
      // writer's semi-sync evidence on that window (policy.ts).
      if (last?.semiSync !== undefined) observation.semiSync = last.semiSync;
      const lastSeenAt = last?.reachable ? last.observedAt : last?.lastSeenAt;
      if (lastSeenAt !== undefined) observation.lastSeenAt = lastSeenAt;
      observation.unreachableSince = last?.reachable === false ? (last.unreachableSince ?? at) : at;
      return { observation, at };
    }
    observation.readOnly = probe.readOnly;
    observation.executedGtids = probe.executedGtids;
    // Only when it differs: the report stays small, and a difference is worth reading in etcdctl.
    if (probe.binlogGtids !== undefined && probe.binlogGtids !== probe.executedGtids)
      observation.binlogGtids = probe.binlogGtids;
    if (probe.gtidSource !== undefined) observation.gtidSource = probe.gtidSource;
    if (probe.watchdog !== undefined) observation.watchdog = probe.watchdog;
    if (probe.semiSync !== undefined) observation.semiSync = probe.semiSync;
    observation.replication = probe.replication.map((ch) => this.channel(name, ch, at));
    const retrieved = this.retrievedUnion(probe);
    if (retrieved !== undefined) observation.retrievedGtids = retrieved;
    return {
      observation,
      heartbeatLagMs: probe.heartbeatLagMs,
      secondsBehindMs: maxSecondsBehind(probe),
      at,
    };
  }

  private channel(node: string, ch: Probe['replication'][number], now: number): ReplicationObservation {
    const source = this.cluster.nodes.find((n) => n.host === ch.sourceHost && n.port === ch.sourcePort);
    const out: ReplicationObservation = {
      sourceHost: ch.sourceHost,
      sourcePort: ch.sourcePort,
      ioState: ch.ioRunning,
      sqlRunning: ch.sqlRunning,
      retrievedGtids: ch.retrievedGtids,
    };
    if (source) out.source = source.name;
    if (ch.lastError !== undefined) out.lastError = ch.lastError;
    if (ch.error !== undefined) out.error = ch.error;
    const key = `${node}|${ch.sourceHost}:${ch.sourcePort}`;
    const previous = this.received.get(key);
    if (!previous || previous.retrieved !== ch.retrievedGtids) {
      this.received.set(key, { retrieved: ch.retrievedGtids, changedAt: now });
    }
    if (previous) out.receivedAgoMs = previous.retrieved !== ch.retrievedGtids ? 0 : now - previous.changedAt;
    return out;
  }

  private retrievedUnion(probe: Probe): string | undefined {
    if (probe.replication.length === 0) return undefined;
    if (probe.replication.length === 1) return probe.replication[0]?.retrievedGtids;
    const flavor = this.cluster.flavor;
    return formatGtidSet(
      probe.replication
        .map((ch) => parseGtidSet(ch.retrievedGtids, flavor))
        .reduce((a, b) => unionGtidSets(a, b)),
    );
  }
}

function maxSecondsBehind(probe: Probe): number | undefined {
  const behind = probe.replication.map((ch) => ch.secondsBehind).filter((s): s is number => s !== undefined);
  return behind.length === 0 ? undefined : Math.max(...behind) * 1000;
}
