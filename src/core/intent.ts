/**
 * Operator requests written by the CLI under /baton/<cluster>/intents/<id>. The leader acts on
 * pending ones and marks each done or failed (action `resolve-intent`), so an intent is
 * processed at most once even across leader changes.
 */

export type IntentStatus = 'pending' | 'in-progress' | 'done' | 'failed';

interface IntentBase {
  id: string;
  /** Who asked (user@host), for history. */
  by: string;
  /** Wall-clock ms, informational. */
  at: number;
  status: IntentStatus;
  reason?: string;
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

export type Intent = PinIntent | UnpinIntent | SwitchoverIntent | ForcedFailoverIntent | RejoinIntent;
