/**
 * Operator intents (pin, unpin, switchover, forced failover, rejoin), oldest first. Pin and unpin
 * apply at once; at most one intent starts a journalled operation per decide() call, and none
 * while another operation is in flight (they wait, with an event).
 */

import { eligible, rankCandidates } from './candidates.js';
import type { DecisionDraft } from './draft.js';
import { assessWriter, bestObservation } from './health.js';
import type {
  Intent,
  IntentStatus,
  PinIntent,
  RejoinIntent,
  SwitchoverIntent,
  ForcedFailoverIntent,
} from './intent.js';
import { startOperation } from './operation-steps.js';
import { planForcedFailover } from './policy.js';
import type { ReasonCode } from './reasons.js';
import { rejoinActions } from './quarantine.js';

/**
 * Invalid intents marked failed per decision: each is an etcd write in the leader's cycle, and a
 * flood of them (a script gone wrong) must not hold up the cycle its guardian duties share. The
 * rest wait for the next cycles, which run at full pace while any intent is pending.
 */
export const MAX_INVALID_INTENTS_PER_DECISION = 10;

export function processIntents(d: DecisionDraft): void {
  const pending = d.snapshot.intents
    .filter((i) => i.status === 'pending' || i.status === 'in-progress')
    .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
  let invalid = 0;
  for (const intent of pending) {
    if (intent.kind === 'invalid') {
      if (++invalid <= MAX_INVALID_INTENTS_PER_DECISION)
        resolve(d, intent, 'failed', 'intent-invalid', `not a request baton can act on: ${intent.problem}`);
      continue;
    }
    if (intent.status === 'in-progress') {
      if (d.state.operation?.intentId !== intent.id) {
        resolve(
          d,
          intent,
          'failed',
          'intent-superseded',
          `intent ${intent.id} was in progress but no operation carries it any more`,
        );
      }
      continue;
    }
    switch (intent.kind) {
      case 'pin':
        pin(d, intent);
        break;
      case 'unpin':
        d.setPin(undefined);
        d.state = { ...d.state, antiFlap: { failoverTimes: [], ...cooldownOnly(d) } };
        d.history({
          event: 'unpin',
          reason: 'unpin-requested',
          message: `unpinned by ${intent.by}`,
          by: intent.by,
        });
        resolve(d, intent, 'done', 'unpin-requested', 'unpinned; failover budget reset');
        break;
      case 'rejoin':
        rejoin(d, intent);
        break;
      case 'switchover':
        if (d.state.operation) waiting(d, intent);
        else switchover(d, intent);
        break;
      case 'failover':
        if (d.state.operation) waiting(d, intent);
        else forcedFailover(d, intent);
        break;
    }
  }
}

function cooldownOnly(d: DecisionDraft): { cooldownUntil?: number } {
  const until = d.state.antiFlap.cooldownUntil;
  return until === undefined ? {} : { cooldownUntil: until };
}

function resolve(
  d: DecisionDraft,
  intent: Intent,
  status: IntentStatus,
  reason: ReasonCode,
  message: string,
): void {
  d.note(status === 'failed' ? 'warn' : 'info', reason, `intent ${intent.kind} ${intent.id}: ${message}`);
  d.act({ type: 'resolve-intent', intentId: intent.id, status, reason, message });
}

function waiting(d: DecisionDraft, intent: Intent): void {
  d.note(
    'info',
    'skipped-operation-in-flight',
    `intent ${intent.kind} ${intent.id} waits for ${d.state.operation?.id}`,
  );
}

function pin(d: DecisionDraft, intent: PinIntent): void {
  const writer = d.snapshot.writer;
  if (intent.node === undefined || intent.node === writer?.node) {
    d.setPin({
      ...(writer ? { node: writer.node } : {}),
      by: intent.by,
      at: d.now,
      reason: 'pin-requested',
      ...(intent.reason !== undefined ? { message: intent.reason } : {}),
    });
    d.history({
      event: 'pin',
      reason: 'pin-requested',
      message: `pinned to ${writer?.node ?? '(no writer)'}`,
      by: intent.by,
    });
    resolve(d, intent, 'done', 'pin-requested', `pinned to ${writer?.node ?? '(no writer)'}`);
    return;
  }
  if (d.state.operation) return waiting(d, intent);
  switchTo(d, intent, intent.node, 'pin-switch-requested', true);
}

function switchover(d: DecisionDraft, intent: SwitchoverIntent): void {
  if (d.state.pin) {
    return resolve(
      d,
      intent,
      'failed',
      'skipped-pinned',
      `cluster is pinned (${d.state.pin.reason}): unpin first`,
    );
  }
  const target =
    intent.target ?? rankCandidates(d.snapshot, d.live, d.snapshot.writer?.node).find(eligible)?.spec.name;
  if (target === undefined)
    return resolve(d, intent, 'failed', 'skipped-no-candidate', 'no reachable candidate');
  switchTo(d, intent, target, 'switchover-requested', false);
}

