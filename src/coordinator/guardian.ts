/**
 * Guardian duty for this coordinator's own colo (invariant 4): run the core's pure guard() rule
 * and carry out what it says, with two loop-level rules of its own:
 * - read_only=OFF only runs after a last `now < validUntil` check, right before the call;
 * - the self-fence path does not wait for the cycle: when the session's signal aborts (its
 *   deadline passed or the lease is gone) we fence at once, even while a cycle is stuck in an
 *   etcd call, because the lease may expire at the server `margin` ms later.
 */

import {
  guard,
  type ClusterSpec,
  type CoreEvent,
  type FencedWriter,
  type GuardianAction,
  type NodeObservation,
  type OperationJournal,
  type WriterRecord,
} from '../core/index.js';
import type { LeaseDeadline } from './lease-deadline.js';
import { linkTimeoutMs } from './link-deadline.js';
import { ServerDownError, type Clock, type Database } from './ports.js';
import type { WriterHold } from './records.js';
import type { WatchdogStamps } from './watchdog-stamps.js';

export interface GuardianEvent {
  action: GuardianAction['type'] | 'self-fence' | 'heartbeat';
  node: string;
  reason: string;
  ok: boolean;
  error?: string;
  epoch?: number;
}

export class GuardianDuty {
  /** Epoch at which we fenced the writer: we never reopen it at that epoch (core rule). */
  private fencedEpoch: number | undefined;
  /** Confirmed fence of the writer, published for the leader. */
  private fenced: FencedWriter | undefined;
  /** Local nodes we may have left writable (last seen or last opened), for the self-fence path. */
  private possiblyWritable = new Set<string>();
  private lastWriter: WriterRecord | undefined;
  private hold: WriterHold | undefined;
  private unfenceable: { node: string; epoch: number } | undefined;
  private shotEpoch: number | undefined;
  /** Until a session is first held: the end of the start-up grace (core guard()). */
  private startupGraceUntil: number | undefined;

  constructor(
    private readonly spec: ClusterSpec,
    private readonly colo: string,
    private readonly clock: Clock,
    private readonly databases: ReadonlyMap<string, Database>,
    private readonly lease: LeaseDeadline,
    private readonly commandTimeoutMs: number,
    /** Our stamps on the writer's watchdog, and the deadline of a stamping heartbeat. */
    private readonly watchdog: { stamps: WatchdogStamps; stampTimeoutMs: number },
    /** Whether our own last probe found the node not running (ServerDownError). */
    private readonly knownDown: (node: string) => boolean,
    private readonly onEvent: (e: GuardianEvent) => void,
    /** How long a new process waits for its first session before fencing (one session TTL). */
    startupGraceMs = 0,
  ) {
    this.startupGraceUntil = clock.now() + startupGraceMs;
  }

  get localNodes(): string[] {
    return this.spec.nodes.filter((n) => n.colo === this.colo).map((n) => n.name);
  }

  fencedWriter(): FencedWriter | undefined {
    return this.fenced;
  }

  /** What we promise the leader about the local writer this cycle (see WriterHold). */
  writerHold(): WriterHold | undefined {
    return this.hold;
  }

  private holdFor(
    writer: WriterRecord,
    observations: NodeObservation[],
    events: CoreEvent[],
  ): WriterHold | undefined {
    const obs = observations.find((o) => o.node === writer.node);
    const readOnly = obs?.reachable === true && obs.readOnly === true;
    const held = this.fencedEpoch !== undefined && this.fencedEpoch >= writer.epoch;
    // Shot by the fence command: certainly unable to take writes, even if its host does not
    // refuse our probes (powered off) and so never looks 'known down'.
    const shot = this.shotEpoch === writer.epoch;
    if (held && (this.knownDown(writer.node) || shot))
      return { node: writer.node, epoch: writer.epoch, because: 'dead' };
    if (held && readOnly) return { node: writer.node, epoch: writer.epoch, because: 'fenced' };
    const heldForOperation = events.some(
      (e) => e.reason === 'guardian-hold-operation' && e.node === writer.node,
    );
    // Held by guard() while the journal moves the writer away; nothing more: a rollback reopens
    // it at the same epoch, so this must not become a fence record (seed 1440 lost writes when
    // a stale fence record outlived a rolled-back switchover).
    if (heldForOperation) {
      // Given while still open, the promise stays 'awaiting-fence' after the leader's fence: a
      // record that changed then would fail the promote's compare (promotion-guard.ts) in the
      // middle of the write gap.
      const prev = this.hold;
      const given =
        prev?.because === 'awaiting-fence' && prev.node === writer.node && prev.epoch === writer.epoch;
      return {
        node: writer.node,
        epoch: writer.epoch,
        because: readOnly && !given ? 'operation' : 'awaiting-fence',
      };
    }
    return undefined;
  }

