/**
 * Recovery from the newest surviving data (issue 10). When the writer dies, a replica in its colo
 * often holds transactions the other master never received: the nearer server gets the binlog
 * first (one transaction on the lab's LAN, dozens to thousands at 30 ms one-way). Promoting the
 * other master without them loses acknowledged writes that a surviving server still holds, and
 * leaves that replica diverged for good. So the promotion target first catches up from the
 * survivor that holds the most of what it lacks (the donor), then opens.
 *
 * Only the masters' history counts (the GTID domains / server uuids the candidate masters write
 * under): a replica's own writes are errant transactions, never something to copy into the writer.
 */

import type { CandidateView } from './candidates.js';
import { eventualGtids } from './candidates.js';
import {
  countGtids,
  emptyGtidSet,
  filterGtidKeys,
  intersectGtidSets,
  isEmptyGtidSet,
  parseGtidSet,
  subtractGtidSets,
  unionGtidSets,
  type GtidSet,
} from './gtid.js';
import { bestObservation, downByQuorum } from './health.js';
import type { NodeObservation, ObserverReport } from './observation.js';
import type { ClusterSnapshot } from './snapshot.js';
import type { NodeSpec } from './topology.js';

/** A reachable server outside the failover (not its old writer, not an ex-writer awaiting its check). */
export interface Survivor {
  spec: NodeSpec;
  observation: NodeObservation;
  /** What it will have executed once it applied its relay log (masters' history, errant left out). */
  eventual: GtidSet;
  /**
   * May a target replicate from it? Only if the channel can take the masters' history alone:
   * MariaDB filters by domain (DO_DOMAIN_IDS), so anything errant must lie outside the masters'
   * domains; MySQL cannot filter by source, so it must hold nothing outside them at all.
   */
  canDonate: boolean;
}

export interface CatchUpPlan {
  /** The survivor the target replicates from until it has `required`; none: its own relay log suffices. */
  donor?: string;
  /** What the target must execute before it opens. */
  required: GtidSet;
  /** Masters' history that survivors hold but neither the target nor the donor will have. */
  unrecoverable: GtidSet;
  /** Everything of the masters' history that survivors hold (the target included). */
  held: GtidSet;
}

/**
 * The GTID keys (MariaDB domains, MySQL server uuids) the candidate masters write under, as any
 * report last saw them; undefined when none is known (older observers): then every key counts.
 */
export function masterHistoryKeys(snapshot: ClusterSnapshot): Set<string> | undefined {
  const candidates = new Set(snapshot.spec.nodes.filter((n) => n.role === 'candidate').map((n) => n.name));
  const keys = new Set<string>();
  for (const report of snapshot.reports) {
    for (const obs of report.nodes) {
      if (candidates.has(obs.node) && obs.gtidSource !== undefined) keys.add(obs.gtidSource);
    }
  }
  return keys.size > 0 ? keys : undefined;
}

/** The part of `set` that belongs to the masters' history. */
export function mastersHistory(set: GtidSet, keys: Set<string> | undefined): GtidSet {
  return keys ? filterGtidKeys(set, (key) => keys.has(key)) : set;
}

/**
 * Reachable, healthy servers that are not excluded. A quarantined replica still holds the masters'
 * history it received, and an acknowledged write may be there alone (sim seed 18339): it counts,
 * without what was found errant on it. An ex-writer awaiting its check does not: nothing it holds
 * is known to be part of the current history.
 */
export function survivors(
  snapshot: ClusterSnapshot,
  live: ObserverReport[],
  exclude: readonly string[],
  keys = masterHistoryKeys(snapshot),
): Survivor[] {
  const flavor = snapshot.spec.flavor;
  const out: Survivor[] = [];
  for (const spec of snapshot.spec.nodes) {
    const quarantined = snapshot.quarantine[spec.name];
    if (exclude.includes(spec.name) || quarantined?.status === 'awaiting-return') continue;
    const observation = bestObservation(live, spec.name);
    if (!observation?.reachable || observation.health !== 'up' || downByQuorum(snapshot, live, spec.name))
      continue;
    if (observation.executedGtids === undefined) continue;
    const held = unionGtidSets(
      parseGtidSet(observation.executedGtids, flavor),
      parseGtidSet(observation.retrievedGtids ?? '', flavor),
    );
    const errant = parseGtidSet(quarantined?.errantGtids ?? '', flavor);
    const errantInMasters = !isEmptyGtidSet(mastersHistory(errant, keys));
    const outsideMasters = keys !== undefined && [...held.intervals.keys()].some((key) => !keys.has(key));
    out.push({
      spec,
      observation,
      eventual: subtractGtidSets(mastersHistory(held, keys), errant),
      canDonate: !errantInMasters && (flavor === 'mariadb' || !outsideMasters),
    });
  }
  return out;
}

/**
 * How `target` gets everything the survivors hold of the masters' history: from its own relay
 * log, or from the donor that holds the most of what it lacks (ties: the donor in the target's
 * colo, its link is the short one; then by name).
 */
export function planCatchUp(
  snapshot: ClusterSnapshot,
  live: ObserverReport[],
  target: CandidateView,
  oldWriter: string | undefined,
): CatchUpPlan {
  const flavor = snapshot.spec.flavor;
  const keys = masterHistoryKeys(snapshot);
  const own = eventualGtids(target, flavor);
  const others = survivors(snapshot, live, [target.spec.name, ...(oldWriter ? [oldWriter] : [])], keys);
  const held = others.reduce((acc, s) => unionGtidSets(acc, s.eventual), mastersHistory(own, keys));
  const missing = subtractGtidSets(held, own);
  const relayLog = target.retrieved ?? emptyGtidSet(flavor);
  if (isEmptyGtidSet(missing)) {
    return { required: relayLog, unrecoverable: emptyGtidSet(flavor), held };
  }
  const coverage = (s: Survivor): number => countGtids(intersectGtidSets(missing, s.eventual));
  const donor = others
    .filter((s) => s.canDonate && coverage(s) > 0)
    .sort(
      (x, y) =>
        coverage(y) - coverage(x) ||
        Number(y.spec.colo === target.spec.colo) - Number(x.spec.colo === target.spec.colo) ||
        (x.spec.name < y.spec.name ? -1 : 1),
    )[0];
  if (!donor) return { required: relayLog, unrecoverable: missing, held };
  return {
    donor: donor.spec.name,
    required: unionGtidSets(own, donor.eventual),
    unrecoverable: subtractGtidSets(missing, donor.eventual),
    held,
  };
}

/** Whether `target` can be brought to everything the survivors hold (one donor is enough). */
export function completable(
  snapshot: ClusterSnapshot,
  live: ObserverReport[],
  target: CandidateView,
  oldWriter: string | undefined,
): boolean {
  return isEmptyGtidSet(planCatchUp(snapshot, live, target, oldWriter).unrecoverable);
}
