/**
 * Why the core did something, or chose not to. Every action and every event carries one, tests
 * assert on them, and history entries store them, so the set is closed and stable: add codes,
 * never rename them.
 */
export const REASON_CODES = [
  // Writer changes and the steps leading to them
  'writer-dead-quorum', // a quorum of live observers agrees the writer is down (holistic)
  'switchover-requested', // operator intent
  'forced-failover', // operator intent with --accept-data-loss
  'pin-switch-requested', // pin intent naming a node other than the writer
  'bootstrap-writer', // no writer record yet: the best candidate becomes writer
  'operation-step', // next step of a journalled switchover/failover
  'operation-completed',
  'operation-rolled-back',
  'operation-aborted', // the journal could not continue (e.g. epoch moved under it)
  'catchup-timeout', // target did not execute the required GTIDs in time
  'fence-failed',
  // Decisions not to act
  'writer-healthy',
  'no-quorum', // not enough live observers, or not enough of them agree the writer is down
  'writer-alive-per-replicas', // a reachable replica still streams from the writer
  'skipped-guardian-alive', // the writer's colo guardian is alive and does not confirm death
  'skipped-cooldown',
  'skipped-pinned',
  'skipped-policy-consistency', // candidate may lack acknowledged writes: waiting for an operator
  'skipped-lag-too-high', // availability: no candidate within maxLagOnFailover
  'skipped-no-candidate', // no reachable, eligible candidate
  'skipped-target-unguarded', // reachable candidates exist, but none has a live guardian in its colo
  'skipped-operation-in-flight',
  'flap-budget-exhausted', // automatic pin after N failovers in the window
  // Intents
  'pin-requested',
  'unpin-requested',
  'intent-invalid',
  'intent-superseded',
  // Returning ex-writer
  'quarantine-returning-writer',
  'errant-transactions',
  'rejoin-clean',
  'rejoin-requested',
  // Topology upkeep
  'replica-source-lost', // a replica's source is not the live writer path: repoint it
  'replication-broken', // a replication thread stopped on an error (errno and text in the message)
  'replication-restored', // that node replicates again without an error
  'replica-diverged', // a server holds transactions the writer lacks (lasting a report window): quarantined
  'semi-sync-fallback', // the writer's semi-sync fell back to async: acknowledged writes may be on it alone
  'semi-sync-restored', // its replica ACKs again
  'stale-writable-node', // a node other than the writer is writable
  'writer-fenced-no-guardian', // writer is read-only (fenced) and its guardian is gone: replace it
  'waiting-for-guardian', // writer read-only and its guardian gone for less than reportFreshMs: it may be reconnecting
  'writer-reopen', // the writer's guardian self-fenced it; healthy again: new epoch, same node
  // Guardian (per colo, not leader-only)
  'guardian-session-invalid', // cannot prove our lease: self-fence the local writer
  'guardian-enforce-read-only', // a local non-writer is writable
  'guardian-writer-down', // a failover is under way and our probes say the local writer is down: fence it blind
  'guardian-writer-down-waiting', // our probes say the local writer is down, but no failover is under way: leave it
  'guardian-stonith', // SQL could not fence the local writer and a quorum says it is down: the fence command shot it
  'guardian-open-writer', // the writer record names a local node that is read-only
  'guardian-hold-fenced', // we fenced this writer at this epoch: wait for a newer epoch
  'guardian-hold-operation', // a switchover away from this writer is in flight
  // Hooks (issue 12)
  'hook-ran', // a hook exited 0 (history keeps its outcome and stderr tail)
  'hook-failed', // a hook exited non-zero, timed out or could not start
  'promotion-vetoed', // the beforePromote hook failed or timed out: the operation stops before its commit
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];
