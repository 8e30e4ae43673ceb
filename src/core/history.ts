/**
 * Audit trail entry (invariant 9): every writer change, skipped failover, pin/unpin and fence.
 * The loop stores it under /baton/<cluster>/history/<epoch>-<seq> and adds wall-clock time.
 */

import type { OperationKind } from './operation.js';
import type { ReasonCode } from './reasons.js';

export interface HistoryEntry {
  epoch: number;
  reason: ReasonCode;
  message: string;
  /** What happened: promote, fence, pin, unpin, skip, quarantine, rejoin, rollback, … */
  event: string;
  node?: string;
  from?: string;
  /** Who/what: 'auto' or the intent's `by`. */
  by: string;
  /** decide()'s `now` when recorded. */
  at: number;
  lostGtids?: string;
  errantGtids?: string;
  operationId?: string;
  /** Entries of a journalled operation say which kind (metrics count failovers and switchovers). */
  operationKind?: OperationKind;
}
