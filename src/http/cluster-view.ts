import type { CoordinatorLiveState } from '../coordinator/loop.js';
import type { MonoMs } from '../coordinator/ports.js';
import type { RoutingView } from '../core/routing.js';
import type { ClusterState } from '../ops/cluster-state.js';
import type { ClusterLayout } from './cluster-layout.js';
import { buildClusterOverview, type ClusterOverview, type KnownWriter } from './cluster-overview.js';
import type { ClusterStateCache } from './cluster-state-cache.js';

/**
 * The web view answers from a state read up to this old without waiting for the next one
 * (ClusterView.overview): two of its one-second polls.
 */
export const OVERVIEW_READ_MAX_AGE_MS = 2_000;

/** What the HTTP listener needs of one cluster's coordinator: its memory, nothing it must fetch. */
export interface LiveStateSource {
  liveState(): CoordinatorLiveState;
}

/**
 * One cluster as this coordinator sees it: the decision loop's live state (session, writer
 * record, quarantine and pin as last read, its own observations), and the cluster state read
 * when asked (every observer's report, history). Health checks answer only from memory.
 */
export class ClusterView {
  constructor(
    readonly cluster: string,
    readonly coordinator: string,
    private readonly source: LiveStateSource,
    private readonly cache: ClusterStateCache,
    /** The config's nodes, policy and budget. */
    readonly layout: ClusterLayout,
    /** Older than this, a state read or observation does not count (RoutingView.freshForMs). */
    readonly freshForMs: number,
    /** The session TTL: a loop that has not run for this long is not alive. */
    readonly sessionTtlMs: number,
  ) {
    this.nodeNames = layout.nodes.map((n) => n.name);
  }

  private readonly nodeNames: readonly string[];
  private watchedWriter: KnownWriter | undefined;

  live(): CoordinatorLiveState {
    return this.source.liveState();
  }

  /**
   * A writer record from the etcd watch (RoutingService). Only a newer epoch counts: it lets the
   * checks follow a writer change the moment it is committed instead of at the loop's next read.
   * The loop's reads still prove the record fresh: a watch that went quiet proves nothing.
   */
  writerSeen(record: { node: string; epoch: number; since?: unknown; reason?: unknown }): void {
    if (record.epoch > (this.watchedWriter?.epoch ?? -1))
      this.watchedWriter = {
        node: record.node,
        epoch: record.epoch,
        // Kept for the web view's header; the checks use node and epoch only.
        ...(typeof record.since === 'number' ? { since: record.since } : {}),
        ...(typeof record.reason === 'string' ? { reason: record.reason } : {}),
      };
  }

  /** The newest writer record this coordinator knows, from its loop or the watch. */
  private newestWriter(live: CoordinatorLiveState): KnownWriter | undefined {
    const watched = this.watchedWriter;
    if (!live.writer) return watched;
    // At one epoch both name the same record; the watch's copy also has since and reason.
    return watched && watched.epoch >= live.writer.epoch ? watched : live.writer;
  }

  nodes(): readonly string[] {
    return this.nodeNames;
  }

  hasNode(node: string): boolean {
    return this.nodeNames.includes(node);
  }

  /** The last state read, when it is fresh enough to answer on. */
  private freshState(): ClusterState | undefined {
    const current = this.cache.current();
    if (!current) return undefined;
    return this.live().now - current.readAt <= this.freshForMs ? current.state : undefined;
  }

  /** Read by the loop with the writer record; undefined when that read is not fresh. */
  quarantined(): ReadonlySet<string> | undefined {
    const live = this.live();
    return this.loopReadIsFresh(live) ? live.quarantined : undefined;
  }

  pinned(): boolean | undefined {
    const live = this.live();
    return this.loopReadIsFresh(live) ? live.pinned : undefined;
  }

  private loopReadIsFresh(live: CoordinatorLiveState): boolean {
    return live.writerReadAt !== undefined && live.now - live.writerReadAt <= this.freshForMs;
  }

