/**
 * Accumulator for one decide() call: actions, events and the new persisted state. Internal to
 * the core; mutation stays local to a single call, so decide() as a whole is still pure.
 */

import type { Action } from './actions.js';
import type { CoreConfig } from './config.js';
import type { CoreEvent, Decision, EventLevel } from './decision.js';
import type { HistoryEntry } from './history.js';
import type { ObserverReport } from './observation.js';
import type { ReasonCode } from './reasons.js';
import type { ClusterSnapshot, PersistedState } from './snapshot.js';

export class DecisionDraft {
  readonly actions: Action[] = [];
  readonly events: CoreEvent[] = [];
  state: PersistedState;
  /**
   * The writer record this decision commits (its promote action), if any: what the steps after
   * the commit act on within the same decision (see operation-steps.ts, 'commit').
   */
  committing: { node: string; epoch: number } | undefined;

  constructor(
    readonly snapshot: ClusterSnapshot,
    readonly now: number,
    readonly config: CoreConfig,
    readonly live: ObserverReport[],
  ) {
    this.state = {
      antiFlap: snapshot.antiFlap,
      quarantine: snapshot.quarantine,
      ...(snapshot.pin ? { pin: snapshot.pin } : {}),
      ...(snapshot.operation ? { operation: snapshot.operation } : {}),
      ...(snapshot.replicas ? { replicas: snapshot.replicas } : {}),
    };
  }

  /** Writer epoch as committed in the snapshot (0 before bootstrap). */
  get epoch(): number {
    return this.snapshot.writer?.epoch ?? 0;
  }

  act(action: Action): void {
    this.actions.push(action);
  }

  note(level: EventLevel, reason: ReasonCode, message: string, node?: string): void {
    this.events.push(node === undefined ? { level, reason, message } : { level, reason, message, node });
  }

  history(entry: Omit<HistoryEntry, 'at' | 'epoch'> & { epoch?: number }): void {
    const full: HistoryEntry = { ...entry, epoch: entry.epoch ?? this.epoch, at: this.now };
    this.act({ type: 'record-history', reason: entry.reason, message: entry.message, entry: full });
  }

  setOperation(operation: PersistedState['operation']): void {
    const { operation: _old, ...rest } = this.state;
    this.state = operation ? { ...rest, operation } : rest;
  }

  /** Replace the replica health record; an empty one is dropped from the state. */
  setReplicas(replicas: NonNullable<PersistedState['replicas']>): void {
    const { replicas: _old, ...rest } = this.state;
    const { broken, diverging } = replicas;
    const semiSyncOff =
      replicas.semiSyncOff && Object.keys(replicas.semiSyncOff).length > 0 ? replicas.semiSyncOff : undefined;
    const empty = Object.keys(broken).length === 0 && Object.keys(diverging).length === 0 && !semiSyncOff;
    this.state = empty
      ? rest
      : { ...rest, replicas: { broken, diverging, ...(semiSyncOff ? { semiSyncOff } : {}) } };
  }

  setPin(pin: PersistedState['pin']): void {
    const { pin: _old, ...rest } = this.state;
    this.state = pin ? { ...rest, pin } : rest;
  }

  finish(): Decision {
    return { actions: this.actions, events: this.events, state: this.state };
  }
}
