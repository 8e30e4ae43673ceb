/**
 * Carries out the leader's actions, in order, each with a deadline and the checks the core asks
 * for (actions.ts): etcd writes are guarded by our leader key's create-revision and by the state
 * they were decided from; MySQL side effects first check `now < validUntil` and, when they carry
 * an epoch, that the writer record has not moved on. The first failure stops the rest: later
 * actions of a step assume the earlier ones happened.
 */

import type { Action, Intent, PromoteAction, WriterRecord } from '../core/index.js';
import type { HistoryWriter } from './history.js';
import { NotLeaderError, StaleEpochError, StateMovedError } from './errors.js';
import type { ClusterKeys } from './keys.js';
import type { LeaseDeadline } from './lease-deadline.js';
import type { Clock, Compare, Database, Leadership, Op } from './ports.js';
import { encode } from './records.js';
import type { WatchdogStamps } from './watchdog-stamps.js';

export interface ActionOutcome {
  action: Action;
  ok: boolean;
  /** fence: executed set after fencing; wait-for-gtids: whether it was reached. */
  executedGtids?: string;
  reached?: boolean;
  error?: string;
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
}

export class ActionExecutor {
  constructor(
    private readonly keys: ClusterKeys,
    private readonly clock: Clock,
    private readonly databases: ReadonlyMap<string, Database>,
    private readonly lease: LeaseDeadline,
    private readonly history: HistoryWriter,
    private readonly timeouts: { storeTimeoutMs: number; commandTimeoutMs: number; probeTimeoutMs: number },
    private readonly nodeAddress: (name: string) => { host: string; port: number } | undefined,
    /** Opening writes stamps the watchdog first, with a stand-in's hold (see stand-in-guardian.ts). */
    private readonly watchdog: { stamps: WatchdogStamps; maxHoldMs: number },
  ) {}

  async executeAll(actions: Action[], ctx: ExecutionContext): Promise<ActionOutcome[]> {
    const outcomes: ActionOutcome[] = [];
    let epochWriter = ctx.writer;
    for (const action of actions) {
      const outcome: ActionOutcome = { action, ok: false };
      outcomes.push(outcome);
      try {
        await this.execute(action, ctx, outcome, epochWriter);
        outcome.ok = true;
        if (action.type === 'promote') {
          epochWriter = {
            node: action.node,
            epoch: action.epoch,
            since: this.clock.wallNow(),
            reason: action.reason,
          };
          // The new writer record is the state later writes of this batch build on.
          ctx.decidedFrom = ctx.decidedFrom.filter((c) => c.key !== this.keys.writer);
        }
      } catch (error) {
        outcome.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        // History and intent bookkeeping never block the safety-relevant steps after them.
        if (action.type !== 'record-history' && action.type !== 'resolve-intent') break;
      }
    }
    return outcomes;
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
        const timeoutMs =
          action.type === 'fence' && action.bestEffort
            ? Math.min(2 * this.timeouts.probeTimeoutMs, this.timeouts.commandTimeoutMs)
            : this.timeouts.commandTimeoutMs;
        const { executedGtids } = await this.db(action.node).fence(this.clock.now() + timeoutMs);
        outcome.executedGtids = executedGtids;
        return;
      }
      case 'wait-for-gtids': {
        this.lease.require(`wait for GTIDs on ${action.node}`);
        outcome.reached = await this.db(action.node).waitForGtids(
          action.gtids,
          this.lease.boundedDeadline(action.timeoutMs),
        );
        if (!outcome.reached)
          throw new Error(`${action.node} did not execute ${action.gtids} within ${action.timeoutMs} ms`);
        return;
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
        await this.guarded(
          ctx,
          `promote ${action.node} at epoch ${action.epoch}`,
          [{ put: this.keys.writer, value: encode(record) }],
          guardianCompares,
        );
        return;
      }
      case 'open-writes': {
        if (!writer || writer.node !== action.node || writer.epoch !== action.epoch) {
          throw new StaleEpochError(
            `open writes on ${action.node} at epoch ${action.epoch}: writer record is ${writer?.node}@${writer?.epoch}`,
          );
        }
        this.lease.require(`open writes on ${action.node}`);
        await this.watchdog.stamps.openWrites(
          this.db(action.node),
          action.node,
          this.timeouts.commandTimeoutMs,
          this.watchdog.maxHoldMs,
        );
        return;
      }
      case 'repoint': {
        this.lease.require(`repoint ${action.replica}`);
        const source = this.nodeAddress(action.source);
        if (!source) throw new Error(`repoint ${action.replica}: unknown source ${action.source}`);
        await this.db(action.replica).repoint(
          source,
          this.lease.boundedDeadline(this.timeouts.commandTimeoutMs),
        );
        return;
      }
      case 'stop-replication': {
        this.lease.require(`stop replication on ${action.on}`);
        await this.db(action.on).stopReplication(this.lease.boundedDeadline(this.timeouts.commandTimeoutMs));
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
        await this.guarded(ctx, `resolve intent ${action.intentId}`, [
          { put: this.keys.intent(action.intentId), value: encode({ ...intent, status: action.status }) },
        ]);
        return;
      }
    }
  }

  private async guarded(
    ctx: ExecutionContext,
    what: string,
    ops: Op[],
    extra: Compare[] = [],
  ): Promise<void> {
    this.lease.require(what);
    const result = await ctx.leadership.guardedTxn(
      [...ctx.decidedFrom, ...extra],
      ops,
      this.lease.boundedDeadline(this.timeouts.storeTimeoutMs),
    );
    if (!result.succeeded) {
      // With extra compares we cannot tell which one failed; leadership is re-checked by the next write.
      throw extra.length > 0
        ? new StateMovedError(`${what}: state moved since it was read`)
        : new NotLeaderError(what);
    }
  }

  private db(node: string): Database {
    const db = this.databases.get(node);
    if (!db) throw new Error(`no connection configured for ${node}`);
    return db;
  }
}