/** Planned, lossless move: the writer must be alive so it can be fenced and caught up with. */
function switchTo(
  d: DecisionDraft,
  intent: PinIntent | SwitchoverIntent,
  target: string,
  reason: ReasonCode,
  pinOnCompletion: boolean,
): void {
  const writer = d.snapshot.writer;
  const spec = d.snapshot.spec.nodes.find((n) => n.name === target);
  if (!writer) return resolve(d, intent, 'failed', 'intent-invalid', 'no writer to switch from');
  if (!spec || spec.role !== 'candidate') {
    return resolve(d, intent, 'failed', 'intent-invalid', `${target} is not a candidate master`);
  }
  if (target === writer.node) return resolve(d, intent, 'done', reason, `${target} already is the writer`);
  if (d.state.quarantine[target]) {
    return resolve(d, intent, 'failed', 'intent-invalid', `${target} is quarantined: rejoin it first`);
  }
  const oldObs = bestObservation(d.live, writer.node);
  const targetObs = bestObservation(d.live, target);
  if (!oldObs?.reachable || assessWriter(d.snapshot, d.now, d.config).dead) {
    return resolve(
      d,
      intent,
      'failed',
      'intent-invalid',
      `writer ${writer.node} is not reachable: use a forced failover`,
    );
  }
  if (!targetObs?.reachable || targetObs.health !== 'up') {
    return resolve(d, intent, 'failed', 'skipped-no-candidate', `${target} is not reachable`);
  }
  if (d.snapshot.guardians[spec.colo]?.sessionAlive !== true) {
    return resolve(
      d,
      intent,
      'failed',
      'skipped-target-unguarded',
      `${target}'s colo ${spec.colo} has no live guardian`,
    );
  }
  // Fencing first and then waiting out a lag the catch-up bound cannot cover is a pointless outage.
  if (targetObs.lagMs !== undefined && targetObs.lagMs > d.config.catchupTimeoutMs) {
    return resolve(
      d,
      intent,
      'failed',
      'skipped-lag-too-high',
      `${target} lags ${targetObs.lagMs} ms, more than the ${d.config.catchupTimeoutMs} ms catch-up bound`,
    );
  }
  startOperation(d, {
    kind: 'switchover',
    reason,
    to: target,
    automatic: false,
    requestedBy: intent.by,
    intentId: intent.id,
    fenceOld: true,
    pinOnCompletion,
  });
}

function forcedFailover(d: DecisionDraft, intent: ForcedFailoverIntent): void {
  if (!intent.acceptDataLoss) {
    return resolve(d, intent, 'failed', 'intent-invalid', 'a forced failover needs --accept-data-loss');
  }
  const writer = d.snapshot.writer;
  if (!writer) return resolve(d, intent, 'failed', 'intent-invalid', 'no writer to fail over from');
  const verdict = planForcedFailover(d.snapshot, d.live, intent.target);
  if (!verdict.ok) return resolve(d, intent, 'failed', verdict.reason, verdict.message);
  // Even an operator cannot create two writers: a reachable writer is fenced first, an
  // unreachable one needs its guardian gone or confirming it fenced/down.
  const writerReachable = bestObservation(d.live, writer.node)?.reachable === true;
  if (!writerReachable) {
    // A guardian that is the only one not to agree is asked by the operation itself (it fences
    // a writer it sees down once a failover is under way); one that sees the writer up is not.
    const assessment = assessWriter(d.snapshot, d.now, d.config);
    if (assessment.reason === 'skipped-guardian-alive' && assessment.guardianPending !== true) {
      return resolve(d, intent, 'failed', 'skipped-guardian-alive', assessment.message);
    }
  }
  startOperation(d, {
    kind: 'failover',
    reason: 'forced-failover',
    to: verdict.plan.target,
    automatic: false,
    requestedBy: intent.by,
    intentId: intent.id,
    acceptDataLoss: true,
    fenceOld: true,
    fenceBestEffort: !writerReachable,
    ...(verdict.plan.donor !== undefined ? { donor: verdict.plan.donor } : {}),
    ...(verdict.plan.requiredGtids !== undefined ? { requiredGtids: verdict.plan.requiredGtids } : {}),
    ...(verdict.plan.lostGtids !== undefined ? { lostGtids: verdict.plan.lostGtids } : {}),
  });
}

function rejoin(d: DecisionDraft, intent: RejoinIntent): void {
  const record = d.state.quarantine[intent.node];
  const writer = d.snapshot.writer;
  if (!record) return resolve(d, intent, 'failed', 'intent-invalid', `${intent.node} is not quarantined`);
  if (!writer) return resolve(d, intent, 'failed', 'intent-invalid', 'no writer to rejoin');
  const { [intent.node]: _gone, ...rest } = d.state.quarantine;
  d.state = { ...d.state, quarantine: rest };
  rejoinActions(d, intent.node, 'rejoin-requested');
  d.history({
    event: 'rejoin',
    reason: 'rejoin-requested',
    message: `${intent.node} rejoined by operator${record.errantGtids ? ` (errant ${record.errantGtids})` : ''}`,
    node: intent.node,
    by: intent.by,
    ...(record.errantGtids !== undefined ? { errantGtids: record.errantGtids } : {}),
  });
  resolve(d, intent, 'done', 'rejoin-requested', `${intent.node} rejoins as standby of ${writer.node}`);
}
