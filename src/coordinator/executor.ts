/**
 * Carries out the leader's actions, in order, each with a deadline and the checks the core asks
 * for (actions.ts): etcd writes are guarded by our leader key's create-revision and by the state
 * they were decided from; MySQL side effects first check `now < validUntil` and, when they carry
 * an epoch, that the writer record has not moved on. The first failure stops the rest: later
 * actions of a step assume the earlier ones happened.
 */

import {
  type ApprovePromotionAction,
  standInMaxHoldMs,
  type Action,
  type Intent,
  type OpenWritesAction,
  type PromoteAction,
  type RecordHistoryAction,
  type WriterRecord,
} from '../core/index.js';
import type { HistoryWriter } from './history.js';
import { NotLeaderError, StaleEpochError, StateMovedError } from './errors.js';
import type { ClusterKeys } from './keys.js';
import type { LeaseDeadline } from './lease-deadline.js';
import type { Clock, Compare, Database, Leadership, Op } from './ports.js';
import { linkTimeoutMs, warmLinkTimeoutMs } from './link-deadline.js';
import { encode } from './records.js';
import { MAX_INTENT_MESSAGE_CHARS } from './intent-record.js';
import { oneLine } from '../problem-text.js';
import type { WatchdogStamps } from './watchdog-stamps.js';

export interface ActionOutcome {
  action: Action;
  ok: boolean;
  /** fence: executed set after fencing; wait-for-gtids: whether it was reached. */
  executedGtids?: string;
  reached?: boolean;
  /** promote: the writer record it stored, and the revision of that txn. */
  committed?: { record: WriterRecord; revision: number };
  error?: string;
  /** How long carrying it out took (for traces: where a failover's time goes). */
  tookMs?: number;
  /** approve-promotion: the hook is still running; no outcome yet (the step waits). */
  pending?: boolean;
}

/**
 * The beforePromote hook as the executor sees it: `poll` starts the hook for an operation the
 * first time it is asked and answers undefined until the hook has finished, so the decision
 * loop never waits on it.
 */
export interface PromotionApprover {
  poll(action: ApprovePromotionAction): { approved: boolean; detail: string } | undefined;
}

export class ApprovalPendingError extends Error {
  override name = 'ApprovalPendingError';
}

export interface ExecutionContext {
  leadership: Leadership;
  /** Compares that tie guarded writes to the state the actions were decided from. */
  decidedFrom: Compare[];
  /** Writer record as read this cycle (epoch checks for MySQL side effects). */
  writer?: WriterRecord;
  intents: Intent[];
  /** Invariant 4 for a promotion: compares to add, or throws when the old writer's guardian does not agree. */
  promotionPrecondition: (promote: PromoteAction) => Compare[];
  /** The decision's persisted state, written in the promote's txn (see Decision.state). */
  persistWithPromote?: Op[];
  /** The writer change's own history entry, written in the promote's txn. */
  historyWithPromote?: { op: Op; compare: Compare }[];
}

/** How the promote's outcome reaches the open waiting for it: its writer record, or why not. */
interface PromoteSettles {
  resolve: (writer: WriterRecord | undefined) => void;
  reject: (error: Error) => void;
}

export class ActionExecutor {
  constructor(
    private readonly keys: ClusterKeys,
    private readonly clock: Clock,
    private readonly databases: ReadonlyMap<string, Database>,
    private readonly lease: LeaseDeadline,
    private readonly history: HistoryWriter,
    private readonly timeouts: {
      /** The etcd call allowance now (configured floor plus the measured latency). */
      storeTimeoutMs: () => number;
      commandTimeoutMs: number;
      probeTimeoutMs: number;
    },
    private readonly nodeAddress: (name: string) => { host: string; port: number } | undefined,
    /** Opening writes stamps the watchdog first, with a stand-in's hold (see stand-in-guardian.ts). */
    private readonly watchdog: { stamps: WatchdogStamps; sessionTtlMs: number },
    private readonly approver?: PromotionApprover,
  ) {}