  private hungWriterUnderFailover(
    action: GuardianAction,
    writer: WriterRecord | undefined,
    observations: NodeObservation[],
  ): boolean {
    if (action.type !== 'fence' || action.reason !== 'guardian-writer-down') return false;
    if (writer?.node !== action.node || this.knownDown(action.node)) return false;
    return observations.find((o) => o.node === action.node)?.reachable === false;
  }

  /** The writer record this guardian last read (what it enforces). */
  knownWriter(): WriterRecord | undefined {
    return this.lastWriter;
  }

  /** One guardian pass from the cycle; `mayOpen` is false unless the writer record was read in this cycle and our report is visible. */
  async enforce(
    writer: WriterRecord | undefined,
    operation: OperationJournal | undefined,
    observations: NodeObservation[],
    mayOpen: boolean,
  ): Promise<void> {
    if (writer) this.lastWriter = writer;
    if (this.lease.valid()) this.startupGraceUntil = undefined;
    // What we saw writable is remembered first: the self-fence fences it when the session ends,
    // even if we never read a writer record (sim seed 8815: a first read lost, then a site cut,
    // and the self-fence fenced nothing while the leader promoted elsewhere).
    const local = new Set(this.localNodes);
    for (const o of observations)
      if (local.has(o.node) && o.readOnly === false) this.possiblyWritable.add(o.node);
    // Never read a writer record yet (etcd slow at startup): we do not know who may be writable,
    // so with a valid session we change nothing; the self-fence path covers a lost session.
    if (!writer && !this.lastWriter && !mayOpen && this.lease.valid()) return;
    const input: Parameters<typeof guard>[0] = {
      spec: this.spec,
      colo: this.colo,
      observations: observations.filter((o) => local.has(o.node)),
      now: this.clock.now(),
      sessionValidUntil: this.lease.validUntil(),
    };
    if (this.startupGraceUntil !== undefined) input.startupGraceUntil = this.startupGraceUntil;
    if (writer) input.writer = writer;
    else if (this.lastWriter) input.writer = this.lastWriter;
    if (operation) input.operation = operation;
    const localWriter = input.writer && local.has(input.writer.node) ? input.writer : undefined;
    // A local writer that is not running cannot take writes, and restarts read-only: hold it
    // closed at this epoch (the leader reopens it at a newer one) so that "dead" is a promise.
    if (localWriter && this.knownDown(localWriter.node)) {
      this.fencedEpoch = Math.max(this.fencedEpoch ?? -Infinity, localWriter.epoch);
    }
    if (this.fencedEpoch !== undefined) input.fencedEpoch = this.fencedEpoch;
    const decision = guard(input);
    if (decision.fencedEpoch !== undefined) this.fencedEpoch = decision.fencedEpoch;
    this.forgetVoidedFence(input.writer, input.observations);
    this.confirmFencedByObservation(input.writer, input.observations);
    for (const action of decision.actions) {
      // Opening writes on a stale view, or while the leader cannot see us, could make a second writer.
      if (action.type === 'open-writes' && !mayOpen) continue;
      if (this.hungWriterUnderFailover(action, input.writer, input.observations)) {
        // A failover is under way and our probes time out on it: the blind fence will time out
        // too. STONITH is asked this very cycle instead of after that wait (a quarter of a
        // command deadline in the middle of a hung writer's failover); the fence still goes out,
        // and a hung server runs it when it resumes.
        this.unfenceable = { node: action.node, epoch: (input.writer as WriterRecord).epoch };
        void this.execute(action, input.writer);
        continue;
      }
      await this.execute(action, input.writer);
    }
    // Our report is published concurrently with this pass (loop.ts): a new promise becomes
    // visible only once every action decided with it has run, so no open-writes of ours can
    // still be in flight behind a hold the leader acts on.
    // 'fenced' and 'dead' are promises from our own memory (fencedEpoch) and stand whether or not
    // this pass read the state; 'operation' comes from the journal, so only from a fresh read. A
    // hold that came and went with every failed read changed our record each time, and across a
    // WAN every promotion compares it (promotion-guard.ts).
    // Computed after the actions: a promise a probe gave meanwhile (promiseDead) is kept.
    const hold = localWriter
      ? this.holdFor(localWriter, input.observations, mayOpen ? decision.events : [])
      : undefined;
    this.hold = hold;
    // Not tied to a read in this cycle (quiet cycles read no state): the statement itself only
    // writes on an open server, and stamping never opens anything.
    if (localWriter) await this.stampHeartbeat(localWriter, input.observations);
  }

