/**
 * The one place the loop calls the core's decide(). Until the core exports it, the adapter
 * decides nothing (guardians still enforce the writer record, so a cluster keeps its writer).
 */

import * as core from '../core/index.js';
import type { ClusterSnapshot, CoreConfig, Decision } from '../core/index.js';

type DecideFn = (snapshot: ClusterSnapshot, now: number, config: CoreConfig) => Decision;

const coreDecide = (core as unknown as { decide?: DecideFn }).decide;

export function decideCluster(snapshot: ClusterSnapshot, now: number, config: CoreConfig): Decision {
  if (coreDecide) return coreDecide(snapshot, now, config);
  const state: Decision['state'] = { antiFlap: snapshot.antiFlap, quarantine: snapshot.quarantine };
  if (snapshot.pin) state.pin = snapshot.pin;
  if (snapshot.operation) state.operation = snapshot.operation;
  return { actions: [], events: [], state };
}
