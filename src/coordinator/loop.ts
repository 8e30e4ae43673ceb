/**
 * One coordinator process for one cluster: observe → read state → guard → publish → (leader)
 * decide and act, once per cycle, one cycle in flight, every port call under a deadline.
 *
 * The session is the process's proof of life. Losing it (its own deadline passed, or etcd says
 * the lease is gone) fences the local writer immediately, outside the cycle, and drops
 * leadership; the next cycle opens a new session and campaigns again.
 */

import {
  assessWriter,
  deriveTimings,
  stateReadDue,
  storeCallTimeoutMs,
  type NodeObservation,
  recordStepOutcome,
  type Action,
  type Decision,
  type HistoryEntry,
  type OperationJournal,
  type PromoteAction,
  type ReasonCode,
  type RecordHistoryAction,
  type StepOutcome,
} from '../core/index.js';
import { promotionPrecondition } from './promotion-guard.js';
import type { CoordinatorConfig } from './config.js';
import { decideCluster } from './decision-adapter.js';
import { NotLeaderError, StateMovedError } from './errors.js';
import { ActionExecutor, isBookkeeping, type ActionOutcome, type PromotionApprover } from './executor.js';
import { GuardianDuty, type GuardianEvent } from './guardian.js';
import { HistoryWriter } from './history.js';
import { clusterKeys, type ClusterKeys } from './keys.js';
import { LeaderRole } from './leader.js';
import { betterPlacedLeader } from './leader-placement.js';
import { LeaseDeadline } from './lease-deadline.js';
import { linkTimeoutMs } from './link-deadline.js';
import { Observer } from './observer.js';
import type { ReportBatch } from './report-batch.js';
import type { Clock, Database, Leadership, MonoMs, NodeShooter, Session, Store } from './ports.js';
import { GuardianPublisher, ReportPublisher } from './publisher.js';
import { StandInGuardian } from './stand-in-guardian.js';
import { WatchdogStamps } from './watchdog-stamps.js';
import { encode, type GuardianRecord, type PublishedReport } from './records.js';
import { ClusterStateStore, HISTORY_KEEP_COUNT, type RoutingFacts, type StoreView } from './state-store.js';

/** An operation moves at most this many steps in one cycle (fence, catch-up, commit + open). */
const MAX_DECISIONS_PER_CYCLE = 4;
/** How often a leader tries again to open a command connection to a node that refused one. */
const WARM_UP_RETRY_MS = 1_000;
const YIELD_INTERVAL_MS = 30_000;

/** Structured record of what the loop did and why (a pino child logger in production). */
export type LoopLog = (kind: string, fields: Record<string, unknown>) => void;

/** See Coordinator.liveState(). Times are this process's monotonic clock. */
export interface CoordinatorLiveState {
  now: MonoMs;
  sessionValid: boolean;
  leaseLeftMs: number;
  writer?: { node: string; epoch: number };
  /** When the writer record was last read successfully (the last etcd contact of the loop). */
  writerReadAt?: MonoMs;
  /** Quarantined nodes as of writerReadAt (undefined: not read, or unreadable). */
  quarantined?: ReadonlySet<string>;
  /** Whether the writer was pinned as of writerReadAt. */
  pinned?: boolean;
  observations: ReadonlyMap<string, NodeObservation>;
  isLeader: boolean;
  lastCycleEndedAt?: MonoMs;
}

/** How often a steady leader checks history against its retention (state-store.ts). */
const HISTORY_PRUNE_INTERVAL_MS = 10_000;

export interface CoordinatorDeps {
  config: CoordinatorConfig;
  clock: Clock;
  store: Store;
  /** One Database per node of the cluster (local and remote), by node name. */
  databases: ReadonlyMap<string, Database>;
  /** STONITH for a local writer SQL cannot fence (optional; see NodeShooter). */
  shooter?: NodeShooter;
  log?: LoopLog;
  /** The beforePromote hook, when the cluster configures one (src/hooks/promotion-approver.ts). */
  approver?: PromotionApprover;
  /** Each decision cycle's duration (metrics). */
  onCycleFinished?: (durationMs: number) => void;
  /** The process's batch for report refreshes (report-batch.ts); without it each is a put. */
  reportBatch?: ReportBatch;
}

export class Coordinator {
  readonly keys: ClusterKeys;
  private readonly lease: LeaseDeadline;
  private readonly observer: Observer;
  private readonly guardian: GuardianDuty;
  private readonly stamps: WatchdogStamps;
  private readonly standIn: StandInGuardian;
  private readonly publisher: ReportPublisher;
  private readonly guardianPublisher: GuardianPublisher;
  private readonly state: ClusterStateStore;
  private readonly leader: LeaderRole;
  private readonly executor: ActionExecutor;
  private readonly history: HistoryWriter;
  private readonly log: LoopLog;
  private session: Session | undefined;
  private sessionPending = false;
  /** Set by a graceful stop: the session's end then fences nothing. */
  private released = false;
  /** The last decision found the writer healthy with no operation in flight. */
  private steady = false;
  /** Guardian fences not yet in history (written when etcd is reachable again). */
  private readonly pendingHistory: HistoryEntry[] = [];
  /** The last state read showed an operation or an intent in flight (or none succeeded yet). */
  private inFlight = true;
  private lastReadAt = -Infinity;
  /** Quarantine and pin as of lastReadAt, for the health checks (liveState). */
  private routingFacts: RoutingFacts | undefined;
  private lastCycleEndedAt = -Infinity;
  private lastHistoryPruneAt = -Infinity;
  private readonly localCandidates: string[];
  /** Every candidate master of the cluster (a leader keeps command connections to them). */
  private readonly candidates: string[];
  /** Last watchdog state logged per candidate, so a change is logged once. */
  private readonly watchdogLogged = new Map<string, string>();
  private lastYieldAt = -Infinity;
  /** The publish in flight (see publishSoon), and whether another is wanted after it. */
  private publishing: Promise<void> | undefined;
  private republish = false;
  /** The last report we stored, with its revision (the leader's view of itself). */
  private lastPublished: { report: PublishedReport; modRevision: number } | undefined;
  /** The guardian record publish in flight (publishGuardianRecord), and the last one stored. */
  private guardianPublishing: Promise<void> = Promise.resolve();
  private lastGuardianPublished: { record: GuardianRecord; modRevision: number } | undefined;
  /** Per node, when its last warm-up began (keepLinksWarm), and those still in flight. */
  private readonly lastWarmUp = new Map<string, MonoMs>();
  private readonly warmingUp = new Set<string>();