  /**
   * Run the actions in order, bookkeeping (history, intents) after the rest: a target opened
   * right after its commit should not wait for the audit trail's etcd writes.
   */
  async executeAll(actions: Action[], ctx: ExecutionContext): Promise<ActionOutcome[]> {
    const outcomes: ActionOutcome[] = [];
    let epochWriter = ctx.writer;
    const ordered = [...actions.filter((a) => !isBookkeeping(a)), ...actions.filter(isBookkeeping)];
    // A writer change's own history entry rides in the promote's txn: written after it, a failed
    // write lost it for good, since the journal committed with the promote is already past the
    // step that emits it (seen once in 10 semi-sync benchmark runs).
    const promote = actions.find((a): a is PromoteAction => a.type === 'promote');
    const carried = new Set(
      actions.filter(
        (a) =>
          promote !== undefined &&
          a.type === 'record-history' &&
          a.entry.event === 'promote' &&
          a.entry.epoch === promote.epoch,
      ),
    );
    const withPromote = {
      ...ctx,
      historyWithPromote: [...carried].map((a) => this.history.entry((a as RecordHistoryAction).entry)),
    };
    let promoted = false;
    // The target's watchdog stamp, to a server still read-only, needs no commit: sent with the
    // promote, its round trip to the target leaves the switchover's write gap (issue 11).
    const opening = promote && this.openWithCommit(promote, ordered);
    for (const action of ordered) {
      const outcome: ActionOutcome = { action, ok: false };
      outcomes.push(outcome);
      if (carried.has(action)) {
        outcome.ok = promoted;
        if (!promoted) outcome.error = 'not written: its promote did not commit';
        continue;
      }
      const startedAt = this.clock.now();
      try {
        if (opening?.action === action) await opening.opened;
        else await this.execute(action, withPromote, outcome, epochWriter);
        outcome.ok = true;
        if (action.type === 'promote') {
          promoted = true;
          epochWriter = {
            node: action.node,
            epoch: action.epoch,
            since: this.clock.wallNow(),
            reason: action.reason,
          };
          // The new writer record is the state later writes of this batch build on.
          withPromote.decidedFrom = withPromote.decidedFrom.filter((c) => c.key !== this.keys.writer);
          opening?.commit.resolve(outcome.committed?.record);
        }
      } catch (error) {
        outcome.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        // A failed step stops the steps after it, which assume it happened; bookkeeping never does.
        if (!isBookkeeping(action)) break;
      } finally {
        outcome.tookMs = Math.round(this.clock.now() - startedAt);
      }
    }
    opening?.commit.reject(new Error('not opened: its promote did not commit'));
    return outcomes;
  }

  /**
   * The open-writes that follows `promote` on its node, started now: it stamps the watchdog at
   * once and opens only once `commit` resolves with the writer record the promote stored.
   */
  private openWithCommit(
    promote: PromoteAction,
    ordered: Action[],
  ): { action: OpenWritesAction; opened: Promise<void>; commit: PromoteSettles } | undefined {
    const action = ordered.find(
      (a): a is OpenWritesAction =>
        a.type === 'open-writes' && a.node === promote.node && a.epoch === promote.epoch,
    );
    if (!action) return undefined;
    let commit!: PromoteSettles;
    const committed = new Promise<WriterRecord | undefined>((resolve, reject) => {
      commit = { resolve, reject };
    }).then((writer) => this.checkOpen(action, writer));
    committed.catch(() => undefined); // an open that failed before its commit never awaits it
    const opened = this.openWrites(action, committed, this.timeouts.storeTimeoutMs());
    opened.catch(() => undefined); // awaited in turn; unawaited when the promote failed
    return { action, opened, commit };
  }

