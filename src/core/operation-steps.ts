/**
 * The step machine over an OperationJournal. decide() calls `advanceOperation` whenever a
 * journal is in flight, whoever the leader is: it consumes the recorded outcome of the current
 * step (or infers it from the snapshot, for a new leader that never saw the outcome), moves to
 * the next step, and emits that step's idempotent actions. Before `commit` a failure rolls back
 * (switchover: reopen the old writer) or aborts (failover: nothing was changed); from the
 * commit on, the operation only moves forward.
 */

import { inCooldown, recordVeto, recordWriterChange } from './antiflap.js';
import { assessWriter, bestObservation, writerGuardianAgrees } from './health.js';
import { masterHistoryKeys, mastersHistory, planCatchUp } from './survivors.js';
import { writerFencedWithoutGuardian } from './upkeep.js';
import type { DecisionDraft } from './draft.js';
import { candidateView, eventualGtids } from './candidates.js';
import {
  containsGtidSet,
  emptyGtidSet,
  formatGtidSet,
  isEmptyGtidSet,
  parseGtidSet,
  subtractGtidSets,
  unionGtidSets,
  type GtidSet,
} from './gtid.js';
import type { OperationJournal, OperationKind, OperationStep, StepOutcome } from './operation.js';
import type { ReasonCode } from './reasons.js';
import { guardianOfNode } from './snapshot.js';

/** Feed the loop's result of executing the current step back into the journal (pure). */
export function recordStepOutcome(journal: OperationJournal, outcome: StepOutcome): OperationJournal {
  if (outcome.operationId !== journal.id || outcome.step !== journal.step) return journal;
  return { ...journal, lastOutcome: outcome };
}

export interface OperationStart {
  kind: OperationKind;
  reason: ReasonCode;
  to: string;
  automatic: boolean;
  requestedBy: string;
  intentId?: string;
  requiredGtids?: string;
  lostGtids?: string;
  donor?: string;
  onSemiSync?: boolean;
  acceptDataLoss?: boolean;
  pinOnCompletion?: boolean;
  /** Fence the old writer first (always, when there is one; see fenceBestEffort). */
  fenceOld: boolean;
  /** A failed fence does not stop the operation (failover of a writer presumed dead). */
  fenceBestEffort?: boolean;
}

export function startOperation(d: DecisionDraft, start: OperationStart): void {
  const from = d.snapshot.writer?.node;
  const journal: OperationJournal = {
    id: `${start.kind}-${d.epoch + 1}-${d.now}`,
    kind: start.kind,
    reason: start.reason,
    to: start.to,
    previousEpoch: d.epoch,
    epoch: d.epoch + 1,
    step: start.fenceOld && from !== undefined ? 'fence-old' : 'wait-catchup',
    startedAt: d.now,
    stepStartedAt: d.now,
    acceptDataLoss: start.acceptDataLoss ?? false,
    automatic: start.automatic,
    requestedBy: start.requestedBy,
  };
  if (from !== undefined) journal.from = from;
  if (start.intentId !== undefined) journal.intentId = start.intentId;
  if (start.requiredGtids !== undefined) journal.requiredGtids = start.requiredGtids;
  if (start.lostGtids !== undefined) journal.lostGtids = start.lostGtids;
  if (start.donor !== undefined) journal.donor = start.donor;
  if (start.onSemiSync) journal.onSemiSync = true;
  if (start.pinOnCompletion) journal.pinOnCompletion = true;
  if (start.fenceBestEffort) journal.fenceBestEffort = true;
  d.note(
    'info',
    start.reason,
    `starting ${start.kind} ${journal.id}: ${from ?? '(none)'} → ${start.to}`,
    start.to,
  );
  if (start.intentId !== undefined) {
    d.act({
      type: 'resolve-intent',
      intentId: start.intentId,
      status: 'in-progress',
      reason: start.reason,
      message: `${start.kind} ${journal.id} started`,
    });
  }
  advanceOperation(d, journal);
}

const MAX_TRANSITIONS_PER_CALL = 10;

export function advanceOperation(d: DecisionDraft, initial: OperationJournal): void {
  let j = initial;
  for (let i = 0; i < MAX_TRANSITIONS_PER_CALL; i++) {
    const next = runStep(d, j);
    if (next === 'wait') {
      d.setOperation(j);
      return;
    }
    if (next === 'cleared') {
      d.setOperation(undefined);
      return;
    }
    j = next;
  }
  d.setOperation(j);
}

