/**
 * baton's pure decision core. What the coordinator loop calls:
 * - `decide(snapshot, now, config)` — leader, once per cycle (and again right after recording
 *   a step outcome while an operation is in flight); persist `state`, then run `actions`;
 * - `recordStepOutcome(journal, outcome)` — feed back what the current step's actions did;
 * - `guard(input)` — every coordinator, for its own colo's nodes;
 * - `updateHealth(state, ok, now, config.health)` — every observer, per node and probe;
 * - GTID algebra (`parseGtidSet`, `errantTransactions`, …) for adapters and the simulation.
 */
export * from './topology.js';
export * from './observation.js';
export * from './reasons.js';
export * from './intent.js';
export * from './config.js';
export * from './operation.js';
export * from './actions.js';
export * from './history.js';
export * from './snapshot.js';
export * from './decision.js';
export * from './guardian.js';
export * from './gtid.js';
export * from './health.js';
export * from './quiet-pacing.js';
export * from './watchdog.js';
export * from './timings.js';
export * from './antiflap.js';
export * from './candidates.js';
export * from './policy.js';
export { recordStepOutcome, type OperationStart } from './operation-steps.js';
export * from './decide.js';
export * from './dry-run.js';
