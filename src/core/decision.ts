/**
 * The result of one decide() call: actions for the leader's loop, events explaining every
 * decision (including decisions not to act), and the new persisted state.
 */

import type { Action } from './actions.js';
import type { ReasonCode } from './reasons.js';
import type { PersistedState } from './snapshot.js';

export type EventLevel = 'info' | 'warn' | 'alert';

export interface CoreEvent {
  level: EventLevel;
  reason: ReasonCode;
  message: string;
  node?: string;
}

export interface Decision {
  actions: Action[];
  events: CoreEvent[];
  /**
   * New persisted state. The loop writes each field that differs from the snapshot (pin,
   * antiFlap → cooldown, operation, quarantine) in a leader-guarded txn before executing actions;
   * when the actions include a `promote`, in that promote's txn instead: the state may already
   * be the one after the commit (the commit carries its consequences), and must be written only
   * if the commit is.
   */
  state: PersistedState;
}