/** Returns the journal after a transition, 'wait' after emitting the step's actions, or 'cleared'. */
function runStep(d: DecisionDraft, j: OperationJournal): OperationJournal | 'wait' | 'cleared' {
  const outcome = j.lastOutcome?.step === j.step ? j.lastOutcome : undefined;
  const elapsed = d.now - j.stepStartedAt;
  const timedOut = elapsed > d.config.catchupTimeoutMs;

  if (j.step === 'open-target' || j.step === 'repoint') {
    // Past the commit: only act while the writer record still says what we committed (or is the
    // one this very decision commits).
    const writer = d.committing ?? d.snapshot.writer;
    if (writer?.node !== j.to || writer.epoch !== j.epoch) {
      const now = `${writer?.node ?? '(none)'}@${writer?.epoch ?? 0}`;
      d.note(
        'warn',
        'operation-aborted',
        `${j.kind} ${j.id} at ${j.step}: writer record is ${now}, not ${j.to}@${j.epoch}`,
        j.to,
      );
      return to(d, { ...j, error: `writer record is ${now} during ${j.step}` }, 'aborted');
    }
  }

  switch (j.step) {
    case 'fence-old': {
      if (j.from === undefined) return to(d, j, 'wait-catchup');
      if (outcome?.ok) return to(d, afterFence(d, j, outcome.executedGtids ?? ''), 'wait-catchup');
      // A second fence from here would only be refused (dead) or time out (hung) across the WAN,
      // a fifth of a failover's time at 40 ms (issue 11); its guardian keeps it closed. Without
      // the guardian's confirmed final set, only the availability policy goes on without ours.
      const closed = outcome === undefined ? guardianClosedIt(d, j) : undefined;
      const finalSet = closed?.fencedGtids;
      if (closed && (finalSet !== undefined || d.config.policy === 'availability')) {
        d.note('info', 'operation-step', `${j.kind} ${j.id}: ${closed.message}; not fenced again`, j.from);
        return to(d, finalSet === undefined ? j : afterFence(d, j, finalSet), 'wait-catchup');
      }
      if (j.fenceBestEffort && outcome === undefined && closed === undefined) {
        // Its live guardian fences it now that it sees this journal (guardian.ts), and only then:
        // a stall that ends before this point costs no fence. Our own fence would also reach a
        // writer that is merely cut off from us, alive and guarded, so we do not send one.
        const waiting = guardianYetToClose(d, j);
        if (waiting !== undefined) {
          // A writer judged alive again before anything was done: the commit's premise check.
          const stale = staleFailoverPremise(d, j);
          if (stale) return fail(d, j, stale.reason, stale.message);
          if (timedOut) return fail(d, j, 'skipped-guardian-alive', waiting);
          d.note('info', 'skipped-guardian-alive', `${j.kind} ${j.id} waits: ${waiting}`, j.from);
          return 'wait';
        }
      }
      if (!j.fenceBestEffort && outcome === undefined) {
        // The commit needs the old writer's guardian to promise it will not reopen it (invariant
        // 4, oldGuardianHolds). Asked for before the fence, that round trip to the guardian
        // falls before the write gap instead of inside it (issue 11: the switchover's gap).
        const guardian = oldGuardianHolds(d, j, true);
        if (!guardian.agrees) {
          if (timedOut) return fail(d, j, 'skipped-guardian-alive', guardian.message);
          d.note(
            'info',
            'skipped-guardian-alive',
            `${j.kind} ${j.id} waits before fencing: ${guardian.message}`,
            j.from,
          );
          return 'wait';
        }
      }
      if (outcome || timedOut) {
        const why = `fencing ${j.from} failed: ${outcome?.error ?? 'timed out'}`;
        if (!j.fenceBestEffort) return fail(d, j, 'fence-failed', why);
        if (
          !j.acceptDataLoss &&
          !j.onSemiSync &&
          d.config.policy === 'consistency' &&
          !guardianFenceRecord(d, j)
        ) {
          // The planned final set came from an observation, which a later reopen may have outdated.
          return fail(
            d,
            j,
            'skipped-policy-consistency',
            `${why}; the old writer's final GTIDs are not certain`,
          );
        }
        d.note(
          'warn',
          'fence-failed',
          `${j.kind} ${j.id}: ${why}; continuing, the writer is presumed dead`,
          j.from,
        );
        return to(d, j, 'wait-catchup');
      }
      d.act({
        type: 'fence',
        node: j.from,
        reason: 'operation-step',
        message: `${j.kind} ${j.id}: fence old writer ${j.from}`,
        ...(j.fenceBestEffort ? { bestEffort: true as const } : {}),
      });
      return 'wait';
    }

    case 'wait-catchup': {
      const required = j.requiredGtids;
      if (required === undefined || isEmptyGtidSet(parseGtidSet(required, d.snapshot.spec.flavor))) {
        return to(d, j, 'commit');
      }
      if (outcome?.ok || targetHas(d, j.to, required)) return to(d, caughtUp(d, j), 'commit');
      const lossy = lossyFailover(d, j);
      if (outcome || timedOut) {
        const why = `${j.to} did not execute ${required} within ${d.config.catchupTimeoutMs} ms`;
        if (lossy) {
          // Availability (or an operator who accepted the loss): commit with exactly what the
          // target still lacks. Its replication was stopped when the wait gave up.
          const lostGtids = lostAfterCatchUp(d, j, outcome?.executedGtids);
          d.note(
            'warn',
            'catchup-timeout',
            `${why}; committing anyway, lost: ${lostGtids || 'nothing'}`,
            j.to,
          );
          return to(d, { ...caughtUp(d, j), lostGtids }, 'commit');
        }
        return fail(d, j, 'catchup-timeout', why);
      }
      if (j.donor !== undefined) {
        const keys = masterHistoryKeys(d.snapshot);
        d.act({
          type: 'repoint',
          replica: j.to,
          source: j.donor,
          reason: 'operation-step',
          message: `${j.kind} ${j.id}: ${j.to} catches up from ${j.donor}, which holds transactions it lacks`,
          ...(keys ? { onlyKeys: [...keys].sort() } : {}),
        });
      }
      d.act({
        type: 'wait-for-gtids',
        node: j.to,
        gtids: required,
        timeoutMs: Math.max(0, d.config.catchupTimeoutMs - elapsed),
        reason: 'operation-step',
        message: `${j.kind} ${j.id}: wait until ${j.to} executed ${required}`,
        ...(lossy ? { stopOnTimeout: true as const } : {}),
      });
      return 'wait';
    }

    case 'commit': {
      const writer = d.snapshot.writer;
      const committedEpoch = writer?.epoch ?? 0;
      if (committedEpoch >= j.epoch) {
        if (writer?.node === j.to && committedEpoch === j.epoch) return committed(d, j);
        return fail(
          d,
          j,
          'operation-aborted',
          `writer epoch moved to ${committedEpoch} (${writer?.node}) under ${j.id}`,
        );
      }
      if (committedEpoch !== j.previousEpoch) {
        return fail(
          d,
          j,
          'operation-aborted',
          `writer epoch ${committedEpoch} is not ${j.previousEpoch} as journalled`,
        );
      }
      if (j.automatic && inCooldown(d.state.antiFlap, d.now)) {
        return fail(d, j, 'skipped-cooldown', `cooldown began during automatic ${j.kind} ${j.id}`);
      }
      if (j.automatic && d.state.pin) {
        return fail(d, j, 'skipped-pinned', `cluster was pinned during automatic ${j.kind} ${j.id}`);
      }
      const stale = staleFailoverPremise(d, j);
      if (stale) return fail(d, j, stale.reason, stale.message);
      const guardian = oldGuardianHolds(d, j);
      if (!guardian.agrees) {
        if (timedOut) return fail(d, j, 'skipped-guardian-alive', guardian.message);
        d.note('info', 'skipped-guardian-alive', `${j.kind} ${j.id} waits: ${guardian.message}`, j.from);
        return 'wait';
      }
      if (!targetGuarded(d, j)) {
        // Its guardian may have lost its session since the operation started: a writer nobody
        // can self-fence is worse than no move at all.
        return fail(d, j, 'skipped-target-unguarded', `${j.to}'s colo has no live guardian any more`);
      }
      const more = surfacedSinceThePlan(d, j);
      if (more !== undefined) return more;
      if (outcome && !outcome.ok && timedOut) {
        return fail(
          d,
          j,
          'operation-aborted',
          `commit of ${j.id} kept failing: ${outcome.error ?? 'txn failed'}`,
        );
      }
      // Asked last, after every check of our own: a veto is about this very move.
      if (d.config.beforePromoteTimeoutMs !== undefined && !j.approved) return to(d, j, 'approve');
      d.act({
        type: 'promote',
        node: j.to,
        epoch: j.epoch,
        previousEpoch: j.previousEpoch,
        reason: j.reason,
        message: `${j.kind} ${j.id}: commit writer ${j.to} at epoch ${j.epoch}`,
        ...(lostRange(j) !== undefined ? { lostGtids: lostRange(j) } : {}),
      });
      // The commit carries its consequences: the loop writes this decision's state (the journal
      // past the commit, cooldown, quarantine) in the promote's own txn, so the target opens in
      // this round rather than after more etcd round trips, each several one-way delays across a
      // WAN (issue 11). If the txn fails, none of it was written and the next round retries.
      d.committing = { node: j.to, epoch: j.epoch };
      return committed(d, j);
    }

    case 'approve': {
      if (outcome?.ok) return to(d, { ...j, approved: true }, 'commit');
      const veto = outcome
        ? `beforePromote hook vetoed it: ${outcome.error ?? 'failed'}`
        : elapsed > (d.config.beforePromoteTimeoutMs ?? 0)
          ? `beforePromote hook gave no answer within ${elapsed} ms`
          : undefined;
      if (veto !== undefined) {
        if (j.automatic) d.state = { ...d.state, antiFlap: recordVeto(d.state.antiFlap, d.now, d.config) };
        return fail(d, j, 'promotion-vetoed', veto);
      }
      d.act({
        type: 'approve-promotion',
        operationId: j.id,
        node: j.to,
        ...(j.from !== undefined ? { from: j.from } : {}),
        epoch: j.epoch,
        why: j.reason,
        ...(lostRange(j) !== undefined ? { lostGtids: lostRange(j) } : {}),
        reason: 'operation-step',
        message: `${j.kind} ${j.id}: ask the beforePromote hook about ${j.to} at epoch ${j.epoch}`,
      });
      return 'wait';
    }

    case 'open-target': {
      const obs = bestObservation(d.live, j.to);
      if (outcome?.ok || obs?.readOnly === false) return to(d, j, 'repoint');
      if (!targetGuarded(d, j)) {
        // Only a guardian with a live session may keep a writer open; leave the opening to it.
        d.note(
          'warn',
          'skipped-target-unguarded',
          `${j.to}'s guardian is gone: not opening it from here`,
          j.to,
        );
        return to(d, j, 'repoint');
      }
      if (timedOut) {
        d.note('warn', 'operation-step', `${j.to} not confirmed writable; its guardian opens it`, j.to);
        return to(d, j, 'repoint');
      }
      d.act({
        type: 'open-writes',
        node: j.to,
        epoch: j.epoch,
        reason: 'operation-step',
        message: `${j.kind} ${j.id}: read_only=OFF on ${j.to}`,
      });
      return 'wait';
    }

    case 'repoint': {
      if (outcome || timedOut) return to(d, j, 'done');
      const before = d.actions.length;
      emitRepoints(d, j);
      return d.actions.length === before ? to(d, j, 'done') : 'wait';
    }

    case 'rolling-back': {
      const writer = d.snapshot.writer;
      // Only a switchover reopens what it fenced; a failover's old writer stays closed (its guardian
      // or a writer-reopen decides).
      const fenced = j.kind === 'switchover' && j.from !== undefined && j.fencedGtids !== undefined;
      if (!fenced || outcome || timedOut || writer?.epoch !== j.previousEpoch || writer.node !== j.from) {
        return to(d, j, 'rolled-back');
      }
      // Its guardian fenced it at this epoch too: reopening at the same epoch would void that
      // fence record without the guardian necessarily seeing it (it may miss the writable
      // window), and a later failover would take the record's GTIDs for final (sim seed
      // 211603: acknowledged writes lost). Leave it closed; the writer-reopen path reopens it
      // at a new epoch.
      if (guardianFenceRecord(d, j)) {
        d.note(
          'warn',
          'operation-rolled-back',
          `${j.kind} ${j.id}: ${j.from} stays closed, its guardian fenced it at epoch ${j.previousEpoch}`,
          j.from,
        );
        return to(d, j, 'rolled-back');
      }
      d.act({
        type: 'open-writes',
        node: j.from as string,
        epoch: j.previousEpoch,
        reason: 'operation-rolled-back',
        message: `${j.kind} ${j.id}: reopen ${j.from} (rollback)`,
      });
      return 'wait';
    }

    case 'done':
      return finish(d, j, 'operation-completed', 'done');
    case 'rolled-back':
      return finish(d, j, 'operation-rolled-back', 'failed');
    case 'aborted':
      sendTargetBack(d, j);
      return finish(d, j, 'operation-aborted', 'failed');
  }
}

