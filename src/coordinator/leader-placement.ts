/**
 * Where the leader should run: outside the writer's colo. The leader is the writer's stand-in
 * guardian (stand-in-guardian.ts): it keeps vouching for the writer to its watchdog when the
 * writer's own guardian dies. If the leader _is_ that guardian, one process death silences both,
 * the writer's watchdog closes it, and "an agent's death is not the master's death" (scenario 9)
 * no longer holds. So a steady leader in the writer's colo hands leadership over, once another
 * colo's coordinator is alive to take it.
 */

import type { CoordinatorSpec } from '../core/index.js';

export interface PlacementInput {
  self: CoordinatorSpec;
  /** Colo of the writer as last read; undefined when there is no writer record. */
  writerColo: string | undefined;
  /** Coordinators other than us whose reports are in the store (their leases are alive). */
  alive: readonly CoordinatorSpec[];
}

/** A coordinator better placed to lead than us, or undefined to keep leading. */
export function betterPlacedLeader(input: PlacementInput): CoordinatorSpec | undefined {
  const { self, writerColo, alive } = input;
  if (writerColo === undefined || self.colo !== writerColo) return undefined;
  return alive.find((c) => c.name !== self.name && c.colo !== writerColo);
}
