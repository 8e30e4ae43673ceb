/**
 * Invariant 4, enforced by the loop whatever the core decided: the writer record moves away from
 * a writer W only if W's guardian (the coordinator of W's colo)
 * - has no guardian record in the store: its lease is gone, so it self-fenced before the lease
 *   expired (and a guardian publishes its record under a new session before it opens anything
 *   again), or
 * - holds W at W's epoch in its record: it will not reopen W at that epoch, and saw W read-only
 *   or not running.
 * The promotion txn compares that record's revision, so the promise read is the promise in force
 * when the commit lands. Without a report, our own watchdog stamps on W must also have run out
 * (`watchdogHeldUntil`): the guardian's self-fence no longer covers a stamp of ours.
 */

import type { ClusterSpec, CoordinatorSpec, MonoMs, PromoteAction } from '../core/index.js';
import type { ClusterKeys } from './keys.js';
import type { Compare } from './ports.js';
import type { StoreView } from './state-store.js';

export class PromotionRefusedError extends Error {
  override name = 'PromotionRefusedError';
}

export function promotionPrecondition(
  promote: PromoteAction,
  view: StoreView,
  cluster: ClusterSpec,
  coordinators: CoordinatorSpec[],
  keys: ClusterKeys,
  watchdog: { now: MonoMs; heldUntil: (node: string) => MonoMs },
): Compare[] {
  const writer = view.writer;
  if (!writer || writer.node === promote.node) return [];
  const colo = cluster.nodes.find((n) => n.name === writer.node)?.colo;
  const guardian = coordinators.find((c) => c.colo === colo);
  if (!guardian) return [];
  const key = keys.guardian(guardian.name);
  const stored = view.guardians.get(guardian.name);
  if (!stored) {
    const heldUntil = watchdog.heldUntil(writer.node);
    if (watchdog.now < heldUntil) {
      throw new PromotionRefusedError(
        `promote ${promote.node}: guardian ${guardian.name} of ${writer.node} is gone, but our own watchdog stamp may keep ${writer.node} open for ${Math.ceil(heldUntil - watchdog.now)} ms more`,
      );
    }
    return [{ key, target: 'modRevision', equals: 0 }];
  }
  const hold = stored.record.holding;
  if (hold && hold.node === writer.node && hold.epoch === writer.epoch) {
    return [{ key, target: 'modRevision', equals: stored.modRevision }];
  }
  throw new PromotionRefusedError(
    `promote ${promote.node}: guardian ${guardian.name} of ${writer.node} is alive and holds no promise for ${writer.node}@${writer.epoch}` +
      (hold ? ` (it holds ${hold.node}@${hold.epoch})` : ''),
  );
}
