/**
 * A multi-step writer change (switchover or failover), journalled in the store at
 * /baton/<cluster>/operation before each step runs. A leader that dies mid-way leaves the
 * journal behind; the next leader reads it and calls the same step machine, which either
 * finishes the operation (after the commit) or rolls it back (before the commit). Every step's
 * action is idempotent, so re-running the current step after a crash is safe.
 */

import type { ReasonCode } from './reasons.js';

export type OperationKind = 'switchover' | 'failover';

/**
 * Steps in order. Before `commit` the operation can roll back (the old writer keeps its role);
 * from `open-target` on it only moves forward, because the new epoch is already the truth.
 *
 * - fence-old:      make the old writer read-only and kill client connections (switchover)
 * - wait-catchup:   target executes the old writer's final GTIDs (switchover/consistency) or
 *                   what it already received (availability), replicating first from a donor when
 *                   a surviving server holds what it lacks
 * - approve:        the beforePromote hook, when configured, says yes (a failure vetoes)
 * - commit:         guarded txn writes the writer record with the new epoch
 * - open-target:    read_only=OFF on the target
 * - repoint:        replicas and the co-master follow the new writer
 * - done / rolling-back / rolled-back / aborted: terminal or unwinding
 */
export type OperationStep =
  | 'fence-old'
  | 'wait-catchup'
  | 'approve'
  | 'commit'
  | 'open-target'
  | 'repoint'
  | 'done'
  | 'rolling-back'
  | 'rolled-back'
  | 'aborted';

/**
 * The steps before the commit: the old writer must stay closed through all of them (its guardian
 * holds it, core/guardian.ts), since the operation can still roll back or go on to commit.
 */
export const PRE_COMMIT_STEPS: readonly OperationStep[] = ['fence-old', 'wait-catchup', 'approve', 'commit'];

export interface OperationJournal {
  id: string;
  kind: OperationKind;
  /** Why the operation started (e.g. writer-dead-quorum, switchover-requested). */
  reason: ReasonCode;
  intentId?: string;
  /** Old writer; undefined when there was none (bootstrap). */
  from?: string;
  to: string;
  /** Writer epoch before the operation; the commit writes previousEpoch + 1. */
  previousEpoch: number;
  epoch: number;
  step: OperationStep;
  startedAt: number;
  /** When the current step started; bounds waits. */
  stepStartedAt: number;
  /** Old writer's executed set captured when it was fenced (what the target must execute). */
  fencedGtids?: string;
  /**
   * A failover's target first replicates from this surviving server, which holds transactions of
   * the old writer it lacks (survivors.ts), until it executed `requiredGtids`.
   */
  donor?: string;
  /** GTIDs the target must execute before the commit. */
  requiredGtids?: string;
  /** How long the target took to execute `requiredGtids` (0: it already had them), for history. */
  catchUpMs?: number;
  /** availability/forced: GTIDs the old writer had that the target may never get. */
  lostGtids?: string;
  /** The operator accepted data loss (forced failover). */
  acceptDataLoss: boolean;
  /** A consistency failover resting on semi-sync evidence rather than on the old writer's final set. */
  onSemiSync?: boolean;
  /**
   * Failover: the old writer is fenced first, but a failed or timed-out fence does not stop the
   * operation (the writer is presumed dead; a fence queued at a hung server still lands when it
   * resumes). Switchover: the fence must succeed.
   */
  fenceBestEffort?: boolean;
  /** Whether automatic (counts against the failover budget). */
  automatic: boolean;
  /** 'auto' or the intent's `by`. */
  requestedBy: string;
  /** Pin the new writer when done (pin intent naming another node). */
  pinOnCompletion?: boolean;
  /** The beforePromote hook approved this operation (the commit then goes ahead). */
  approved?: boolean;
  /** Result of the current step's actions, once the loop recorded it (recordStepOutcome). */
  lastOutcome?: StepOutcome;
  error?: string;
}

/**
 * Result of executing the current step's actions, fed back with `recordStepOutcome`. `ok` means
 * every action of the step succeeded; a fence reports the executed set it returned.
 */
export interface StepOutcome {
  operationId: string;
  step: OperationStep;
  ok: boolean;
  /**
   * fence-old: executed GTID set of the old writer after fencing. wait-catchup that stopped short
   * (a lossy failover): the target's executed set once its replication was stopped.
   */
  executedGtids?: string;
  error?: string;
}