/**
 * A failover is decided in one cycle and committed in a later one; by then the premise may be
 * gone (the simulation showed a guardian coming back and reopening the old writer in between).
 * Re-check it against the snapshot the commit is guarded on:
 * - invariant 4, unless we fenced the old writer ourselves: its guardian must still be gone or
 *   still hold it fenced at the old epoch;
 * - an automatic failover's trigger must still hold.
 */
function staleFailoverPremise(
  d: DecisionDraft,
  j: OperationJournal,
): { reason: ReasonCode; message: string } | undefined {
  if (j.kind !== 'failover' || j.from === undefined || !j.automatic) return undefined;
  if (j.reason === 'writer-dead-quorum') {
    const again = assessWriter(d.snapshot, d.now, d.config);
    // Once we fenced it ourselves, its guardian's word is checked separately (oldGuardianHolds).
    const fencedByUs = j.fencedGtids !== undefined && again.reason === 'skipped-guardian-alive';
    // A guardian that has not closed it yet is oldGuardianHolds' business, checked next.
    if (!again.dead && again.guardianPending !== true && !fencedByUs) {
      return { reason: 'operation-aborted', message: `writer no longer judged dead: ${again.message}` };
    }
  }
  if (j.reason === 'writer-fenced-no-guardian' && writerFencedWithoutGuardian(d) === undefined) {
    return {
      reason: 'operation-aborted',
      message: `writer ${j.from} is no longer a fenced writer without a guardian`,
    };
  }
  return undefined;
}

