/**
 * Failover policy (invariant 7): which candidate may replace a dead writer, what it must execute
 * first, and what may be lost.
 *
 * - consistency: only with the old writer's final GTID set known for certain — its guardian
 *   fenced it at this epoch and reported the set, or a live observer reaches it read-only —
 *   and a candidate that holds (executed or received) all of it. Otherwise an operator decides
 *   (forced failover), reason `skipped-policy-consistency`.
 * - availability: the best reachable candidate whose last known lag is within
 *   maxLagOnFailoverMs, after applying what it already received and catching up from the
 *   survivor that holds the most of what it lacks (survivors.ts); the writer's GTIDs it will
 *   still lack are recorded as possibly lost (an empty range when none).
 * In both, a candidate that can be brought to everything the survivors hold ranks first.
 */

import { bestObservation } from './health.js';
import { candidateView, eligible, eventualGtids, rankCandidates, type CandidateView } from './candidates.js';
import type { CoreConfig } from './config.js';
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
import type { ObserverReport } from './observation.js';
import type { ReasonCode } from './reasons.js';
import type { ClusterSnapshot } from './snapshot.js';
import { planCatchUp, survivors } from './survivors.js';

export interface FailoverPlan {
  target: string;
  /**
   * Consistency on semi-sync evidence (semiSyncEvidence), not on the old writer's final set: a
   * fence of it that fails changes nothing.
   */
  onSemiSync?: true;
  /** The survivor the target catches up from before the commit (survivors.ts). */
  donor?: string;
  /** GTIDs the target must execute before the commit (bounded wait). */
  requiredGtids?: string;
  /** Writer transactions the target may never get (availability/forced); '' when none. */
  lostGtids?: string;
  message: string;
}

export type PolicyVerdict =
  { ok: true; plan: FailoverPlan } | { ok: false; reason: ReasonCode; message: string };

/** The old writer's final executed set, when it is known for certain (it cannot grow any more). */
export function oldWriterFinalGtids(
  snapshot: ClusterSnapshot,
  live: ObserverReport[],
): { gtids: GtidSet; source: string } | undefined {
  const writer = snapshot.writer;
  if (!writer) return undefined;
  const flavor = snapshot.spec.flavor;
  for (const guardian of Object.values(snapshot.guardians)) {
    const fenced = guardian.fencedWriter;
    if (fenced && fenced.node === writer.node && fenced.epoch === writer.epoch) {
      return {
        gtids: parseGtidSet(fenced.executedGtids, flavor),
        source: `fenced by ${guardian.coordinator}`,
      };
    }
  }
  const obs = bestObservation(live, writer.node);
  if (obs?.reachable && obs.readOnly === true && obs.executedGtids !== undefined) {
    return { gtids: parseGtidSet(obs.executedGtids, flavor), source: 'observed read-only' };
  }
  return undefined;
}

/** Union of every executed set any report (live or not) holds for the writer: the most it may have had. */
export function lastKnownWriterGtids(snapshot: ClusterSnapshot): GtidSet | undefined {
  const writer = snapshot.writer;
  if (!writer) return undefined;
  let known: GtidSet | undefined;
  const add = (text: string): void => {
    const set = parseGtidSet(text, snapshot.spec.flavor);
    known = known ? unionGtidSets(known, set) : set;
  };
  for (const report of snapshot.reports) {
    const text = report.nodes.find((n) => n.node === writer.node)?.executedGtids;
    if (text !== undefined) add(text);
  }
  for (const guardian of Object.values(snapshot.guardians)) {
    if (guardian.fencedWriter?.node === writer.node) add(guardian.fencedWriter.executedGtids);
  }
  return known;
}

export function planFailover(
  snapshot: ClusterSnapshot,
  live: ObserverReport[],
  config: CoreConfig,
): PolicyVerdict {
  const reachable = rankCandidates(snapshot, live, snapshot.writer?.node).filter((c) => c.reachable);
  if (reachable.length === 0) {
    return { ok: false, reason: 'skipped-no-candidate', message: 'no reachable candidate master' };
  }
  const ranked = reachable.filter(eligible);
  if (ranked.length === 0) {
    return {
      ok: false,
      reason: 'skipped-target-unguarded',
      message: `no live guardian in the colo of ${reachable.map((c) => c.spec.name).join(', ')}`,
    };
  }
  return config.policy === 'consistency'
    ? planConsistent(snapshot, live, ranked)
    : planAvailable(snapshot, live, ranked, config);
}