  constructor(private readonly deps: CoordinatorDeps) {
    const { config, clock, store, databases } = deps;
    const t = config.timings;
    this.log = deps.log ?? (() => undefined);
    this.keys = clusterKeys(config.cluster.name);
    this.candidates = config.cluster.nodes.filter((n) => n.role === 'candidate').map((n) => n.name);
    this.localCandidates = config.cluster.nodes
      .filter((n) => n.colo === config.self.colo && n.role === 'candidate')
      .map((n) => n.name);
    this.history = new HistoryWriter(this.keys, clock, config.self.name);
    this.lease = new LeaseDeadline(clock, () => this.session);
    this.stamps = new WatchdogStamps(clock, this.lease, config.watchdog);
    const { stampTimeoutMs } = deriveTimings(t);
    this.standIn = new StandInGuardian(
      config.cluster,
      config.self.colo,
      databases,
      this.stamps,
      { stampTimeoutMs, sessionTtlMs: t.sessionTtlMs },
      (node, error) => this.log('stand-in-stamp-failed', { node, error: describe(error) }),
    );
    this.observer = new Observer(
      config.cluster,
      clock,
      databases,
      config.core.health,
      t.probeTimeoutMs,
      t.quietProbeIntervalMs,
    );
    this.guardian = new GuardianDuty(
      config.cluster,
      config.self.colo,
      clock,
      databases,
      this.lease,
      t.commandTimeoutMs,
      { stamps: this.stamps, stampTimeoutMs },
      (node) => this.observer.knownDown(node),
      (e) => this.onGuardianEvent(e),
      // Two TTLs: a first session over TLS with an etcd login took over 4 s with both cores busy
      // (secure lab), and a process without one is, to the others, one that has not started.
      2 * t.sessionTtlMs,
    );
    this.publisher = new ReportPublisher(
      store,
      this.keys,
      clock,
      t.publishRefreshMs,
      () => this.storeTimeoutMs(),
      config.core.health.replicaSilenceMs,
      deps.reportBatch
        ? {
            batch: deps.reportBatch,
            stored: (report, modRevision) => {
              if (modRevision > (this.lastPublished?.modRevision ?? 0))
                this.lastPublished = { report, modRevision };
            },
          }
        : undefined,
    );
    this.guardianPublisher = new GuardianPublisher(store, this.keys, clock, () => this.storeTimeoutMs());
    this.state = new ClusterStateStore(store, this.keys);
    this.leader = new LeaderRole(store, this.keys, config.self.name, this.lease, (leading) => {
      // A new term starts from a fresh read and decision, not from the last term's verdict.
      this.steady = false;
      this.log(leading ? 'elected' : 'leadership-lost', {});
    });
    this.executor = new ActionExecutor(
      this.keys,
      clock,
      databases,
      this.lease,
      this.history,
      {
        storeTimeoutMs: () => this.storeTimeoutMs(),
        commandTimeoutMs: t.commandTimeoutMs,
        probeTimeoutMs: t.probeTimeoutMs,
      },
      (name) => {
        const node = config.cluster.nodes.find((n) => n.name === name);
        return node && { host: node.host, port: node.port };
      },
      { stamps: this.stamps, sessionTtlMs: t.sessionTtlMs },
      deps.approver,
    );
  }

  get name(): string {
    return this.deps.config.self.name;
  }

  /** The deadline of one etcd call (core/timings.ts storeCallTimeoutMs). */
  private storeTimeoutMs(): number {
    return storeCallTimeoutMs(this.deps.config.timings, this.deps.store.roundTripMs());
  }

  /** The writer record this coordinator last read (for agreement checks and status). */
  knownWriter(): { node: string; epoch: number } | undefined {
    return this.guardian.knownWriter();
  }

  isLeader(): boolean {
    return this.leader.current() !== undefined;
  }