/**
 * Invariant 4 at the commit, for every operation that moves the writer away from a node: that
 * node's guardian is gone, or holds it closed at the old epoch. Our own fence is not enough: a
 * guardian that decided to open the node before it saw the journal may land its open after our
 * fence. The guardian acknowledges the operation by publishing a hold, so we wait for it.
 */
function oldGuardianHolds(
  d: DecisionDraft,
  j: OperationJournal,
  /** Before our fence: a promise not to reopen is what we wait for (the fence follows). */
  beforeOurFence = false,
): { agrees: boolean; message: string } {
  if (j.from === undefined) return { agrees: true, message: 'no previous writer' };
  const fencedByUs = beforeOurFence || j.fencedGtids !== undefined;
  return writerGuardianAgrees(d.snapshot, d.live, j.from, j.previousEpoch, fencedByUs);
}

function catchUpNote(j: OperationJournal): string {
  const took = j.catchUpMs !== undefined ? ` in ${j.catchUpMs} ms` : '';
  if (j.donor !== undefined) return ` (caught up from ${j.donor}${took})`;
  return j.catchUpMs ? ` (caught up from its relay log${took})` : '';
}

/** The catch-up's own time, reported apart from the outage it is part of (issue 10). */
function caughtUp(d: DecisionDraft, j: OperationJournal): OperationJournal {
  return { ...j, catchUpMs: d.now - j.stepStartedAt };
}