  /** Brings the other observers' reports up to date (a metrics scrape, before reportedHealth). */
  async refreshReports(): Promise<void> {
    await this.cache.summary();
  }

  /** Each observer's latest verdict per node, from the reports in the store. */
  reportedHealth(): Map<string, Map<string, boolean>> {
    const out = new Map<string, Map<string, boolean>>();
    const state = this.freshState();
    for (const [observer, report] of Object.entries(state?.observations ?? {})) {
      const nodes = (report as { nodes?: unknown } | undefined)?.nodes;
      if (!Array.isArray(nodes)) continue;
      const verdicts = new Map<string, boolean>();
      for (const n of nodes as Array<{ node?: unknown; health?: unknown }>)
        if (typeof n.node === 'string') verdicts.set(n.node, n.health === 'up');
      out.set(observer, verdicts);
    }
    return out;
  }

  routingView(): RoutingView {
    const live = this.live();
    const quarantined = this.quarantined();
    const writer = this.newestWriter(live);
    return {
      now: live.now,
      sessionValid: live.sessionValid,
      ...(writer ? { writer: { node: writer.node, epoch: writer.epoch } } : {}),
      ...(live.writerReadAt !== undefined ? { writerReadAt: live.writerReadAt } : {}),
      freshForMs: this.freshForMs,
      observations: live.observations,
      ...(quarantined ? { quarantined } : {}),
    };
  }

  /**
   * `baton status --json`'s shape, with how old it is and who answers. History comes from a read
   * made for it; when etcd does not answer, the background state is served without history and
   * says why (`historyError`).
   */
  async stateDocument(): Promise<Record<string, unknown> | undefined> {
    const full = await this.cache.withHistory();
    const answer = 'error' in full ? this.cache.current() : full;
    if (!answer) return undefined;
    return {
      ...answer.state,
      ...('error' in full ? { historyError: full.error } : {}),
      answeredBy: this.coordinator,
      ageMs: Math.round(this.live().now - answer.readAt),
    };
  }

  /** The last read with history the web view drew from (a metrics scrape's reads have none). */
  private lastFullRead: { state: ClusterState; readAt: MonoMs } | undefined;

  /**
   * The cluster as the web view draws it (cluster-overview.ts): the newest writer record (the
   * watch brings a change here the moment it is committed) and a state read shared like
   * stateDocument's. A page polls every second, so while the last read is younger than
   * OVERVIEW_READ_MAX_AGE_MS it is answered at once and the next read runs for the next poll:
   * the writer never waits on etcd. An older one waits for the read; when etcd does not answer,
   * the last read says how old it is and why.
   */
  async overview(wallNow: () => number, timeZone?: string): Promise<ClusterOverview | undefined> {
    const reading = this.cache.withHistory().then((answer) => {
      if (!('error' in answer) && answer.readAt >= (this.lastFullRead?.readAt ?? -Infinity))
        this.lastFullRead = answer;
      return answer;
    });
    const last = this.lastFullRead;
    let readError: string | undefined;
    if (!last || this.live().now - last.readAt > OVERVIEW_READ_MAX_AGE_MS) {
      const answer = await reading;
      if ('error' in answer) readError = answer.error;
    }
    const shown = this.lastFullRead ?? this.cache.current();
    if (!shown) return undefined;
    const live = this.live();
    const writer = this.newestWriter(live);
    return buildClusterOverview({
      state: shown.state,
      ...(readError !== undefined ? { readError } : {}),
      layout: this.layout,
      ...(writer ? { writer } : {}),
      coordinator: this.coordinator,
      stateAgeMs: live.now - shown.readAt,
      session: { valid: live.sessionValid, leaseLeftMs: live.leaseLeftMs, isLeader: live.isLeader },
      wallNow: wallNow(),
      ...(timeZone !== undefined ? { timeZone } : {}),
    });
  }
}