  /** Epoch and lease checks right before read_only=OFF. */
  private checkOpen(action: OpenWritesAction, writer: WriterRecord | undefined): void {
    if (!writer || writer.node !== action.node || writer.epoch !== action.epoch) {
      throw new StaleEpochError(
        `open writes on ${action.node} at epoch ${action.epoch}: writer record is ${writer?.node}@${writer?.epoch}`,
      );
    }
    this.lease.require(`open writes on ${action.node}`);
  }

  /** `committed`: resolves once the promote is stored (see openWithCommit); `waitMs` is its allowance. */
  private async openWrites(action: OpenWritesAction, committed?: Promise<void>, waitMs = 0): Promise<void> {
    this.lease.require(`open writes on ${action.node}`);
    const db = this.db(action.node);
    const timeoutMs = linkTimeoutMs(this.timeouts.commandTimeoutMs, db, 2) + waitMs;
    // The stamp is one small write with its own deadline (see WatchdogStamps.openWrites); on the
    // connection the operation warmed up, one round trip. With a reconnect's allowance a far
    // leader's hold came out empty and the target waited for its own guardian to open it
    // (issue 11: 150 ms more at 80 ms one-way).
    const stampTimeoutMs = warmLinkTimeoutMs(this.timeouts.probeTimeoutMs, db);
    await this.watchdog.stamps.openWrites(
      db,
      action.node,
      timeoutMs,
      stampTimeoutMs,
      standInMaxHoldMs(this.watchdog.sessionTtlMs, stampTimeoutMs),
      committed,
    );
  }