  /**
   * The writer's guardian stamps the heartbeat row every cycle, so every replica's lag is the
   * age of the newest stamp it applied: exact even in circular replication. The same write
   * vouches for the writer to its watchdog for as long as our lease covers. Only on an open
   * writer (the statement itself also checks read_only) and only while our lease is provable.
   */
  private async stampHeartbeat(writer: WriterRecord, observations: NodeObservation[]): Promise<void> {
    const obs = observations.find((o) => o.node === writer.node);
    const db = this.databases.get(writer.node);
    if (!db || obs?.reachable !== true || obs.readOnly !== false || !this.lease.valid()) return;
    const { stamps, stampTimeoutMs } = this.watchdog;
    try {
      await stamps.heartbeat(db, writer.node, linkTimeoutMs(stampTimeoutMs, db), Infinity, false);
    } catch (error) {
      this.onEvent({
        action: 'heartbeat',
        node: writer.node,
        reason: 'heartbeat-failed',
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /**
   * The leader can reopen a writer at the same epoch (a switchover rolled back): once we see it
   * writable again, a fence record for that epoch would tell the leader a stale "final" GTID set.
   */
  private forgetVoidedFence(writer: WriterRecord | undefined, observations: NodeObservation[]): void {
    if (!writer || this.fenced?.node !== writer.node || this.fenced.epoch !== writer.epoch) return;
    const obs = observations.find((o) => o.node === writer.node);
    if (obs?.reachable === true && obs.readOnly === false) this.fenced = undefined;
  }

  /**
   * We hold the writer closed at its epoch but our fence call never answered (server down or
   * hung). Once we see it read-only, its executed set is final: that is the confirmation the
   * leader waits for (reopen at a new epoch, or promote elsewhere), so publish it.
   */
  private confirmFencedByObservation(
    writer: WriterRecord | undefined,
    observations: NodeObservation[],
  ): void {
    if (!writer || this.fencedEpoch === undefined || this.fencedEpoch < writer.epoch) return;
    if (this.fenced?.node === writer.node && this.fenced.epoch === writer.epoch) return;
    const obs = observations.find((o) => o.node === writer.node);
    if (obs?.reachable !== true || obs.readOnly !== true || obs.executedGtids === undefined) return;
    this.fenced = {
      node: writer.node,
      epoch: writer.epoch,
      executedGtids: obs.executedGtids,
      at: this.clock.wallNow(),
    };
  }

  /** The session ended: fence every local node that may be writable, now. */
  async selfFence(): Promise<void> {
    const writer = this.lastWriter;
    const targets = new Set(this.possiblyWritable);
    if (writer && this.localNodes.includes(writer.node)) {
      targets.add(writer.node);
      this.fencedEpoch = Math.max(this.fencedEpoch ?? -Infinity, writer.epoch);
    }
    await Promise.all(
      [...targets].sort().map((node) =>
        this.execute(
          {
            type: 'fence',
            node,
            reason: 'guardian-session-invalid',
            message: `session ended: fencing ${node}`,
          },
          writer,
        ),
      ),
    );
  }

  /**
   * The local writer our SQL fence could not reach (timeout, not a refusal): only STONITH can
   * hold it closed now. The loop decides whether a quorum agrees before it shoots.
   */
  unreachableWriter(): { node: string; epoch: number } | undefined {
    const w = this.unfenceable;
    if (
      !w ||
      this.shotEpoch === w.epoch ||
      this.lastWriter?.node !== w.node ||
      this.lastWriter.epoch !== w.epoch
    ) {
      return undefined;
    }
    return w;
  }

  /**
   * Our probe just found `node` not running: if it is the local writer as last read, hold it
   * closed at that epoch now (what the next pass would promise, see enforce). True when that is
   * a new promise, to be published.
   */
  promiseDead(node: string): boolean {
    const writer = this.lastWriter;
    if (!writer || writer.node !== node || !this.localNodes.includes(node) || !this.knownDown(node))
      return false;
    if (this.hold?.because === 'dead' && this.hold.node === node && this.hold.epoch === writer.epoch)
      return false;
    this.fencedEpoch = Math.max(this.fencedEpoch ?? -Infinity, writer.epoch);
    this.hold = { node, epoch: writer.epoch, because: 'dead' };
    return true;
  }

  /** The fence command shot `node`: it stays closed at this epoch, like any node we fenced. */
  markShot(node: string, epoch: number): void {
    this.shotEpoch = epoch;
    this.possiblyWritable.delete(node);
    this.fencedEpoch = Math.max(this.fencedEpoch ?? -Infinity, epoch);
    // Promised at once, not from the next cycle's pass: the leader's failover waits on it, and a
    // cycle later plus its probe and publish was 0.9 s of a hung writer's failover at 40 ms.
    this.hold = { node, epoch, because: 'dead' };
  }

  private async execute(action: GuardianAction, writer: WriterRecord | undefined): Promise<void> {
    const db = this.databases.get(action.node);
    if (!db) return;
    // A writer our own probes already judge down gets a short blind fence: if it is alive it
    // answers at once, and if it is hung, waiting longer only delays the quorum's STONITH check
    // (failing here changes nothing else).
    const timeoutMs =
      action.reason === 'guardian-writer-down' ? this.commandTimeoutMs / 4 : this.commandTimeoutMs;
    const deadline = this.clock.now() + timeoutMs;
    const event: GuardianEvent = { action: action.type, node: action.node, reason: action.reason, ok: false };
    if (writer) event.epoch = writer.epoch;
    try {
      if (action.type === 'open-writes') {
        event.epoch = action.epoch;
        // Last check before the only call that can create a writer: our lease must be provably alive.
        this.lease.require(`open writes on ${action.node}`);
        this.possiblyWritable.add(action.node);
        await this.watchdog.stamps.openWrites(
          db,
          action.node,
          timeoutMs,
          linkTimeoutMs(this.watchdog.stampTimeoutMs, db),
          Infinity,
        );
      } else {
        const { executedGtids } = await db.fence(deadline);
        this.possiblyWritable.delete(action.node);
        if (writer && writer.node === action.node) {
          this.fencedEpoch = Math.max(this.fencedEpoch ?? -Infinity, writer.epoch);
          this.fenced = { node: action.node, epoch: writer.epoch, executedGtids, at: this.clock.wallNow() };
        }
      }
      event.ok = true;
    } catch (error) {
      event.error = error instanceof Error ? error.message : String(error);
      if (action.type === 'fence' && writer?.node === action.node && !(error instanceof ServerDownError)) {
        this.unfenceable = { node: action.node, epoch: writer.epoch };
      }
    }
    this.onEvent(event);
  }
}
