/**
 * Failover policy (invariant 7): which candidate may replace a dead writer, what it must execute
 * first, and what may be lost.
 *
 * - consistency: only with the old writer's final GTID set known for certain — its guardian
 *   fenced it at this epoch and reported the set, or a live observer reaches it read-only —
 *   and a candidate that holds (executed or received) all of it. Otherwise an operator decides
 *   (forced failover), reason `skipped-policy-consistency`.
 * - availability: the best reachable candidate whose last known lag is within
 *   maxLagOnFailoverMs, after applying what it already received; the writer's last known GTIDs
 *   it lacks are recorded as possibly lost.
 */

import { bestObservation } from './health.js';
import { candidateView, eligible, eventualGtids, rankCandidates, type CandidateView } from './candidates.js';
import type { CoreConfig } from './config.js';
import {
  containsGtidSet,
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

export interface FailoverPlan {
  target: string;
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
    : planAvailable(snapshot, ranked, config);
}

function planConsistent(
  snapshot: ClusterSnapshot,
  live: ObserverReport[],
  ranked: CandidateView[],
): PolicyVerdict {
  const final = oldWriterFinalGtids(snapshot, live);
  if (!final) {
    return {
      ok: false,
      reason: 'skipped-policy-consistency',
      message: `old writer ${snapshot.writer?.node} is neither reachable read-only nor fenced by its guardian: its final GTIDs are unknown, waiting for an operator`,
    };
  }
  const flavor = snapshot.spec.flavor;
  const target = ranked.find((c) => containsGtidSet(eventualGtids(c, flavor), final.gtids));
  if (!target) {
    return {
      ok: false,
      reason: 'skipped-policy-consistency',
      message: `no candidate holds all of the old writer's final GTIDs ${formatGtidSet(final.gtids)} (${final.source}): waiting for an operator`,
    };
  }
  return {
    ok: true,
    plan: {
      target: target.spec.name,
      requiredGtids: formatGtidSet(final.gtids),
      message: `${target.spec.name} holds the old writer's final GTIDs (${final.source})`,
    },
  };
}

function planAvailable(
  snapshot: ClusterSnapshot,
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
    plan: lossyPlan(snapshot, target, `lag ${target.lagMs} ms within ${config.maxLagOnFailoverMs} ms`),
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
  return { ok: true, plan: lossyPlan(snapshot, target, 'forced by operator, data loss accepted') };
}

function lossyPlan(snapshot: ClusterSnapshot, target: CandidateView, why: string): FailoverPlan {
  const flavor = snapshot.spec.flavor;
  const eventual = eventualGtids(target, flavor);
  const plan: FailoverPlan = { target: target.spec.name, message: `${target.spec.name}: ${why}` };
  if (target.retrieved && !isEmptyGtidSet(target.retrieved))
    plan.requiredGtids = formatGtidSet(target.retrieved);
  const known = lastKnownWriterGtids(snapshot);
  if (known) plan.lostGtids = formatGtidSet(subtractGtidSets(known, eventual));
  return plan;
}