function to(d: DecisionDraft, j: OperationJournal, step: OperationStep): OperationJournal {
  const { lastOutcome: _done, ...rest } = j;
  return { ...rest, step, stepStartedAt: d.now };
}

/**
 * The old writer answered the fence, so its executed set is final. A switchover waits for all
 * of it; so does a consistency failover. A lossy failover keeps its plan but now knows exactly
 * what the target may lose.
 */
function afterFence(d: DecisionDraft, j: OperationJournal, fencedGtids: string): OperationJournal {
  const next: OperationJournal = { ...j, fencedGtids };
  if (j.kind === 'switchover' || (!j.acceptDataLoss && d.config.policy === 'consistency')) {
    next.requiredGtids = fencedGtids;
    return next;
  }
  next.lostGtids = formatGtidSet(
    subtractGtidSets(parseGtidSet(fencedGtids, d.snapshot.spec.flavor), targetWillHave(d, j)),
  );
  return next;
}

/**
 * A failover aborted before its commit may have left its target replicating from a donor, or
 * stopped there when the catch-up wait gave up (sim seed 32758: a standby on a replica, stopped,
 * for good). It goes back to the writer; if the writer lacks what it now holds, the repoint fails
 * or breaks on 1236 and that is reported (replica-health.ts), never silent.
 */