  private async execute(
    action: Action,
    ctx: ExecutionContext,
    outcome: ActionOutcome,
    writer: WriterRecord | undefined,
  ): Promise<void> {
    switch (action.type) {
      case 'fence':
      case 'quarantine': {
        // Fencing is always allowed: making a node read-only can never create a second writer.
        // A presumed-dead node gets two probe deadlines: a cut colo would otherwise hold the
        // failover for a whole command deadline waiting on a TCP connect (lab: 1 s of 7).
        const db = this.db(action.node);
        const allowanceMs =
          action.type === 'fence' && action.bestEffort
            ? Math.min(2 * this.timeouts.probeTimeoutMs, this.timeouts.commandTimeoutMs)
            : this.timeouts.commandTimeoutMs;
        const { executedGtids } = await db.fence(this.clock.now() + linkTimeoutMs(allowanceMs, db, 4));
        outcome.executedGtids = executedGtids;
        return;
      }
      case 'approve-promotion': {
        if (!this.approver) throw new Error('a beforePromote hook is asked for but none is configured here');
        const answer = this.approver.poll(action);
        if (!answer) {
          outcome.pending = true;
          throw new ApprovalPendingError(`beforePromote hook still running for ${action.operationId}`);
        }
        if (!answer.approved) throw new Error(answer.detail);
        return;
      }
      case 'wait-for-gtids': {
        this.lease.require(`wait for GTIDs on ${action.node}`);
        const db = this.db(action.node);
        outcome.reached = await db.waitForGtids(
          action.gtids,
          this.lease.boundedDeadline(linkTimeoutMs(action.timeoutMs, db, 2)),
        );
        if (outcome.reached) return;
        if (action.stopOnTimeout) {
          // Nothing more of the old writer's history may arrive once the target opens: stop, then
          // say exactly where it stopped (the failover records the rest as lost).
          await db.stopReplication(
            this.lease.boundedDeadline(linkTimeoutMs(this.timeouts.commandTimeoutMs, db)),
          );
          const { executedGtids } = await db.probe(
            this.lease.boundedDeadline(linkTimeoutMs(this.timeouts.commandTimeoutMs, db)),
          );
          outcome.executedGtids = executedGtids;
        }
        throw new Error(`${action.node} did not execute ${action.gtids} within ${action.timeoutMs} ms`);
      }
      case 'promote': {
        this.lease.require(`promote ${action.node}`);
        const record: WriterRecord = {
          node: action.node,
          epoch: action.epoch,
          since: this.clock.wallNow(),
          reason: action.reason,
        };
        if (writer && writer.epoch !== action.previousEpoch) {
          throw new StaleEpochError(
            `promote ${action.node}: writer epoch is ${writer.epoch}, decided from ${action.previousEpoch}`,
          );
        }
        // Invariant 4, checked here whatever the core decided: throws unless the old writer's
        // guardian is gone or holds it; the compares make that promise part of the commit.
        const guardianCompares = ctx.promotionPrecondition(action);
        const revision = await this.guarded(
          ctx,
          `promote ${action.node} at epoch ${action.epoch}`,
          [
            { put: this.keys.writer, value: encode(record) },
            ...(ctx.persistWithPromote ?? []),
            ...(ctx.historyWithPromote ?? []).map((h) => h.op),
          ],
          [...guardianCompares, ...(ctx.historyWithPromote ?? []).map((h) => h.compare)],
        );
        outcome.committed = { record, revision };
        return;
      }
      case 'open-writes': {
        this.checkOpen(action, writer);
        await this.openWrites(action);
        return;
      }
      case 'repoint': {
        this.lease.require(`repoint ${action.replica}`);
        const source = this.nodeAddress(action.source);
        if (!source) throw new Error(`repoint ${action.replica}: unknown source ${action.source}`);
        const db = this.db(action.replica);
        await db.repoint(
          source,
          this.lease.boundedDeadline(linkTimeoutMs(this.timeouts.commandTimeoutMs, db, 3)),
          {
            ...(action.onlyKeys ? { onlyKeys: action.onlyKeys } : {}),
            ...(action.refetchOwnTail ? { refetchOwnTail: true } : {}),
          },
        );
        return;
      }
      case 'stop-replication': {
        this.lease.require(`stop replication on ${action.on}`);
        const db = this.db(action.on);
        await db.stopReplication(
          this.lease.boundedDeadline(linkTimeoutMs(this.timeouts.commandTimeoutMs, db)),
        );
        return;
      }
      case 'record-history': {
        const { op, compare } = this.history.entry(action.entry);
        await this.guarded(ctx, 'record history', [op], [compare]);
        return;
      }
      case 'resolve-intent': {
        const intent = ctx.intents.find((i) => i.id === action.intentId);
        if (!intent) return;
        // The answer goes with it, for the CLI waiting on it and for whoever reads it in etcd.
        const answered =
          action.status === 'done' || action.status === 'failed'
            ? {
                outcome: {
                  reason: action.reason,
                  message: oneLine(action.message, MAX_INTENT_MESSAGE_CHARS),
                  at: this.clock.wallNow(),
                },
              }
            : {};
        await this.guarded(ctx, `resolve intent ${action.intentId}`, [
          {
            put: this.keys.intent(action.intentId),
            value: encode({ ...intent, status: action.status, ...answered }),
          },
        ]);
        return;
      }
    }
  }

  /** A leader-guarded txn; returns its revision. */
  private async guarded(
    ctx: ExecutionContext,
    what: string,
    ops: Op[],
    extra: Compare[] = [],
  ): Promise<number> {
    this.lease.require(what);
    const result = await ctx.leadership.guardedTxn(
      [...ctx.decidedFrom, ...extra],
      ops,
      this.lease.boundedDeadline(this.timeouts.storeTimeoutMs()),
    );
    if (!result.succeeded) {
      // With extra compares we cannot tell which one failed; leadership is re-checked by the next write.
      throw extra.length > 0
        ? new StateMovedError(`${what}: state moved since it was read`)
        : new NotLeaderError(what);
    }
    return result.revision;
  }

  private db(node: string): Database {
    const db = this.databases.get(node);
    if (!db) throw new Error(`no connection configured for ${node}`);
    return db;
  }
}

export function isBookkeeping(action: Action): boolean {
  return action.type === 'record-history' || action.type === 'resolve-intent';
}