  /**
   * What this coordinator knows right now, for the HTTP checks and metrics (src/http): read from
   * memory only, so an answer never waits on etcd or MySQL.
   */
  liveState(): CoordinatorLiveState {
    const now = this.deps.clock.now();
    const validUntil = this.lease.validUntil();
    const writer = this.guardian.knownWriter();
    return {
      now,
      sessionValid: this.lease.valid(),
      leaseLeftMs: Number.isFinite(validUntil) ? Math.max(0, validUntil - now) : 0,
      ...(writer ? { writer: { node: writer.node, epoch: writer.epoch } } : {}),
      ...(Number.isFinite(this.lastReadAt) ? { writerReadAt: this.lastReadAt } : {}),
      ...(this.routingFacts?.quarantined ? { quarantined: new Set(this.routingFacts.quarantined) } : {}),
      ...(this.routingFacts ? { pinned: this.routingFacts.pinned } : {}),
      observations: new Map(this.observer.observations().map((o) => [o.node, o])),
      isLeader: this.isLeader(),
      ...(Number.isFinite(this.lastCycleEndedAt) ? { lastCycleEndedAt: this.lastCycleEndedAt } : {}),
    };
  }

  /**
   * Leading, and the last decision found the writer healthy with nothing in flight: the only
   * time etcd maintenance may move raft leadership, since each move renews every lease and
   * would hold a pending failover for another TTL.
   */
  isSteadyLeader(): boolean {
    return this.isLeader() && this.steady;
  }

  /** Run cycles until the signal aborts; probes run alongside on their own timer (observer.ts). */
  async run(signal: AbortSignal): Promise<void> {
    const { clock } = this.deps;
    const interval = this.deps.config.timings.cycleIntervalMs;
    this.observer.setFocus(this.probeFocus());
    // The first cycle acts on answers, not on an empty view.
    await this.ensureSession();
    await this.observer.observeAll();
    const probing = this.observer.run(interval, signal, (observation) => {
      this.publishSoon();
      // A local writer found not running is promised closed now, not after the next cycle's
      // state read: across a WAN that read and the cycle before it were a second of a failover.
      if (this.guardian.promiseDead(observation.node)) void this.publishGuardianRecord();
    });
    while (!signal.aborted) {
      const started = clock.now();
      try {
        await this.cycle();
      } catch (error) {
        this.log('cycle-failed', { error: describe(error) });
      }
      const elapsed = clock.now() - started;
      this.lastCycleEndedAt = clock.now();
      this.deps.onCycleFinished?.(elapsed);
      try {
        await clock.sleep(Math.max(0, interval - elapsed), signal);
      } catch {
        break;
      }
    }
    await probing;
    this.leader.stop();
    await this.releaseSession();
  }

  /**
   * Graceful stop: revoke our lease so the others see us gone at once rather than a TTL later,
   * and fence nothing on the way out. A stopped coordinator is like a dead one (scenario 9): the
   * writer stays open and the leader counts its guardian as gone. Before this, the session's own
   * deadline fired a TTL after the stop and closed the writer: an outage for a routine restart.
   */
  private async releaseSession(): Promise<void> {
    this.released = true;
    const session = this.session;
    this.session = undefined;
    if (!session || session.signal.aborted) return;
    try {
      await session.close(this.deps.clock.now() + this.storeTimeoutMs());
      this.log('session-released', { lease: session.leaseId });
    } catch (error) {
      this.log('session-release-failed', { lease: session.leaseId, error: describe(error) });
    }
  }

  /**
   * A steady leader in the writer's colo hands leadership to another colo's coordinator
   * (leader-placement.ts), at most once per YIELD_INTERVAL_MS so a flapping view cannot churn it.
   */
  private async yieldIfMisplaced(leadership: Leadership, view: StoreView): Promise<void> {
    const { clock, config } = this.deps;
    if (!config.watchdog || !this.steady || clock.now() - this.lastYieldAt < YIELD_INTERVAL_MS) return;
    const writerColo = config.cluster.nodes.find((n) => n.name === view.writer?.node)?.colo;
    const alive = config.coordinators.filter((c) => c.name !== config.self.name && view.reports.has(c.name));
    const successor = betterPlacedLeader({ self: config.self, writerColo, alive });
    if (!successor) return;
    this.lastYieldAt = clock.now();
    try {
      await leadership.resign(clock.now() + this.storeTimeoutMs());
      this.log('leadership-yielded', {
        message: `leading from the writer's colo ${writerColo}: handing leadership to another colo (${successor.name} is alive) so that one death cannot silence both the guardian and its stand-in`,
      });
    } catch (error) {
      this.log('leadership-yield-failed', { error: describe(error) });
    }
    this.leader.stop();
  }

  /**
   * A candidate whose watchdog would not close it (event missing or disabled, scheduler off) is
   * a writer nothing closes if its guardian dies in a colo cut: say so once per change.
   */
  private reportUnarmedWatchdogs(observations: NodeObservation[]): void {
    if (!this.deps.config.watchdog) return;
    for (const o of observations) {
      const spec = this.deps.config.cluster.nodes.find((n) => n.name === o.node);
      if (o.watchdog === undefined || spec?.role !== 'candidate') continue;
      if (this.watchdogLogged.get(o.node) === o.watchdog) continue;
      const first = !this.watchdogLogged.has(o.node);
      this.watchdogLogged.set(o.node, o.watchdog);
      if (o.watchdog !== 'armed') {
        this.log('watchdog-unarmed', {
          level: 'warn',
          node: o.node,
          state: o.watchdog,
          message: `${o.node}'s watchdog is not armed (${o.watchdog}): if its guardian dies while its colo is cut off, nothing closes it (README: install the watchdog)`,
        });
      } else if (!first) {
        this.log('watchdog-armed', { node: o.node, message: `${o.node}'s watchdog is armed again` });
      }
    }
  }