function planConsistent(
  snapshot: ClusterSnapshot,
  live: ObserverReport[],
  ranked: CandidateView[],
): PolicyVerdict {
  const final = oldWriterFinalGtids(snapshot, live);
  if (!final) return planOnSemiSync(snapshot, live, ranked);
  const flavor = snapshot.spec.flavor;
  const oldWriter = snapshot.writer?.node;
  for (const target of ranked) {
    const catchUp = planCatchUp(snapshot, live, target, oldWriter);
    const reachable = unionGtidSets(eventualGtids(target, flavor), catchUp.required);
    if (!containsGtidSet(reachable, final.gtids)) continue;
    // Its own relay log may already hold all of it; a donor only when it does not.
    const ownEnough = containsGtidSet(eventualGtids(target, flavor), final.gtids);
    const plan: FailoverPlan = {
      target: target.spec.name,
      requiredGtids: formatGtidSet(final.gtids),
      lostGtids: '',
      message: ownEnough
        ? `${target.spec.name} holds the old writer's final GTIDs (${final.source})`
        : `${target.spec.name} gets the old writer's final GTIDs (${final.source}) from ${catchUp.donor}`,
    };
    if (!ownEnough && catchUp.donor !== undefined) plan.donor = catchUp.donor;
    return { ok: true, plan };
  }
  return {
    ok: false,
    reason: 'skipped-policy-consistency',
    message: `no candidate holds, or can get from a surviving server, all of the old writer's final GTIDs ${formatGtidSet(final.gtids)} (${final.source}): waiting for an operator`,
  };
}

/**
 * Consistency without the old writer's final set (it died, nobody fenced it): allowed only when
 * semi-sync shows every acknowledged write reached a replica, and every replica that could have
 * acknowledged one is reachable. Then the survivors hold every acknowledged write, and the target
 * catches up to all they hold before it opens.
 */
function planOnSemiSync(
  snapshot: ClusterSnapshot,
  live: ObserverReport[],
  ranked: CandidateView[],
): PolicyVerdict {
  const writer = snapshot.writer?.node;
  const unknown = `old writer ${writer} is neither reachable read-only nor fenced by its guardian: its final GTIDs are unknown`;
  const evidence = semiSyncEvidence(snapshot, live);
  if (!evidence.ok) {
    return {
      ok: false,
      reason: 'skipped-policy-consistency',
      message: `${unknown}, and ${evidence.why}: waiting for an operator`,
    };
  }
  const alive = new Set(survivors(snapshot, live, writer ? [writer] : []).map((s) => s.spec.name));
  const missing = evidence.ackers.filter((n) => !alive.has(n));
  if (missing.length > 0) {
    return {
      ok: false,
      reason: 'skipped-policy-consistency',
      message: `${unknown}; semi-sync was on, but ${missing.join(', ')}, which may hold acknowledged writes no one else has, is not reachable: waiting`,
    };
  }
  for (const target of ranked) {
    const catchUp = planCatchUp(snapshot, live, target, writer);
    if (!isEmptyGtidSet(catchUp.unrecoverable)) continue;
    const plan: FailoverPlan = {
      target: target.spec.name,
      onSemiSync: true,
      requiredGtids: formatGtidSet(catchUp.required),
      lostGtids: '',
      message:
        `${target.spec.name}: ${evidence.why}; every acknowledged write is on a reachable server` +
        (catchUp.donor !== undefined ? `, caught up from ${catchUp.donor}` : ''),
    };
    if (catchUp.donor !== undefined) plan.donor = catchUp.donor;
    return { ok: true, plan };
  }
  return {
    ok: false,
    reason: 'skipped-policy-consistency',
    message: `${unknown}; semi-sync was on, but no candidate can get everything the survivors hold from one of them: waiting`,
  };
}

/**
 * Did every write the old writer acknowledged reach a replica? Its last probe (by any live
 * observer) found semi-sync on at AFTER_SYNC with at least one ACKer, and it stopped answering
 * sooner after that than its timeout: a fallback to async takes a whole timeout without an ACK.
 * Known limit (DESIGN.md): a commit already waiting at that probe for most of the timeout (every
 * ACKer silent meanwhile) could still have fallen back before the writer died.
 */
export function semiSyncEvidence(
  snapshot: ClusterSnapshot,
  live: ObserverReport[],
): { ok: true; why: string; ackers: string[] } | { ok: false; why: string } {
  const writer = snapshot.writer?.node;
  if (!writer) return { ok: false, why: 'there is no writer record' };
  let best: { why: string } | undefined;
  for (const report of live) {
    const obs = report.nodes.find((n) => n.node === writer);
    const ss = obs?.semiSync;
    if (!obs || obs.reachable || !ss?.masterEnabled) continue;
    if (obs.lastSeenAt === undefined || obs.unreachableSince === undefined) continue;
    const gap = obs.unreachableSince - obs.lastSeenAt;
    if (!ss.masterOn || ss.clients < 1) {
      best ??= {
        why: `semi-sync had fallen back to async (${ss.clients} ACKers) when ${report.coordinator} last reached ${writer}`,
      };
      continue;
    }
    if (ss.waitPoint !== 'AFTER_SYNC') {
      best ??= {
        why: `semi-sync waited at ${ss.waitPoint}, not AFTER_SYNC: a crash may lose what clients saw committed`,
      };
      continue;
    }
    if (gap >= ss.timeoutMs) {
      best ??= {
        why: `${writer} stopped answering ${Math.round(gap)} ms after ${report.coordinator} last saw semi-sync on, no sooner than its ${ss.timeoutMs} ms timeout`,
      };
      continue;
    }
    return {
      ok: true,
      why: `semi-sync was on with ${ss.clients} ACKer(s) ${Math.round(gap)} ms before ${writer} stopped answering (${report.coordinator}; timeout ${ss.timeoutMs} ms)`,
      ackers: potentialAckers(snapshot, live, writer),
    };
  }
  return { ok: false, why: best?.why ?? `no observer saw semi-sync on ${writer}` };
}

