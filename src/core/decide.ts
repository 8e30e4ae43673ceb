/**
 * One decision cycle of the leader: decide(snapshot, now, config) → { actions, events, state }.
 *
 * Order, first match wins for writer changes:
 * 1. intents: pin/unpin/rejoin apply at once; switchover/forced failover start an operation;
 * 2. an in-flight operation (journal) advances by one or more steps — nothing else changes the
 *    writer meanwhile;
 * 3. no writer record: bootstrap the best candidate;
 * 4. writer judged dead by quorum (health.ts) or fenced without a guardian → gates, in order:
 *    pinned, cooldown, failover budget (→ automatic pin), policy → automatic failover;
 * 5. otherwise upkeep: reopen a guardian-fenced healthy writer, quarantine/rejoin returning
 *    ex-writers, quarantine diverged servers, fence stray writable nodes, repoint replicas.
 * Broken replication is recorded first, whatever the rest decides.
 * Every refusal is an event with a reason code, and recorded in history when it starts.
 */

import { automaticChangeBlocker, pruneFailoverTimes } from './antiflap.js';
import { eligible, rankCandidates } from './candidates.js';
import type { CoreConfig } from './config.js';
import type { Decision } from './decision.js';
import { DecisionDraft } from './draft.js';
import { assessWriter, liveReports, quorumSize } from './health.js';
import { processIntents } from './intents.js';
import { advanceOperation, startOperation } from './operation-steps.js';
import { planFailover } from './policy.js';
import { processQuarantine } from './quarantine.js';
import { trackBrokenReplication, trackDivergence, trackSemiSync } from './replica-health.js';
import type { ReasonCode } from './reasons.js';
import type { ClusterSnapshot } from './snapshot.js';
import {
  fenceStrayWriters,
  reopenFencedWriter,
  repointReplicas,
  restoreWriterFeed,
  writerFencedWithoutGuardian,
} from './upkeep.js';

export function decide(snapshot: ClusterSnapshot, now: number, config: CoreConfig): Decision {
  const d = new DecisionDraft(snapshot, now, config, liveReports(snapshot, now, config));
  d.state = { ...d.state, antiFlap: pruneFailoverTimes(d.state.antiFlap, now, config) };

  const inFlight = snapshot.operation;
  // Whatever else happens, a broken replication is said at once (replica-health.ts).
  trackBrokenReplication(d);
  trackSemiSync(d);
  processIntents(d);
  if (inFlight) {
    advanceOperation(d, inFlight);
    return d.finish();
  }
  if (d.state.operation) return d.finish(); // an intent started one (and ran its first step)

  if (!snapshot.writer) {
    bootstrap(d);
    return d.finish();
  }

  const assessment = assessWriter(snapshot, now, config);
  const fencedOrphan = assessment.dead ? undefined : writerFencedWithoutGuardian(d);
  if (fencedOrphan !== undefined) {
    // After an etcd outage every guardian fenced its writer and every session is new: the first
    // leader back often sees the writer read-only before its guardian has re-published. Give a
    // guardian that is merely reconnecting one report window to come back and reopen it.
    const waiting = d.state.antiFlap.lastSkip;
    if (waiting?.reason !== 'waiting-for-guardian' || now - waiting.since < config.reportFreshMs) {
      skip(
        d,
        'waiting-for-guardian',
        `${fencedOrphan}: waiting ${config.reportFreshMs} ms for it to return`,
        snapshot.writer.node,
      );
      return d.finish();
    }
  }
  const deadByQuorum = assessment.dead || assessment.guardianPending === true;
  if (deadByQuorum || fencedOrphan !== undefined) {
    const reason: ReasonCode = deadByQuorum ? 'writer-dead-quorum' : 'writer-fenced-no-guardian';
    automaticFailover(d, reason, deadByQuorum ? assessment.message : (fencedOrphan as string));
    return d.finish();
  }

  if (assessment.reason === 'writer-healthy') {
    d.note('info', 'writer-healthy', assessment.message, snapshot.writer.node);
    clearSkip(d);
  } else {
    skip(d, assessment.reason, assessment.message, snapshot.writer.node);
  }
  reopenFencedWriter(d);
  processQuarantine(d);
  trackDivergence(d);
  fenceStrayWriters(d);
  repointReplicas(d);
  restoreWriterFeed(d);
  return d.finish();
}