  /** Which nodes the probe timer covers every tick: the writer and our colo's candidates. */
  private probeFocus(): { everyCycle: string[]; busy: boolean } {
    const knownWriter = this.guardian.knownWriter();
    return {
      everyCycle: [...(knownWriter ? [knownWriter.node] : []), ...this.localCandidates],
      busy: this.inFlight || knownWriter === undefined,
    };
  }

  /** One read → guard → publish → lead pass over the latest observations. */
  async cycle(): Promise<void> {
    const { clock, config } = this.deps;
    await this.ensureSession();
    this.observer.setFocus(this.probeFocus());

    // The writer record must be read in this cycle for the guardian to open writes on it.
    const leadership = this.leader.current();
    const readDue = this.stateReadDue(
      this.observer.observations(),
      this.guardian.knownWriter()?.node,
      leadership !== undefined,
    );
    // Steady only when this cycle's decision says so (a failed state read leaves it false).
    if (readDue) this.steady = false;
    // A guardian that may have to shoot its writer reads the whole state, which the check needs
    // (shootUnreachableWriter), in the cycle's one read: a second read cost each check an etcd
    // round trip (issue 11: a hung writer at 80 ms one-way).
    const wholeState = leadership !== undefined || this.guardian.unreachableWriter() !== undefined;
    const read = readDue ? await this.readState(wholeState) : undefined;
    const view = read?.view;
    // An operation moving the writer: our guardian acts on how its own nodes are now (a switchover
    // waits for our hold on the fenced writer), not on a probe from before the read. Local
    // probes cost a LAN round trip.
    const observations = read?.operation
      ? await this.observer.refresh(this.guardian.localNodes)
      : this.observer.observations();

    // Open writes only on a writer record read in this cycle, and only once our report is in the
    // store under this session: a leader that sees no report takes our lease for gone and may
    // promote elsewhere (promotion-guard.ts), so we must be visible before we open anything.
    const visible = this.session !== undefined && this.guardianPublisher.publishedUnder(this.session.leaseId);
    await this.guardian.enforce(read?.writer, read?.operation, observations, read !== undefined && visible);
    await this.shootUnreachableWriter(view);
    if (leadership) await this.standIn.stamp(this.guardian.knownWriter(), observations);
    this.reportUnarmedWatchdogs(observations);

    // What the guardian's pass promises is in the store before we lead on it. Its fences' history
    // goes alongside, not first: a leader failing over waits on the promise, not on the record.
    const [promised] = await Promise.all([
      this.publishGuardianRecord(),
      this.flushGuardianHistory().catch((error: unknown) =>
        this.log('history-failed', { error: describe(error) }),
      ),
    ]);
    if (view && promised && promised.modRevision > (view.guardians.get(config.self.name)?.modRevision ?? 0))
      view.guardians.set(config.self.name, promised);
    this.publishSoon();
    // Nobody waits for the report to be stored: a leader decides on its own report in memory
    // (ClusterStateStore.snapshot), and a cycle that waited for it paid a quorum round trip
    // across the WAN before its guardian's next pass.
    const published = this.lastPublished;
    if (view && published && published.modRevision > (view.reports.get(config.self.name)?.modRevision ?? 0))
      view.reports.set(config.self.name, published);

    if (leadership && view && this.leader.current() === leadership) {
      this.keepLinksWarm(this.candidates);
      await this.lead(leadership, view, this.report(this.observer.observations()));
      await this.yieldIfMisplaced(leadership, view);
      // Done/failed intents do not pile up under the prefix the leader reads every cycle.
      await this.state
        .pruneIntents(view, clock.wallNow(), clock.now() + this.storeTimeoutMs())
        .catch((error: unknown) => this.log('prune-intents-failed', { error: describe(error) }));
      await this.pruneHistoryNowAndThen();
    }
  }

  /**
   * The state this cycle acts on: everything for a leader, the writer record and journal for the
   * others. Undefined when the read failed (the guardian then opens nothing this cycle).
   */
  private async readState(
    wholeState: boolean,
  ): Promise<
    { view?: StoreView; writer: StoreView['writer']; operation: OperationJournal | undefined } | undefined
  > {
    const startedAt = this.deps.clock.now();
    const deadline = startedAt + this.storeTimeoutMs();
    try {
      let result;
      if (wholeState) {
        const view = await this.state.read(deadline);
        if (view.unreadable.length > 0) this.log('unreadable-records', { problems: view.unreadable });
        result = { view, writer: view.writer, operation: view.operation };
        this.routingFacts = { quarantined: Object.keys(view.quarantine), pinned: view.pin !== undefined };
      } else {
        const { writer, operation, routing } = await this.state.readWriter(deadline);
        result = { writer, operation };
        this.routingFacts = routing;
      }
      this.lastReadAt = startedAt;
      this.inFlight =
        result.operation !== undefined ||
        (result.view?.intents.some((i) => i.status === 'pending' || i.status === 'in-progress') ?? false);
      return result;
    } catch (error) {
      this.log('state-read-failed', { error: describe(error) });
      return undefined;
    }
  }

  /** This coordinator's report: its observations and its guardian's promises as of now. */
  private report(observations: NodeObservation[]): PublishedReport {
    return {
      coordinator: this.deps.config.self.name,
      colo: this.deps.config.self.colo,
      publishedAt: this.deps.clock.now(),
      nodes: observations,
    };
  }

