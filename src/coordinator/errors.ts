/** Errors of the coordinator loop, each named after its concept (etcd concurrency style). */

/** Our session cannot prove the lease alive: no side effect may run. */
export class LeaseExpiredError extends Error {
  override name = 'LeaseExpiredError';
  constructor(what: string) {
    super(`session: lease deadline passed, refusing to ${what}`);
  }
}

/** A leader-guarded write failed its compare: somebody else leads, or the state moved. */
export class NotLeaderError extends Error {
  override name = 'NotLeaderError';
  constructor(what: string) {
    super(`election: not leader (${what})`);
  }
}

/** The writer epoch moved since the action was decided: the action is stale. */
export class StaleEpochError extends Error {
  override name = 'StaleEpochError';
}

/** A guarded write whose own extra compares (a guardian's report, a create-only key) failed. */
export class StateMovedError extends Error {
  override name = 'StateMovedError';
}