function sendTargetBack(d: DecisionDraft, j: OperationJournal): void {
  const writer = d.snapshot.writer;
  if (j.donor === undefined || !writer || writer.node === j.to) return;
  d.act({
    type: 'repoint',
    replica: j.to,
    source: writer.node,
    reason: 'operation-aborted',
    message: `${j.kind} ${j.id} aborted: ${j.to} stops catching up from ${j.donor} and follows ${writer.node} again`,
  });
}

/** Before the commit: a fenced switchover rolls back (reopens the old writer), anything else aborts. */
function fail(d: DecisionDraft, j: OperationJournal, reason: ReasonCode, message: string): OperationJournal {
  d.note('warn', reason, `${j.kind} ${j.id}: ${message}`, j.to);
  const next = j.kind === 'switchover' && j.fencedGtids !== undefined ? 'rolling-back' : 'aborted';
  return to(d, { ...j, error: `${reason}: ${message}` }, next);
}

function committed(d: DecisionDraft, j: OperationJournal): OperationJournal {
  if (j.reason !== 'bootstrap-writer') {
    d.state = { ...d.state, antiFlap: recordWriterChange(d.state.antiFlap, d.now, d.config, j.automatic) };
  }
  // Even a fenced ex-writer may hold transactions a lossy failover's target never got: it is
  // compared before anything replicates from it again.
  if (j.kind === 'failover' && j.from !== undefined) {
    d.state = {
      ...d.state,
      quarantine: {
        ...d.state.quarantine,
        [j.from]: { node: j.from, since: d.now, epoch: j.epoch, status: 'awaiting-return' },
      },
    };
  }
  d.history({
    event: 'promote',
    epoch: j.epoch,
    reason: j.reason,
    message: `${j.kind}: ${j.from ?? '(none)'} → ${j.to} at epoch ${j.epoch}` + catchUpNote(j),
    node: j.to,
    ...(j.from !== undefined ? { from: j.from } : {}),
    by: j.requestedBy,
    // Every failover says what may be lost, even when nothing is (issue 10).
    ...(lostRange(j) !== undefined ? { lostGtids: lostRange(j) } : {}),
    operationId: j.id,
    operationKind: j.kind,
  });
  return to(d, j, 'open-target');
}

function finish(
  d: DecisionDraft,
  j: OperationJournal,
  reason: ReasonCode,
  status: 'done' | 'failed',
): 'cleared' {
  const message =
    status === 'done'
      ? `${j.kind} ${j.id} completed: writer ${j.to} at epoch ${j.epoch}`
      : `${j.kind} ${j.id} ${j.step}: ${j.error ?? 'failed'}`;
  d.note(status === 'done' ? 'info' : 'alert', reason, message, j.to);
  d.history({
    event: status === 'done' ? 'operation-completed' : j.step,
    epoch: status === 'done' ? j.epoch : j.previousEpoch,
    reason,
    message,
    node: j.to,
    by: j.requestedBy,
    operationId: j.id,
    operationKind: j.kind,
  });
  if (j.intentId !== undefined) {
    d.act({ type: 'resolve-intent', intentId: j.intentId, status, reason, message });
  }
  if (status === 'done' && j.pinOnCompletion) {
    d.setPin({
      node: j.to,
      by: j.requestedBy,
      at: d.now,
      reason: 'pin-requested',
      message: `pinned after ${j.id}`,
    });
  } else if (
    status === 'done' &&
    d.state.pin &&
    d.state.pin.node !== undefined &&
    d.state.pin.node !== j.to
  ) {
    // A forced failover while pinned moves the pin along with the writer.
    d.setPin({ ...d.state.pin, node: j.to });
  }
  return 'cleared';
}

/**
 * A failover's catch-up was planned on the reports of its first cycle; a survivor may hold more
 * by the commit (the old writer restarted read-only and fed its replica, sim seed 1074: two
 * acknowledged writes lost and the lost range empty). Plan again on this snapshot: with time
 * left, catch up to the rest first; out of time, a lossy failover names it in its lost range, a
 * consistency one fails. Undefined: nothing new, commit.
 */