function automaticFailover(d: DecisionDraft, reason: ReasonCode, why: string): void {
  const writer = d.snapshot.writer?.node;
  if (d.state.pin) {
    return skip(
      d,
      'skipped-pinned',
      `${why}; but the cluster is pinned (${d.state.pin.reason} by ${d.state.pin.by})`,
      writer,
    );
  }
  const blocker = automaticChangeBlocker(d.state.antiFlap, d.now, d.config);
  if (blocker?.reason === 'flap-budget-exhausted') {
    d.setPin({
      ...(writer !== undefined ? { node: writer } : {}),
      by: 'auto',
      at: d.now,
      reason: 'flap-budget-exhausted',
      message: blocker.message,
    });
    d.note('alert', 'flap-budget-exhausted', `${why}; ${blocker.message}`, writer);
    d.history({
      event: 'pin',
      reason: 'flap-budget-exhausted',
      message: blocker.message,
      by: 'auto',
      ...(writer ? { node: writer } : {}),
    });
    return;
  }
  if (blocker) return skip(d, blocker.reason, `${why}; ${blocker.message}`, writer);

  const verdict = planFailover(d.snapshot, d.live, d.config);
  if (!verdict.ok) return skip(d, verdict.reason, `${why}; ${verdict.message}`, writer);

  clearSkip(d);
  d.note('alert', reason, `${why}; failing over to ${verdict.plan.target}: ${verdict.plan.message}`, writer);
  startOperation(d, {
    kind: 'failover',
    reason,
    to: verdict.plan.target,
    automatic: true,
    requestedBy: 'auto',
    fenceOld: true,
    fenceBestEffort: true,
    ...(verdict.plan.donor !== undefined ? { donor: verdict.plan.donor } : {}),
    ...(verdict.plan.onSemiSync ? { onSemiSync: true } : {}),
    ...(verdict.plan.requiredGtids !== undefined ? { requiredGtids: verdict.plan.requiredGtids } : {}),
    ...(verdict.plan.lostGtids !== undefined ? { lostGtids: verdict.plan.lostGtids } : {}),
  });
}

function bootstrap(d: DecisionDraft): void {
  const quorum = quorumSize(d.snapshot);
  if (d.live.length < quorum) {
    return skip(
      d,
      'no-quorum',
      `no writer record and only ${d.live.length} of ${quorum} observers needed are live`,
    );
  }
  const all = rankCandidates(d.snapshot, d.live);
  // Coordinators starting one by one may not have probed every candidate yet: handing the role
  // to the one seen first fenced the lab's open a1 and made b1 the writer (a CI run). Wait until
  // every candidate's read_only is known, or it is known to be unreachable.
  const unseen = all.filter(
    (c) => c.observation === undefined || (c.reachable && c.observation.readOnly === undefined),
  );
  if (unseen.length > 0) {
    return skip(
      d,
      'skipped-no-candidate',
      `no writer record; ${unseen.map((c) => c.spec.name).join(', ')} not observed yet: waiting to see which one takes writes`,
    );
  }
  // A candidate that already takes writes is the de-facto writer: adopt it rather than move
  // writes. If its colo's guardian is not visible yet (coordinators starting one by one), wait
  // for it instead of handing the role to another node and fencing the one in use.
  const writable = all.find((c) => c.reachable && c.observation?.readOnly === false);
  if (writable && !eligible(writable)) {
    return skip(
      d,
      'skipped-target-unguarded',
      `no writer record; ${writable.spec.name} takes writes but its colo has no live guardian yet: waiting to adopt it`,
      writable.spec.name,
    );
  }
  const ranked = all.filter(eligible);
  const target = writable ?? ranked[0];
  if (!target) {
    return skip(
      d,
      'skipped-no-candidate',
      'no writer record and no reachable candidate with a live guardian',
    );
  }
  clearSkip(d);
  startOperation(d, {
    kind: 'failover',
    reason: 'bootstrap-writer',
    to: target.spec.name,
    automatic: false,
    requestedBy: 'auto',
    fenceOld: false,
  });
}

/** A decision not to act: always an event; a history entry only when the reason changes. */
function skip(d: DecisionDraft, reason: ReasonCode, message: string, node?: string): void {
  d.note('warn', reason, message, node);
  if (d.state.antiFlap.lastSkip?.reason === reason) return;
  d.state = { ...d.state, antiFlap: { ...d.state.antiFlap, lastSkip: { reason, since: d.now } } };
  d.history({ event: 'skip', reason, message, by: 'auto', ...(node !== undefined ? { node } : {}) });
}

function clearSkip(d: DecisionDraft): void {
  if (!d.state.antiFlap.lastSkip) return;
  const { lastSkip: _cleared, ...rest } = d.state.antiFlap;
  d.state = { ...d.state, antiFlap: rest };
}
