/**
 * Operator requests written by the CLI under /baton/<cluster>/intents/<id>. The leader acts on
 * pending ones and marks each done or failed (action `resolve-intent`), so an intent is
 * processed at most once even across leader changes.
 */

import type { ReasonCode } from './reasons.js';

export type IntentStatus = 'pending' | 'in-progress' | 'done' | 'failed';

/** What the leader answered, stored with the intent when it marks it done or failed. */
export interface IntentOutcome {
  reason: ReasonCode;
  message: string;
  /** Wall-clock ms of the answer: a resolved intent is kept for a while after it. */
  at: number;
}

interface IntentBase {
  id: string;
  /** Who asked (user@host), for history. */
  by: string;
  /** Wall-clock ms, informational. */
  at: number;
  status: IntentStatus;
  /** The operator's own words (`--reason`), for history. */
  reason?: string;
  outcome?: IntentOutcome;
}

/** Freeze the writer; with `node`, switch to that node first. */
export interface PinIntent extends IntentBase {
  kind: 'pin';
  node?: string;
}

export interface UnpinIntent extends IntentBase {
  kind: 'unpin';
}

/** Planned, lossless move of the writer; `target` defaults to the best other candidate. */
export interface SwitchoverIntent extends IntentBase {
  kind: 'switchover';
  target?: string;
}

/** Promote even though the old writer cannot be fenced or caught up with: may lose writes. */
export interface ForcedFailoverIntent extends IntentBase {
  kind: 'failover';
  target?: string;
  acceptDataLoss: boolean;
}

/** Rejoin a quarantined node, even with errant transactions the operator has dealt with. */
export interface RejoinIntent extends IntentBase {
  kind: 'rejoin';
  node: string;
}

/**
 * A value under intents/ that is not a request baton can act on (written by hand, or by another
 * version): the wrong types, a field it does not know, not JSON. Rather than skip it every cycle,
 * the leader marks it failed with `problem`, which names each bad field by its path.
 */
export interface InvalidIntent extends IntentBase {
  kind: 'invalid';
  problem: string;
}

/** What an operator can ask for. */
export type OperatorIntent = PinIntent | UnpinIntent | SwitchoverIntent | ForcedFailoverIntent | RejoinIntent;

export type Intent = OperatorIntent | InvalidIntent;
