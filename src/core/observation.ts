/**
 * What one coordinator saw of the databases. Observers publish a report to
 * /baton/<cluster>/observations/<coordinator> (lease-bound); the leader reads all of them and
 * judges health from the quorum, never from its own view alone.
 *
 * GTID sets travel as the flavour's native strings (what the server printed) so a report stays
 * readable with etcdctl; the core parses them with `parseGtidSet`.
 */

import type { WatchdogState } from './watchdog.js';

export type MonoMs = number;

/** Replication IO thread state as the server reports it. */
export type IoThreadState = 'yes' | 'no' | 'connecting';

/**
 * A replication thread that stopped on an error: the thread, the server's error number and its
 * text (e.g. io 1236 "…requested to start from GTID …, which is not in the master's binlog", or
 * sql 1062 duplicate key after a write on the replica). A thread that is merely reconnecting to
 * an unreachable source is not stopped.
 */
export interface ReplicationError {
  thread: 'io' | 'sql';
  errno: number;
  message: string;
}

/**
 * Semi-synchronous replication as one server reports it (MariaDB built-in, MySQL plugin). On a
 * master, `masterOn` with `clients >= 1` means every commit waits for a replica's ACK (at
 * AFTER_SYNC: before the client hears OK); enabled but off means it fell back to async after a
 * timeout, and commits since then were acknowledged without any replica holding them.
 */
export interface SemiSyncState {
  masterEnabled: boolean;
  masterOn: boolean;
  /** Replicas connected as semi-sync ACKers. */
  clients: number;
  /** Commits acknowledged without an ACK, and switches to async, since the server started. */
  unackedCommits: number;
  fallbacks: number;
  waitPoint: string;
  /** rpl_semi_sync_master_timeout: how long a commit waits for an ACK before falling back. */
  timeoutMs: number;
  /** This server's IO threads ACK their source (takes effect when an IO thread starts). */
  replicaEnabled: boolean;
}

/** One replication channel of a node (a co-master has one; multi-source would have several). */
export interface ReplicationObservation {
  /** Node name of the source, resolved by the observer from host:port; undefined if unknown. */
  source?: string;
  sourceHost: string;
  sourcePort: number;
  ioState: IoThreadState;
  sqlRunning: boolean;
  /** GTIDs received into the relay log (MariaDB Gtid_IO_Pos / MySQL Retrieved_Gtid_Set). */
  retrievedGtids: string;
  lastError?: string;
  /** Set when a thread stopped on an error: the channel is broken until someone acts. */
  error?: ReplicationError;
  /**
   * How long ago, by this observer's probes, the channel last received anything (its retrieved
   * set changed). The writer's guardian stamps a heartbeat every cycle, so a live source feeds
   * its replicas continuously; an IO thread that says "yes" but received nothing for long is a
   * replica that has not noticed its source hang (it waits for slave_net_timeout).
   * Undefined when the observer has no earlier probe to compare with.
   */
  receivedAgoMs?: number;
}

/**
 * Health after the observer's hysteresis (see health.ts): `reachable` is the raw result of the
 * last probe, `health` is the filtered verdict that the quorum logic counts. Keeping both lets
 * the decision core rank candidates on fresh reachability while judging death only on the
 * debounced signal.
 */
export type HealthVerdict = 'up' | 'down';

export interface NodeObservation {
  node: string;
  reachable: boolean;
  health: HealthVerdict;
  /** Unknown (undefined) when the node was not reachable at the last probe. */
  readOnly?: boolean;
  /**
   * When unreachable, observers keep the last set they saw: it is the best bound on what a dead
   * writer had, and availability failovers compute the possibly lost range from it.
   */
  executedGtids?: string;
  /**
   * What the node's binary log holds, set only when it differs from `executedGtids`: a MariaDB
   * master that returned with a crash-truncated tail skips its own events coming back from the
   * other master but advances gtid_slave_pos past them, so gtid_current_pos claims transactions
   * its binlog cannot serve (truncated-tail.ts). A replica asking for them gets error 1236.
   * Absent: the executed set is what the node serves.
   */
  binlogGtids?: string;
  /** Union of the retrieved sets of every channel; lag that this node already holds locally. */
  retrievedGtids?: string;
  /**
   * The GTID set key this server's own writes get (MariaDB gtid_domain_id, MySQL server_uuid):
   * on the writer, GTIDs under it beyond what we last saw are newer writes, never errant.
   */
  gtidSource?: string;
  replication?: ReplicationObservation[];
  /** Lag behind the writer (heartbeat row, or Seconds_Behind_Master × 1000 as a fallback). */
  lagMs?: number;
  /** Whether the node's watchdog event would close it (core/watchdog.ts), when the probe knew. */
  watchdog?: WatchdogState;
  /** Semi-sync, when enabled on either side (absent: plain async). */
  semiSync?: SemiSyncState;
  /**
   * For an unreachable node: when this observer last reached it, and when the current run of
   * failed probes began (its clock). It died, or was cut off, in between.
   */
  lastSeenAt?: MonoMs;
  unreachableSince?: MonoMs;
  error?: string;
  /** Observer's own monotonic clock; only comparable with that observer's other times. */
  observedAt: MonoMs;
}

export interface ObserverReport {
  coordinator: string;
  /** Observer's own monotonic clock at publication (informational: clocks differ by process). */
  publishedAt: MonoMs;
  /**
   * When the process running decide() last saw this report written or refreshed, on the same
   * timebase as decide()'s `now`. Freshness is judged on this, because observers' clocks are
   * not comparable with the reader's.
   */
  receivedAt: MonoMs;
  /** False when the observer's lease is known to be gone (the loop may keep its last report). */
  sessionAlive: boolean;
  nodes: NodeObservation[];
}