function surfacedSinceThePlan(d: DecisionDraft, j: OperationJournal): OperationJournal | undefined {
  if (j.kind !== 'failover' || j.from === undefined) return undefined;
  const spec = d.snapshot.spec.nodes.find((n) => n.name === j.to);
  if (!spec) return undefined;
  const flavor = d.snapshot.spec.flavor;
  const plan = planCatchUp(d.snapshot, d.live, candidateView(d.snapshot, d.live, spec), j.from);
  const lost = parseGtidSet(j.lostGtids ?? '', flavor);
  const missing = subtractGtidSets(subtractGtidSets(plan.held, targetWillHave(d, j)), lost);
  if (isEmptyGtidSet(missing)) return undefined;
  const what = formatGtidSet(missing);
  if (d.now - j.startedAt < d.config.catchupTimeoutMs) {
    d.note(
      'info',
      'operation-step',
      `${j.kind} ${j.id}: survivors now hold ${what}; ${j.to} catches up to it first`,
      j.to,
    );
    const next: OperationJournal = {
      ...j,
      requiredGtids: formatGtidSet(unionGtidSets(parseGtidSet(j.requiredGtids ?? '', flavor), plan.required)),
    };
    if (plan.donor !== undefined) next.donor = plan.donor;
    return to(d, next, 'wait-catchup');
  }
  if (lossyFailover(d, j)) {
    d.note(
      'warn',
      'catchup-timeout',
      `${j.kind} ${j.id}: survivors now hold ${what}; out of time, recorded as lost`,
      j.to,
    );
    return { ...j, lostGtids: formatGtidSet(unionGtidSets(lost, missing)) };
  }
  return fail(d, j, 'catchup-timeout', `survivors now hold ${what}, which ${j.to} has not executed`);
}

/** What the target has once its catch-up is done: its own eventual set plus what it must execute. */
function targetWillHave(d: DecisionDraft, j: OperationJournal): GtidSet {
  const flavor = d.snapshot.spec.flavor;
  const spec = d.snapshot.spec.nodes.find((n) => n.name === j.to);
  const own = spec ? eventualGtids(candidateView(d.snapshot, d.live, spec), flavor) : emptyGtidSet(flavor);
  return unionGtidSets(own, parseGtidSet(j.requiredGtids ?? '', flavor));
}

/** The range a writer change may lose: '' for none; a failover always has one, bootstrap none. */
function lostRange(j: OperationJournal): string | undefined {
  if (j.kind === 'failover' && j.from !== undefined) return j.lostGtids ?? '';
  return j.lostGtids;
}

/** A failover that commits even when the catch-up falls short: availability, or loss accepted. */
function lossyFailover(d: DecisionDraft, j: OperationJournal): boolean {
  return j.kind === 'failover' && (j.acceptDataLoss || (j.automatic && d.config.policy === 'availability'));
}

/**
 * What may be lost when the catch-up stopped short: what the plan already could not recover,
 * plus what the target was to execute and did not (its set when its replication stopped; without
 * it, its last observed one).
 */
function lostAfterCatchUp(d: DecisionDraft, j: OperationJournal, reached: string | undefined): string {
  const flavor = d.snapshot.spec.flavor;
  const executed = reached ?? bestObservation(d.live, j.to)?.executedGtids ?? '';
  const short = subtractGtidSets(parseGtidSet(j.requiredGtids ?? '', flavor), parseGtidSet(executed, flavor));
  return formatGtidSet(unionGtidSets(parseGtidSet(j.lostGtids ?? '', flavor), short));
}

function targetGuarded(d: DecisionDraft, j: OperationJournal): boolean {
  return guardianOfNode(d.snapshot, j.to).guardian?.sessionAlive === true;
}

/**
 * A presumed-dead old writer (best-effort fence) that its own guardian already closed at the
 * old epoch: fenced with a confirmed final set, or held closed because it is not running or a
 * fence was sent to it while it hung. Only then may the leader's own fence be left out.
 */
