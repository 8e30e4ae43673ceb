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
import { ServerDownError, type Clock, type Database, type Probe } from './ports.js';

/** What the loop knows that decides how densely to probe (see nodesToProbe). */
export interface ProbeFocus {
  /** The writer as last read, and this coordinator's own colo's candidates. */
  everyCycle: string[];
  /** An operation is in flight or the writer is unknown. */
  busy: boolean;
}

export class Observer {
  private readonly health = new Map<string, ProbeHealthState>();
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

  /** The last observation of every node (empty before the first cycle). */
  observations(): NodeObservation[] {
    return this.latest;
  }

  /**
   * Probe the nodes nodesToProbe picks (every node when no quiet interval is configured) and
   * return the latest observation of every node: a node not probed this cycle keeps its last one,
   * with its own observedAt.
   */
  async observeAll(focus: ProbeFocus = { everyCycle: [], busy: true }): Promise<NodeObservation[]> {
    const start = this.clock.now();
    const deadline = start + this.probeTimeoutMs;
    const names = this.cluster.nodes.map((n) => n.name);
    const due =
      this.quietProbeIntervalMs === undefined
        ? names
        : nodesToProbe({
            nodes: names,
            everyCycle: focus.everyCycle,
            last: this.byNode,
            now: start,
            quietIntervalMs: this.quietProbeIntervalMs,
            busy: focus.busy,
          });
    const probed = await Promise.all(due.map((name) => this.observe(name, deadline)));
    const now = this.clock.now();
    const writerVisible = probed.some((p) => p.observation.readOnly === false);
    if (writerVisible) this.writerSeenAt = now;
    for (const { observation, heartbeatLagMs, secondsBehindMs } of probed) {
      const lag = this.lagOf(observation.node, heartbeatLagMs, secondsBehindMs, writerVisible, now);
      if (lag !== undefined) observation.lagMs = lag;
      this.byNode.set(observation.node, observation);
    }
    this.latest = names.flatMap((name) => this.byNode.get(name) ?? []);
    return this.latest;
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

  private async observe(
    name: string,
    deadline: number,
  ): Promise<{ observation: NodeObservation; heartbeatLagMs?: number; secondsBehindMs?: number }> {
    const db = this.databases.get(name);
    let probe: Probe | undefined;
    let error: string | undefined;
    if (!db) {
      error = 'no connection configured';
    } else {
      try {
        probe = await db.probe(deadline);
        this.down.delete(name);
      } catch (e) {
        if (e instanceof ServerDownError) this.down.add(name);
        else this.down.delete(name);
        error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
    }
    const now = this.clock.now();
    const health = updateHealth(this.health.get(name), probe !== undefined, now, this.healthConfig);
    this.health.set(name, health);
    const observation: NodeObservation = {
      node: name,
      reachable: probe !== undefined,
      health: health.verdict,
      observedAt: now,
    };
    if (error !== undefined) observation.error = error;
    if (probe) {
      observation.readOnly = probe.readOnly;
      observation.executedGtids = probe.executedGtids;
      if (probe.watchdog !== undefined) observation.watchdog = probe.watchdog;
      observation.replication = probe.replication.map((ch) => this.channel(name, ch, now));
      const retrieved = this.retrievedUnion(probe);
      if (retrieved !== undefined) observation.retrievedGtids = retrieved;
      return { observation, heartbeatLagMs: probe.heartbeatLagMs, secondsBehindMs: maxSecondsBehind(probe) };
    }
    return { observation };
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
