/**
 * Everything decide() reads: one immutable, plain-JSON view of a cluster that the leader's loop
 * assembles from etcd (/baton/<cluster>/…) each cycle.
 *
 * Timebase: every time stamp in the snapshot (cooldownUntil, failover times, operation step
 * times, reports' receivedAt) is on the same clock as decide()'s `now`. Persisted times are
 * read by the next leader on another machine, so in production the loop should use a clock that
 * means the same on every coordinator (wall-clock ms); the simulation uses its virtual clock.
 */

import type { Intent } from './intent.js';
import type { ObserverReport } from './observation.js';
import type { OperationJournal } from './operation.js';
import type { ReasonCode } from './reasons.js';
import type { ClusterSpec, CoordinatorSpec } from './topology.js';

/** /baton/<cluster>/writer — the desired writer. Epoch only increases. */
export interface WriterRecord {
  node: string;
  epoch: number;
  since: number;
  reason: ReasonCode;
}

/** /baton/<cluster>/pin — no automatic writer change while present. */
export interface PinRecord {
  /** Node the writer is pinned to; undefined means "whatever the writer is now". */
  node?: string;
  by: string;
  at: number;
  reason: ReasonCode;
  message?: string;
}

/** /baton/<cluster>/cooldown — survives restarts and leader changes (invariant 6). */
export interface AntiFlapState {
  /** No automatic writer change before this time. */
  cooldownUntil?: number;
  /** Times of automatic failovers still inside the budget window, oldest first. */
  failoverTimes: number[];
  /**
   * The standing refusal to fail over, if any: a refusal is recorded in history when its reason
   * changes, not on every cycle it persists.
   */
  lastSkip?: { reason: ReasonCode; since: number };
  /**
   * The beforePromote hook vetoed an automatic writer change: none is tried again before this
   * time (each try would run the hook again, and history would fill with vetoes).
   */
  vetoedUntil?: number;
}

/**
 * What the guardian of one colo (the coordinator in that colo) tells the leader. The leader only
 * promotes away from a writer once that writer's guardian is gone or confirms it fenced/dead.
 */
export interface GuardianStatus {
  coordinator: string;
  /** False once the guardian's lease is known expired or revoked. */
  sessionAlive: boolean;
  /** Set when the guardian fenced (or found read-only) the node it guarded as writer. */
  fencedWriter?: FencedWriter;
  /**
   * Set when the guardian sent a fence to the writer of `epoch` without confirmation (the node
   * was down or hung: the request may still sit in its socket and lands when it resumes, and a
   * restarted server comes back read-only). The guardian never reopens that node at that epoch,
   * so the leader may promote elsewhere. Publish it from guard()'s `fencedEpoch`.
   */
  fenceIssued?: { node: string; epoch: number; at: number };
  /**
   * The guardian's promise, published with its report: it will not open `node` at `epoch`
   * (because it fenced it and saw it read-only, saw it not running, or sees an operation moving
   * the writer away while it is read-only). Since the guardian executes its actions before it
   * publishes, a hold also means no open-writes it decided earlier is still in flight — the race
   * the simulation found (seed 2012) between a guardian's late reopen and a switchover's fence.
   */
  holding?: WriterHold;
}

export interface WriterHold {
  node: string;
  epoch: number;
  /**
   * 'awaiting-fence': an operation moves the writer away while it is still open; the guardian
   * promises only not to reopen it. That lets the leader's own fence count (invariant 4), and
   * nothing else: a failover whose fence was not confirmed still needs one of the others.
   */
  because: 'fenced' | 'operation' | 'dead' | 'awaiting-fence';
}

/** A guardian's record that it fenced the writer of `epoch`; moot once the epoch moves on. */
export interface FencedWriter {
  node: string;
  epoch: number;
  /** Executed set returned by the fence: everything that writer ever acknowledged. */
  executedGtids: string;
  at: number;
}

export type QuarantineStatus = 'awaiting-return' | 'errant';

/**
 * An ex-writer that lost the role without being fenced cleanly. It may come back with
 * transactions the new writer never saw; nothing replicates from it until compared.
 */
export interface QuarantineRecord {
  node: string;
  since: number;
  /** Writer epoch that replaced it. */
  epoch: number;
  status: QuarantineStatus;
  errantGtids?: string;
}

/** A replication thread that stopped on an error, as the leader first saw it (history has it too). */
export interface BrokenReplication {
  thread: 'io' | 'sql';
  errno: number;
  message: string;
  since: number;
  /** When upkeep last started it again after its source refused it (1236): one try per window. */
  retriedAt?: number;
}

/**
 * /baton/<cluster>/replicas — what the leader knows of the servers besides the writer. A broken
 * replication is recorded once (and its end once); a server seen holding transactions the writer
 * lacks is `diverging` until that has lasted a report window, then quarantined (upkeep.ts): the
 * wait rules out reports that merely crossed a write in flight.
 */
export interface ReplicaHealth {
  broken: Record<string, BrokenReplication>;
  diverging: Record<string, { errantGtids: string; since: number }>;
  /** A writer with semi-sync enabled that fell back to async (its ACKers gone), since when. */
  semiSyncOff?: Record<string, { since: number; clients: number }>;
}

/** The parts of the snapshot decide() may change; the loop persists each one that differs. */
export interface PersistedState {
  pin?: PinRecord;
  antiFlap: AntiFlapState;
  /** /baton/<cluster>/operation — journal of the in-flight switchover/failover. */
  operation?: OperationJournal;
  /** /baton/<cluster>/quarantine — by node name. */
  quarantine: Record<string, QuarantineRecord>;
  /** /baton/<cluster>/replicas — absent while nothing is broken or diverging. */
  replicas?: ReplicaHealth;
}

export interface ClusterSnapshot extends PersistedState {
  spec: ClusterSpec;
  coordinators: CoordinatorSpec[];
  /** Absent before the cluster was ever bootstrapped. */
  writer?: WriterRecord;
  /** Pending and in-progress intents (the loop may omit done/failed ones). */
  intents: Intent[];
  reports: ObserverReport[];
  /** By colo (database colos only). */
  guardians: Record<string, GuardianStatus>;
}

/** The guardian of `node`'s colo as this snapshot knows it (colo undefined: an unknown node). */
export function guardianOfNode(
  snapshot: ClusterSnapshot,
  node: string,
): { colo?: string; guardian?: GuardianStatus } {
  const colo = snapshot.spec.nodes.find((n) => n.name === node)?.colo;
  if (colo === undefined) return {};
  const guardian = snapshot.guardians[colo];
  return guardian ? { colo, guardian } : { colo };
}