function guardianClosedIt(
  d: DecisionDraft,
  j: OperationJournal,
): { message: string; fencedGtids?: string } | undefined {
  if (!j.fenceBestEffort || j.from === undefined) return undefined;
  const { guardian } = guardianOfNode(d.snapshot, j.from);
  if (!guardian?.sessionAlive) return undefined;
  const at = (r: { node: string; epoch: number } | undefined): boolean =>
    r !== undefined && r.node === j.from && r.epoch === j.previousEpoch;
  const fenced = guardian.fencedWriter;
  if (fenced && at(fenced)) {
    return {
      message: `guardian ${guardian.coordinator} fenced ${j.from} at epoch ${j.previousEpoch}`,
      fencedGtids: fenced.executedGtids,
    };
  }
  const hold = guardian.holding;
  const closed = hold?.because === 'fenced' || hold?.because === 'dead';
  if (at(guardian.fenceIssued) || (at(hold) && closed)) {
    return {
      message: `guardian ${guardian.coordinator} holds ${j.from} closed at epoch ${j.previousEpoch}`,
    };
  }
  return undefined;
}

/** Why we wait, while the old writer's guardian lives and has not closed it at its epoch. */
function guardianYetToClose(d: DecisionDraft, j: OperationJournal): string | undefined {
  if (j.from === undefined) return undefined;
  const { guardian } = guardianOfNode(d.snapshot, j.from);
  if (!guardian?.sessionAlive) return undefined;
  return `guardian ${guardian.coordinator} is alive and has not yet closed ${j.from} at epoch ${j.previousEpoch}`;
}

function guardianFenceRecord(d: DecisionDraft, j: OperationJournal): boolean {
  return Object.values(d.snapshot.guardians).some((g) => {
    const fenced = g.fencedWriter;
    return fenced !== undefined && fenced.node === j.from && fenced.epoch === j.previousEpoch;
  });
}

function targetHas(d: DecisionDraft, node: string, required: string): boolean {
  const obs = bestObservation(d.live, node);
  if (!obs?.reachable || obs.executedGtids === undefined) return false;
  const flavor = d.snapshot.spec.flavor;
  return containsGtidSet(parseGtidSet(obs.executedGtids, flavor), parseGtidSet(required, flavor));
}

/**
 * After a failover: stop the new writer reading from the old one (it may come back with errant
 * transactions) and move the old writer's replicas. After a switchover the old writer stays a
 * co-master and only needs to replicate from the new writer.
 */
function emitRepoints(d: DecisionDraft, j: OperationJournal): void {
  const from = j.from;
  if (from === undefined) return;
  const message = `${j.kind} ${j.id}`;
  if (j.kind === 'failover') {
    d.act({
      type: 'stop-replication',
      on: j.to,
      from,
      reason: 'operation-step',
      message: `${message}: isolate ${j.to} from ${from}`,
    });
    // What the new writer has: what we saw of it, plus its catch-up, minus what it fell short of.
    const flavor = d.snapshot.spec.flavor;
    const writerHas = subtractGtidSets(targetWillHave(d, j), parseGtidSet(j.lostGtids ?? '', flavor));
    const keys = masterHistoryKeys(d.snapshot);
    for (const node of d.snapshot.spec.nodes) {
      if (node.name === from || node.name === j.to) continue;
      const obs = bestObservation(d.live, node.name);
      // A replica holding the old writer's transactions the new writer lacks would stop at once
      // (error 1236, GTID not in its new source's binlog): leave it where it is, upkeep reports
      // and quarantines the divergence (upkeep.ts).
      // Its relay log counts too: a repoint discards what it received but has not applied.
      if (obs?.executedGtids !== undefined) {
        const held = unionGtidSets(
          parseGtidSet(obs.executedGtids, flavor),
          parseGtidSet(obs.retrievedGtids ?? '', flavor),
        );
        if (!containsGtidSet(writerHas, mastersHistory(held, keys))) continue;
      }
      if (obs?.reachable && obs.replication?.some((ch) => ch.source === from)) {
        d.act({
          type: 'repoint',
          replica: node.name,
          source: j.to,
          reason: 'operation-step',
          message: `${message}: ${node.name} follows ${j.to}`,
        });
      }
    }
    return;
  }
  const old = bestObservation(d.live, from);
  if (old?.reachable && !old.replication?.some((ch) => ch.source === j.to)) {
    d.act({
      type: 'repoint',
      replica: from,
      source: j.to,
      reason: 'operation-step',
      message: `${message}: ${from} replicates from ${j.to}`,
    });
  }
}
