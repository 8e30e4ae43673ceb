/**
 * The one place the loop calls the core's decide(), so the loop's tests and the simulation see
 * exactly the call the daemon makes.
 */

import { decide, type ClusterSnapshot, type CoreConfig, type Decision } from '../core/index.js';

export function decideCluster(snapshot: ClusterSnapshot, now: number, config: CoreConfig): Decision {
  return decide(snapshot, now, config);
}
