/**
 * Which candidate master should take over. A target must have a live guardian in its colo: a
 * writer nobody can self-fence would stay writable through a partition while the next leader,
 * seeing that guardian gone, promotes elsewhere. Ranking, best first: reachable, guarded,
 * completable (it can be brought to everything the surviving servers hold, see survivors.ts),
 * replication not broken, caught up (everything it received is executed), lowest lag, highest
 * priority, colo, name — deterministic, so every leader picks the same node from the same
 * snapshot.
 */

import { containsGtidSet, emptyGtidSet, parseGtidSet, unionGtidSets, type GtidSet } from './gtid.js';
import { bestObservation, downByQuorum } from './health.js';
import { completable } from './survivors.js';
import type { NodeObservation, ObserverReport } from './observation.js';
import type { ClusterSnapshot } from './snapshot.js';
import type { NodeSpec } from './topology.js';

export interface CandidateView {
  spec: NodeSpec;
  observation?: NodeObservation;
  reachable: boolean;
  /** The guardian of its colo has a live session (eligible as a writer). */
  guarded: boolean;
  executed?: GtidSet;
  retrieved?: GtidSet;
  /** retrieved ⊆ executed: nothing left in the relay log to apply. */
  caughtUp: boolean;
  lagMs?: number;
  /** A replication thread stopped on an error: what it holds may have diverged. */
  replicationBroken: boolean;
  /**
   * It can be brought to everything the surviving servers hold of the masters' history, from
   * its relay log or one donor (set by rankCandidates, which knows the old writer).
   */
  completable?: boolean;
}

export function candidateView(
  snapshot: ClusterSnapshot,
  live: ObserverReport[],
  spec: NodeSpec,
): CandidateView {
  const flavor = snapshot.spec.flavor;
  const observation = bestObservation(live, spec.name);
  const reachable =
    observation !== undefined &&
    observation.reachable &&
    observation.health === 'up' &&
    !downByQuorum(snapshot, live, spec.name);
  const executed =
    observation?.executedGtids !== undefined ? parseGtidSet(observation.executedGtids, flavor) : undefined;
  const retrieved =
    observation?.retrievedGtids !== undefined ? parseGtidSet(observation.retrievedGtids, flavor) : undefined;
  const caughtUp = executed !== undefined && containsGtidSet(executed, retrieved ?? emptyGtidSet(flavor));
  const guarded = snapshot.guardians[spec.colo]?.sessionAlive === true;
  const replicationBroken = observation?.replication?.some((ch) => ch.error !== undefined) ?? false;
  const view: CandidateView = { spec, reachable, guarded, caughtUp, replicationBroken };
  if (observation) view.observation = observation;
  if (executed) view.executed = executed;
  if (retrieved) view.retrieved = retrieved;
  if (observation?.lagMs !== undefined) view.lagMs = observation.lagMs;
  return view;
}

/** Everything the candidate will have once it applied its relay log. */
export function eventualGtids(view: CandidateView, flavor: ClusterSnapshot['spec']['flavor']): GtidSet {
  const executed = view.executed ?? emptyGtidSet(flavor);
  return view.retrieved ? unionGtidSets(executed, view.retrieved) : executed;
}

export function compareCandidates(a: CandidateView, b: CandidateView): number {
  if (a.reachable !== b.reachable) return a.reachable ? -1 : 1;
  if (a.guarded !== b.guarded) return a.guarded ? -1 : 1;
  if ((a.completable ?? true) !== (b.completable ?? true)) return (a.completable ?? true) ? -1 : 1;
  if (a.replicationBroken !== b.replicationBroken) return a.replicationBroken ? 1 : -1;
  if (a.caughtUp !== b.caughtUp) return a.caughtUp ? -1 : 1;
  const lagA = a.lagMs ?? Number.POSITIVE_INFINITY;
  const lagB = b.lagMs ?? Number.POSITIVE_INFINITY;
  if (lagA !== lagB) return lagA < lagB ? -1 : 1;
  if (a.spec.priority !== b.spec.priority) return b.spec.priority - a.spec.priority;
  if (a.spec.colo !== b.spec.colo) return a.spec.colo < b.spec.colo ? -1 : 1;
  return a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0;
}

/** Reachable and guarded: may become the writer now. */
export function eligible(view: CandidateView): boolean {
  return view.reachable && view.guarded;
}

/** Candidate masters other than `exclude` (the current writer) and quarantined nodes, best first. */
export function rankCandidates(
  snapshot: ClusterSnapshot,
  live: ObserverReport[],
  exclude?: string,
): CandidateView[] {
  return snapshot.spec.nodes
    .filter((n) => n.role === 'candidate' && n.name !== exclude && !snapshot.quarantine[n.name])
    .map((n) => {
      const view = candidateView(snapshot, live, n);
      if (view.reachable) view.completable = completable(snapshot, live, view, exclude);
      return view;
    })
    .sort(compareCandidates);
}
