/**
 * What the leader's loop executes. Every action carries the reason it exists and a message for
 * logs and history. Rules for the loop:
 * - `promote` is a guarded etcd txn (leader key create-revision + writer epoch compare) and must
 *   succeed BEFORE any MySQL side effect of the same operation runs. It also carries the
 *   decision's persisted state (Decision.state), written atomically with the writer record.
 * - MySQL side effects are preceded by a local check `now < leaseDeadline - margin`, and those
 *   carrying an `epoch` are skipped when the writer record's epoch moved on.
 * - Timeouts are relative (ms): the loop turns them into deadlines on its own clock.
 */

import type { HistoryEntry } from './history.js';
import type { IntentStatus } from './intent.js';
import type { ReasonCode } from './reasons.js';

interface ActionBase {
  reason: ReasonCode;
  message: string;
}

/** read_only=ON, then kill client connections; the loop reports the executed set it returns. */
export interface FenceAction extends ActionBase {
  type: 'fence';
  node: string;
  /**
   * The node is presumed dead (a quorum cannot reach it): the attempt gets a probe's deadline,
   * not a command's, since waiting longer than the probes did proves nothing more and only
   * delays the failover. Safety never rests on this fence (invariant 4: its guardian).
   */
  bestEffort?: true;
}

/** Wait until `node` has executed `gtids` (MASTER_GTID_WAIT / WAIT_FOR_EXECUTED_GTID_SET). */
export interface WaitForGtidsAction extends ActionBase {
  type: 'wait-for-gtids';
  node: string;
  gtids: string;
  timeoutMs: number;
  /**
   * When the wait times out, stop the node's replication and report its executed set: a lossy
   * failover then commits with exactly what it lacks, and nothing more arrives from the old
   * writer's history after the new writer opened.
   */
  stopOnTimeout?: true;
}

/**
 * Ask the beforePromote hook whether `node` may become the writer at `epoch`. The hook runs
 * outside the decision loop: until it has finished, executing this reports no outcome and the
 * step waits; its result is the step's outcome (ok: approved; not ok: vetoed, with why).
 */
export interface ApprovePromotionAction extends ActionBase {
  type: 'approve-promotion';
  operationId: string;
  node: string;
  from?: string;
  epoch: number;
  /** Why the writer moves (writer-dead-quorum, switchover-requested, …). */
  why: ReasonCode;
  lostGtids?: string;
}

/** Commit the writer record {node, epoch, since, reason} with a guarded txn. */
export interface PromoteAction extends ActionBase {
  type: 'promote';
  node: string;
  epoch: number;
  /** The txn compares the stored writer epoch with this, so two promotions cannot both win. */
  previousEpoch: number;
  /** availability/forced failover: GTIDs that may be lost (empty set formatted as ''). */
  lostGtids?: string;
}

/** read_only=OFF on the node the writer record names at `epoch`. */
export interface OpenWritesAction extends ActionBase {
  type: 'open-writes';
  node: string;
  epoch: number;
}

/** Point `replica` at `source` with GTID auto-positioning and start replication. */
export interface RepointAction extends ActionBase {
  type: 'repoint';
  replica: string;
  source: string;
  /**
   * Replicate only transactions under these GTID keys (MariaDB DO_DOMAIN_IDS): a catch-up from a
   * donor takes the masters' history, never the donor's own (errant) writes (sim seed 1096).
   * Absent: everything, and any earlier filter is cleared.
   */
  onlyKeys?: string[];
  /** A returning ex-writer rejoins: fetch back its own transactions a crash truncated. */
  refetchOwnTail?: boolean;
}

/** Stop the replication channel on `on` that reads from `from` (errant or dead co-master). */
export interface StopReplicationAction extends ActionBase {
  type: 'stop-replication';
  on: string;
  from: string;
}

/** Force a returning ex-writer read-only before anything replicates from it. */
export interface QuarantineAction extends ActionBase {
  type: 'quarantine';
  node: string;
}

/** Append to /baton/<cluster>/history/<epoch>-<seq>. */
export interface RecordHistoryAction extends ActionBase {
  type: 'record-history';
  entry: HistoryEntry;
}

/** Mark an intent done/failed (or in-progress) so it is processed at most once. */
export interface ResolveIntentAction extends ActionBase {
  type: 'resolve-intent';
  intentId: string;
  status: IntentStatus;
}

export type Action =
  | FenceAction
  | WaitForGtidsAction
  | ApprovePromotionAction
  | PromoteAction
  | OpenWritesAction
  | RepointAction
  | StopReplicationAction
  | QuarantineAction
  | RecordHistoryAction
  | ResolveIntentAction;

export type ActionType = Action['type'];