  /**
   * Store our guardian's promises when they changed (and once per session). Awaited by the
   * cycle: the leader acts on them, and we open nothing before the record is visible.
   */
  private publishGuardianRecord(): Promise<{ record: GuardianRecord; modRevision: number } | undefined> {
    // One at a time, each taking the guardian's promises as they are when it runs: the last one
    // stored is the newest.
    const next = this.guardianPublishing.then(() => this.publishGuardianRecordNow());
    this.guardianPublishing = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private async publishGuardianRecordNow(): Promise<
    { record: GuardianRecord; modRevision: number } | undefined
  > {
    const session = this.session;
    if (!session || !this.lease.valid()) return undefined;
    const record: GuardianRecord = {
      coordinator: this.deps.config.self.name,
      colo: this.deps.config.self.colo,
    };
    const fenced = this.guardian.fencedWriter();
    if (fenced) record.fencedWriter = fenced;
    const hold = this.guardian.writerHold();
    if (hold) record.holding = hold;
    try {
      const revision = await this.guardianPublisher.publish(record, session);
      if (revision !== undefined) this.lastGuardianPublished = { record, modRevision: revision };
      return this.lastGuardianPublished;
    } catch (error) {
      this.log('publish-failed', { what: 'guardian record', error: describe(error) });
      return undefined;
    }
  }

  /**
   * Publish our report now, or right after the publish in flight: a changed verdict goes out
   * the moment a probe finds it, not at the next cycle (the publisher skips an unchanged report
   * that is not due for a refresh). One publish at a time, so reports are stored in order.
   */
  private publishSoon(): void {
    if (this.publishing) {
      this.republish = true;
      return;
    }
    this.publishing = (async () => {
      do {
        this.republish = false;
        await this.publish();
      } while (this.republish);
    })().finally(() => {
      this.publishing = undefined;
    });
  }

  private async publish(): Promise<void> {
    const session = this.session;
    if (!session || !this.lease.valid()) return;
    const report = this.report(this.observer.observations());
    try {
      const revision = await this.publisher.publish(report, session);
      if (revision !== undefined && revision > (this.lastPublished?.modRevision ?? 0))
        this.lastPublished = { report, modRevision: revision };
    } catch (error) {
      this.log('publish-failed', { error: describe(error) });
    }
  }

  /**
   * Decide and act; while an operation's step just succeeded, decide again in the same cycle
   * (bounded), so a failover's fence and commit, or a switchover's fence, catch-up and commit,
   * do not each wait for a cycle. Between rounds the view is what we read plus what we just
   * wrote and did: no etcd round trip to record the outcome or read it back (across a WAN those
   * were most of a failover's time, issue 11). Every write of the next round still compares
   * the state it depends on, so a view that moved meanwhile fails a txn, never decides wrong.
   * When we stop before the step machine does, the outcome is recorded in the journal for the
   * next cycle (or the next leader).
   */
  private async lead(leadership: Leadership, first: StoreView, ownReport: PublishedReport): Promise<void> {
    let view = first;
    // The journal as stored in etcd: a round may leave its own unwritten (decideOnce, deferred).
    let stored = first.operation;
    for (let round = 1; ; round++) {
      const roundStartedAt = this.deps.clock.now();
      const result = await this.decideOnce(leadership, view, ownReport);
      const journal = result?.decision.state.operation;
      // No actions: the step waits on something outside us (a guardian's hold, a catch-up seen
      // in reports), which only a later read can show.
      // Only bookkeeping (an intent marked in progress while the step waits): no step ran, so
      // there is no outcome to record (it would read as a fence that succeeded).
      const stepRan = result?.outcomes.some((o) => !isBookkeeping(o.action)) ?? false;
      // A journal that changed in a round that was not deferred was written (state or promote txn).
      if (result && !result.deferred && !sameJournal(view.operation, journal)) stored = journal;
      if (!result || !journal || !stepRan) return;
      // A hook still deciding: nothing to record; the next cycle asks again.
      if (result.outcomes.some((o) => o.pending)) return;
      const outcome = stepOutcome(journal, result.decision, result.outcomes);
      // A failed best-effort fence of a presumed-dead writer does not stop the step machine (it
      // continues to catch-up), nor does a lossy failover's catch-up that stopped short (it
      // commits what the target has): both count as progress.
      const advanced =
        outcome.ok ||
        (journal.step === 'fence-old' && journal.fenceBestEffort === true) ||
        (journal.step === 'wait-catchup' && outcome.executedGtids !== undefined);
      // A catch-up that took longer than a cycle: what survivors hold may have grown meanwhile
      // (sim seed 1074), so the commit is decided on a fresh read, next cycle.
      // A switchover waits for the fenced writer's final set, which cannot grow.
      const longWait =
        journal.step === 'wait-catchup' &&
        journal.kind !== 'switchover' &&
        this.deps.clock.now() - roundStartedAt > this.deps.config.timings.cycleIntervalMs;
      if (!advanced || longWait || round >= MAX_DECISIONS_PER_CYCLE || this.leader.current() !== leadership) {
        await this.recordOutcome(leadership, stored, recordStepOutcome(journal, outcome));
        return;
      }
      view = afterRound(view, result.decision, result.outcomes, recordStepOutcome(journal, outcome));
    }
  }

  /**
   * One decide → persist → execute pass. Undefined when the decision's state could not be
   * persisted (then nothing was executed).
   */
  private async decideOnce(
    leadership: Leadership,
    view: StoreView,
    ownReport: PublishedReport,
  ): Promise<{ decision: Decision; outcomes: ActionOutcome[]; deferred?: true } | undefined> {
    const { clock, config } = this.deps;
    const now = clock.wallNow();
    const snapshot = this.state.snapshot(view, config.cluster, config.coordinators, now, ownReport);
    const decision = decideCluster(snapshot, now, config.core);
    for (const e of decision.events) this.log('decision', { ...e });
    this.steady =
      decision.state.operation === undefined && decision.events.some((e) => e.reason === 'writer-healthy');

    const decidedFrom = this.state.decidedFrom(view);
    const persist = this.state.persistOps(snapshot, decision.state);
    // With a promote, the state rides in its txn: it may be the state after the commit.
    const promoting = decision.actions.some((a) => a.type === 'promote');
    // A decision that only changes state and records why (a skip, a standing refusal) writes both
    // in one txn: the failovers it precedes pay one etcd round trip less (issue 11).
    const historyOnly =
      persist.length > 0 &&
      decision.actions.length > 0 &&
      decision.actions.every((a) => a.type === 'record-history');
    const history = historyOnly
      ? decision.actions.map((a) => this.history.entry((a as RecordHistoryAction).entry))
      : [];
    const persisted = async (): Promise<boolean> => {
      if (persist.length === 0 || promoting) return true;
      try {
        this.lease.require('persist decision state');
        const result = await leadership.guardedTxn(
          [...decidedFrom, ...history.map((h) => h.compare)],
          [...persist, ...history.map((h) => h.op)],
          this.lease.boundedDeadline(this.storeTimeoutMs()),
        );
        if (!result.succeeded) {
          throw historyOnly
            ? new StateMovedError('persist decision state and history: state moved since it was read')
            : new NotLeaderError('persist decision state');
        }
        return true;
      } catch (error) {
        this.onLeaderWriteFailed(error, 'persist');
        return false;
      }
    };
    if (historyOnly) {
      if (!(await persisted())) return undefined;
      const outcomes = decision.actions.map((action) => ({ action, ok: true }));
      this.logOutcomes(outcomes);
      return { decision, outcomes };
    }

    const ctx = {
      leadership,
      decidedFrom,
      intents: view.intents,
      promotionPrecondition: (promote: PromoteAction) =>
        promotionPrecondition(promote, view, config.cluster, config.coordinators, this.keys, {
          now: clock.now(),
          heldUntil: (node) => this.stamps.heldUntil(node),
        }),
      ...(promoting && persist.length > 0 ? { persistWithPromote: persist } : {}),
      ...(view.writer ? { writer: view.writer } : {}),
    };
    // A wait for GTIDs that does not stop replication when it gives up changes nothing: it runs
    // while the journal that asks for it is written (a switchover's gap held both, one after the
    // other). Its outcome counts only if the journal was stored; a new leader re-runs the step
    // from the journal it finds.
    const readOnlyStep =
      decision.actions.length > 0 &&
      decision.actions.every((a) => a.type === 'wait-for-gtids' && a.stopOnTimeout !== true);
    // Such a wait in an operation already journalled need not be journalled before the next
    // step: a leader that finds the older journal redoes the steps since, which are idempotent
    // (fence, wait). The next write carries it (the promote's txn, a step that waits, or
    // recordOutcome); that saves a switchover's gap an etcd txn from a far leader (issue 11).
    const deferred =
      readOnlyStep &&
      view.operation !== undefined &&
      view.operation.id === decision.state.operation?.id &&
      persist.every((op) => 'put' in op && op.put === this.keys.operation);
    let outcomes: ActionOutcome[];
    if (deferred) {
      outcomes = await this.executor.executeAll(decision.actions, ctx);
    } else if (readOnlyStep) {
      const [stored, done] = await Promise.all([
        persisted(),
        this.executor.executeAll(decision.actions, ctx),
      ]);
      if (!stored) return undefined;
      outcomes = done;
    } else {
      if (!(await persisted())) return undefined;
      if (decision.actions.length === 0) return { decision, outcomes: [] };
      outcomes = await this.executor.executeAll(decision.actions, ctx);
    }
    this.logOutcomes(outcomes);
    const failed = outcomes.find((o) => !o.ok && o.error?.startsWith('NotLeaderError'));
    if (failed) this.leader.lost();
    // A promote that did not land took the decision's state with it.
    if (promoting && !outcomes.some((o) => o.committed)) return undefined;
    return deferred ? { decision, outcomes, deferred } : { decision, outcomes };
  }

  /**
   * A leader's command connections to the candidate masters (an operation's two nodes among
   * them) are kept open: a failover's open, a switchover's fence, catch-up wait and open then each take one
   * round trip, not a connect and handshake first (four more; measured 435 ms at 40 ms one-way).
   * A far target's watchdog stamp needs a warm connection to get a hold at all (executor
   * openWrites): without one, the new writer waited for its own guardian to open it, 0.7 s
   * after the commit at 80 ms one-way (issue 11). One warm-up per node at a time, at most one a
   * second while it keeps failing (a node that is down).
   */
  private keepLinksWarm(nodes: string[]): void {
    const { clock, databases, config } = this.deps;
    for (const node of nodes) {
      const db = databases.get(node);
      if (!db?.warmUp || db.hasIdleConnection?.() || this.warmingUp.has(node)) continue;
      const now = clock.now();
      if (now - (this.lastWarmUp.get(node) ?? -Infinity) < WARM_UP_RETRY_MS) continue;
      this.lastWarmUp.set(node, now);
      this.warmingUp.add(node);
      db.warmUp(now + linkTimeoutMs(config.timings.commandTimeoutMs, db))
        .catch((error: unknown) =>
          this.log('warm-up-failed', { node, error: describe(error), level: 'debug' }),
        )
        .finally(() => this.warmingUp.delete(node));
    }
  }

  private logOutcomes(outcomes: ActionOutcome[]): void {
    for (const o of outcomes)
      this.log('action', {
        type: o.action.type,
        ok: o.ok,
        reason: o.action.reason,
        ...actionTarget(o.action),
        ...(o.tookMs !== undefined ? { tookMs: o.tookMs } : {}),
        ...(o.error ? { error: o.error } : {}),
      });
  }

  /** Write the journal with its step's outcome over the one stored, for whoever decides next. */
  private async recordOutcome(
    leadership: Leadership,
    stored: OperationJournal | undefined,
    next: OperationJournal,
  ): Promise<void> {
    if (stored === undefined || sameJournal(stored, next)) return;
    const journal = stored;
    try {
      this.lease.require('record step outcome');
      const result = await leadership.guardedTxn(
        [{ key: this.keys.operation, target: 'value', equals: encode(journal) }],
        [{ put: this.keys.operation, value: encode(next) }],
        this.lease.boundedDeadline(this.storeTimeoutMs()),
      );
      if (!result.succeeded)
        this.log('step-outcome-not-recorded', { operation: journal.id, step: journal.step });
    } catch (error) {
      this.onLeaderWriteFailed(error, 'record step outcome');
    }
  }

  private onLeaderWriteFailed(error: unknown, what: string): void {
    this.log('leader-write-failed', { what, error: describe(error) });
    if (error instanceof NotLeaderError) this.leader.lost();
  }

  /**
   * Whether to read the state this cycle (core/quiet-pacing.ts): every cycle unless all is quiet,
   * and a leader also whenever its last decision was not "writer healthy, nothing in flight".
   */
  private stateReadDue(
    observations: NodeObservation[],
    writer: string | undefined,
    leading: boolean,
  ): boolean {
    const quietMs = this.deps.config.timings.quietProbeIntervalMs;
    if (quietMs === undefined) return true;
    return stateReadDue({
      busy: this.inFlight || (leading && !this.steady),
      ...(writer ? { writer } : {}),
      observations,
      now: this.deps.clock.now(),
      lastReadAt: this.lastReadAt,
      quietIntervalMs: quietMs,
    });
  }

  /** Open a session when we have none; losing one fences at once and ends our leadership. */
  private async ensureSession(): Promise<void> {
    const { clock, store, config } = this.deps;
    if (this.session && !this.session.signal.aborted) {
      this.leader.campaign(this.session);
      return;
    }
    if (this.sessionPending) return;
    this.sessionPending = true;
    try {
      const session = await store.createSession(
        config.timings.sessionTtlMs,
        clock.now() + this.storeTimeoutMs(),
      );
      this.session = session;
      this.log('session-opened', { lease: session.leaseId, validUntil: session.validUntil() });
      const onEnd = (): void => {
        if (this.released) return;
        this.log('session-ended', { lease: session.leaseId, reason: describe(session.signal.reason) });
        this.leader.stop();
        void this.guardian.selfFence();
      };
      if (session.signal.aborted) onEnd();
      else session.signal.addEventListener('abort', onEnd, { once: true });
      this.leader.campaign(session);
    } catch (error) {
      this.log('session-failed', { error: describe(error) });
    } finally {
      this.sessionPending = false;
    }
  }

  /**
   * Our SQL fence cannot reach the local writer (hung, or its host unreachable from us). Shoot it
   * only on the leader's own verdict: a quorum of live observers says it is down, no replica still
   * streams from it, and only our missing hold stands in the way (skipped-guardian-alive). One
   * guardian's slow probe never gets a master killed. `cycleView`: the whole state this cycle
   * already read, if it did (else it is read here).
   */
  private async shootUnreachableWriter(cycleView: StoreView | undefined): Promise<void> {
    const { clock, config, shooter } = this.deps;
    const target = this.guardian.unreachableWriter();
    if (!shooter || !target || !this.lease.valid()) return;
    let verdict;
    try {
      const view = cycleView ?? (await this.state.read(this.lease.boundedDeadline(this.storeTimeoutMs())));
      const now = clock.wallNow();
      verdict = assessWriter(
        this.state.snapshot(view, config.cluster, config.coordinators, now),
        now,
        config.core,
      );
    } catch (error) {
      this.log('stonith-check-failed', { node: target.node, error: describe(error) });
      return;
    }
    if (verdict.reason !== 'skipped-guardian-alive') {
      this.log('stonith-withheld', {
        node: target.node,
        reason: verdict.reason,
        message: verdict.message,
        level: 'debug',
      });
      return;
    }
    this.lease.require(`shoot ${target.node}`);
    const result = await shooter.shoot(
      target.node,
      this.lease.boundedDeadline(deriveTimings(config.timings).fenceCommandBoundMs),
    );
    this.log('guardian', {
      action: 'stonith',
      node: target.node,
      epoch: target.epoch,
      reason: 'guardian-stonith',
      ok: result.ok,
      detail: result.detail,
      level: result.ok ? 'warn' : 'error',
    });
    if (!result.ok) return;
    this.guardian.markShot(target.node, target.epoch);
    this.onGuardianEvent({
      action: 'fence',
      node: target.node,
      reason: 'guardian-stonith',
      ok: true,
      epoch: target.epoch,
    });
  }

  private onGuardianEvent(e: GuardianEvent): void {
    this.log('guardian', { ...e });
    if (e.action !== 'fence' || !e.ok) return;
    this.pendingHistory.push({
      epoch: e.epoch ?? 0,
      reason: e.reason as ReasonCode,
      message: `guardian ${this.deps.config.self.name} fenced ${e.node}`,
      event: 'fence',
      node: e.node,
      by: this.deps.config.self.name,
      at: this.deps.clock.wallNow(),
    });
    // A guardian cut off for a long time keeps only its latest fences.
    if (this.pendingHistory.length > 20) this.pendingHistory.shift();
  }

  /** While steady, at most once per HISTORY_PRUNE_INTERVAL_MS: history beyond its retention goes. */
  private async pruneHistoryNowAndThen(): Promise<void> {
    const { clock } = this.deps;
    if (!this.steady || clock.now() - this.lastHistoryPruneAt < HISTORY_PRUNE_INTERVAL_MS) return;
    this.lastHistoryPruneAt = clock.now();
    try {
      const pruned = await this.state.pruneHistory(clock.now() + this.storeTimeoutMs());
      if (pruned > 0)
        this.log('history-pruned', {
          entries: pruned,
          message: `deleted the ${pruned} oldest history entries (retention: the newest ${HISTORY_KEEP_COUNT})`,
        });
    } catch (error) {
      this.log('prune-history-failed', { error: describe(error) });
    }
  }

  /**
   * An entry written alongside the guardian's fences (the next cycle, under our lease): what a
   * hook run came to. Hooks run outside the loop; their history waits for the loop like a fence's.
   */
  recordHistory(entry: Omit<HistoryEntry, 'at'>): void {
    this.pendingHistory.push({ ...entry, at: this.deps.clock.wallNow() });
    if (this.pendingHistory.length > 20) this.pendingHistory.shift();
  }

  /** Invariant 9: every fence a guardian carried out goes to history, once it can write again. */
  private async flushGuardianHistory(): Promise<void> {
    const deadline = this.deps.clock.now() + this.storeTimeoutMs();
    while (this.pendingHistory.length > 0 && this.lease.valid()) {
      const { op, compare } = this.history.entry(this.pendingHistory[0] as HistoryEntry);
      await this.deps.store.txn([compare], [op], deadline);
      this.pendingHistory.shift();
    }
  }
}

/** What executing a step's actions came to, for the step machine (recordStepOutcome). */
function stepOutcome(journal: OperationJournal, decision: Decision, outcomes: ActionOutcome[]): StepOutcome {
  const relevant = outcomes.filter((o) => !isBookkeeping(o.action));
  const executedAll = outcomes.length === decision.actions.length;
  const failure = relevant.find((o) => !o.ok);
  const outcome: StepOutcome = {
    operationId: journal.id,
    step: journal.step,
    ok: executedAll && failure === undefined,
  };
  const fence = relevant.find((o) => o.action.type === 'fence' && o.ok && o.action.node === journal.from);
  // A catch-up that stopped short says where the target stopped.
  const stopped = relevant.find((o) => o.action.type === 'wait-for-gtids' && !o.ok);
  const executedGtids = fence?.executedGtids ?? stopped?.executedGtids;
  if (executedGtids !== undefined) outcome.executedGtids = executedGtids;
  if (failure?.error !== undefined) outcome.error = failure.error;
  return outcome;
}

/**
 * The view after a round, without reading it back: what we read, plus the state we persisted,
 * the writer record a promote stored, the intents we resolved, and the journal with the step's
 * outcome (in memory only; recorded if we stop before the step machine does).
 */
function afterRound(
  view: StoreView,
  decision: Decision,
  outcomes: ActionOutcome[],
  journal: OperationJournal,
): StoreView {
  const { pin: _pin, operation: _operation, ...rest } = view;
  const { replicas: _replicas, ...kept } = rest;
  const next: StoreView = {
    ...kept,
    antiFlap: decision.state.antiFlap,
    quarantine: decision.state.quarantine,
    operation: journal,
    intents: view.intents.map((intent) => {
      const resolved = outcomes.find(
        (o) => o.ok && o.action.type === 'resolve-intent' && o.action.intentId === intent.id,
      )?.action;
      return resolved?.type === 'resolve-intent' ? { ...intent, status: resolved.status } : intent;
    }),
  };
  if (decision.state.pin) next.pin = decision.state.pin;
  if (decision.state.replicas) next.replicas = decision.state.replicas;
  const committed = outcomes.find((o) => o.committed)?.committed;
  if (committed) {
    next.writer = committed.record;
    next.writerModRevision = committed.revision;
  }
  return next;
}

function actionTarget(a: Action): Record<string, unknown> {
  switch (a.type) {
    case 'promote':
      return { node: a.node, epoch: a.epoch };
    case 'open-writes':
      return { node: a.node, epoch: a.epoch };
    case 'fence':
    case 'quarantine':
    case 'wait-for-gtids':
      return { node: a.node };
    case 'approve-promotion':
      return { node: a.node, epoch: a.epoch };
    case 'repoint':
      return { node: a.replica, source: a.source };
    case 'stop-replication':
      return { node: a.on, from: a.from };
    case 'record-history':
      return { event: a.entry.event };
    case 'resolve-intent':
      return { intent: a.intentId, status: a.status };
  }
}

function sameJournal(a: OperationJournal | undefined, b: OperationJournal | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