/**
 * Servers that may have ACKed the writer's commits: semi-sync on their side (as last seen, even
 * if unreachable now), and replicating from the writer, or meant to (a replica configured on it,
 * or the other co-master). Any of them may hold an acknowledged write no one else has.
 */
function potentialAckers(snapshot: ClusterSnapshot, live: ObserverReport[], writer: string): string[] {
  return snapshot.spec.nodes
    .filter((n) => n.name !== writer)
    .filter((n) => {
      const obs = bestObservation(live, n.name);
      if (obs?.semiSync?.replicaEnabled !== true) return false;
      const fromWriter = (obs.replication ?? []).some((ch) => ch.source === writer);
      return fromWriter || n.replicatesFrom === writer || n.role === 'candidate';
    })
    .map((n) => n.name);
}

function planAvailable(
  snapshot: ClusterSnapshot,
  live: ObserverReport[],
  ranked: CandidateView[],
  config: CoreConfig,
): PolicyVerdict {
  const target = ranked.find((c) => c.lagMs !== undefined && c.lagMs <= config.maxLagOnFailoverMs);
  if (!target) {
    const lags = ranked.map((c) => `${c.spec.name}: ${c.lagMs ?? 'unknown'} ms`).join(', ');
    return {
      ok: false,
      reason: 'skipped-lag-too-high',
      message: `no candidate within maxLagOnFailover ${config.maxLagOnFailoverMs} ms (${lags})`,
    };
  }
  return {
    ok: true,
    plan: lossyPlan(snapshot, live, target, `lag ${target.lagMs} ms within ${config.maxLagOnFailoverMs} ms`),
  };
}

/** Forced failover: the operator accepted data loss; lag limits do not apply. */
export function planForcedFailover(
  snapshot: ClusterSnapshot,
  live: ObserverReport[],
  requestedTarget: string | undefined,
): PolicyVerdict {
  let target: CandidateView | undefined;
  if (requestedTarget !== undefined) {
    const spec = snapshot.spec.nodes.find((n) => n.name === requestedTarget);
    if (
      !spec ||
      spec.role !== 'candidate' ||
      spec.name === snapshot.writer?.node ||
      snapshot.quarantine[spec.name] !== undefined
    ) {
      return {
        ok: false,
        reason: 'intent-invalid',
        message: `${requestedTarget} is not another candidate master outside quarantine`,
      };
    }
    target = candidateView(snapshot, live, spec);
  } else {
    target = rankCandidates(snapshot, live, snapshot.writer?.node)[0];
  }
  if (!target || !target.reachable) {
    return {
      ok: false,
      reason: 'skipped-no-candidate',
      message: `target ${target?.spec.name ?? '(none)'} is not reachable`,
    };
  }
  if (!target.guarded) {
    return {
      ok: false,
      reason: 'skipped-target-unguarded',
      message: `${target.spec.name}'s colo ${target.spec.colo} has no live guardian: nobody could self-fence it`,
    };
  }
  return { ok: true, plan: lossyPlan(snapshot, live, target, 'forced by operator, data loss accepted') };
}

/**
 * The target catches up from its relay log and the best donor (survivors.ts); what neither will
 * give it, of everything the old writer is known to have had or the survivors hold, is recorded
 * as possibly lost: an empty range when nothing is.
 */
function lossyPlan(
  snapshot: ClusterSnapshot,
  live: ObserverReport[],
  target: CandidateView,
  why: string,
): FailoverPlan {
  const catchUp = planCatchUp(snapshot, live, target, snapshot.writer?.node);
  const plan: FailoverPlan = { target: target.spec.name, message: `${target.spec.name}: ${why}` };
  if (catchUp.donor !== undefined) {
    plan.donor = catchUp.donor;
    plan.message += `; catching up from ${catchUp.donor} first`;
  }
  if (!isEmptyGtidSet(catchUp.required)) plan.requiredGtids = formatGtidSet(catchUp.required);
  const known = unionGtidSets(
    lastKnownWriterGtids(snapshot) ?? emptyGtidSet(snapshot.spec.flavor),
    catchUp.held,
  );
  plan.lostGtids = formatGtidSet(
    subtractGtidSets(known, unionGtidSets(eventualGtids(target, snapshot.spec.flavor), catchUp.required)),
  );
  return plan;
}
