/**
 * The outside world as the coordinator loop sees it. Three narrow ports, each with a real
 * adapter (src/etcd, src/mysql, the system clock) and a simulated one (test/sim).
 * Every call takes a deadline: an absolute time on the Clock's monotonic scale after which
 * the implementation must give up and reject with DeadlineExceededError.
 */

import type { ReplicationError, SemiSyncState } from '../core/observation.js';
import type { WatchdogState } from '../core/watchdog.js';
export type { WatchdogState } from '../core/watchdog.js';

/** Monotonic milliseconds; never goes backwards, unrelated to wall-clock time. */
export type MonoMs = number;

export interface Clock {
  /** Monotonic time in ms (performance.now() in production, virtual time in the simulation). */
  now(): MonoMs;
  /** Wall-clock ms since epoch, only for human-readable records (history `at` fields). */
  wallNow(): number;
  /** Resolves after ms, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Store (etcd)

export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  lease?: string;
}

export type Compare =
  | { key: string; target: 'createRevision'; equals: number } // 0 means "key absent"
  | { key: string; target: 'modRevision'; equals: number }
  | { key: string; target: 'value'; equals: string };

export type Op =
  { put: string; value: string; lease?: string } | { delete: string } | { deletePrefix: string };

export interface TxnResult {
  succeeded: boolean;
  revision: number;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
}

export interface Watch {
  /** Fires for every change after the start revision; after a reconnect or compaction the
   * implementation re-reads the prefix and emits the differences, so no change is lost. */
  close(): void;
}

/** A lease we keep alive ourselves; validUntil is our own conservative deadline (send time of the
 * last acknowledged keepalive + TTL - margin), never the library's `lost` event. */
export interface Session {
  readonly leaseId: string;
  readonly ttlMs: number;
  /** validUntil() + marginMs is the earliest the server can expire the lease (the margin is our
   * time to act on a lost lease before then). */
  readonly marginMs: number;
  /** Monotonic deadline until which the lease is provably alive at the server. */
  validUntil(): MonoMs;
  /** Aborted as soon as validUntil() has passed or the lease was revoked/expired. */
  readonly signal: AbortSignal;
  /** Revoke the lease (graceful shutdown); a lease shared by several cluster loops is revoked by
   * the last of them to close it. */
  close(deadline: MonoMs): Promise<void>;
}

export interface Election {
  /** Campaign under prefix with our session; resolves once we hold the lowest create-revision.
   * Rejects when the session ends or the signal aborts. */
  campaign(value: string, signal: AbortSignal): Promise<Leadership>;
  /** The current leader's key/value, if any (for followers and the CLI). */
  leader(deadline: MonoMs): Promise<KeyValue | undefined>;
}

export interface Leadership {
  readonly key: string;
  readonly createRevision: number;
  /** Guarded write: the txn only succeeds while our leader key still has this create-revision. */
  guardedTxn(compares: Compare[], ops: Op[], deadline: MonoMs): Promise<TxnResult>;
  resign(deadline: MonoMs): Promise<void>;
}

/** One key, or every key under a prefix. */
export type Read = { key: string } | { prefix: string };

export interface Store {
  get(key: string, deadline: MonoMs): Promise<KeyValue | undefined>;
  getPrefix(prefix: string, deadline: MonoMs): Promise<{ kvs: KeyValue[]; revision: number }>;
  /** Several reads in one call, all at one revision (etcd: one read-only txn of ranges, a
   * linearizable read). `results[i]` is what `reads[i]` matched, in key order (at most one kv
   * for a key). */
  readAll(reads: readonly Read[], deadline: MonoMs): Promise<{ results: KeyValue[][]; revision: number }>;
  put(key: string, value: string, deadline: MonoMs, lease?: string): Promise<number>;
  txn(compares: Compare[], ops: Op[], deadline: MonoMs): Promise<TxnResult>;
  watchPrefix(prefix: string, fromRevision: number, onEvent: (e: WatchEvent) => void): Watch;
  /**
   * The first `limit` keys under `prefix` in key order (no values), with their mod revisions, and
   * how many keys the prefix holds in all: what a retention rule deletes, cheaply.
   */
  oldestKeys(
    prefix: string,
    limit: number,
    deadline: MonoMs,
  ): Promise<{ keys: { key: string; modRevision: number }[]; count: number }>;
  createSession(ttlMs: number, deadline: MonoMs): Promise<Session>;
  election(prefix: string, session: Session): Election;
  /**
   * How long one call to the member we would use next may take from here, as measured (0 where
   * latency is not modelled). Added to the configured store timeout, so a coordinator whose
   * etcd members sit across a WAN gets deadlines that fit the link.
   */
  roundTripMs(): number;
}

// ---------------------------------------------------------------------------------------
// Database (one MySQL/MariaDB server)

export interface ReplicationStatus {
  sourceHost: string;
  sourcePort: number;
  ioRunning: 'yes' | 'no' | 'connecting';
  sqlRunning: boolean;
  /** GTIDs received into the relay log (MariaDB Gtid_IO_Pos / MySQL Retrieved_Gtid_Set). */
  retrievedGtids: string;
  lastError?: string;
  /** A thread that stopped on an error (Last_IO_Errno/Last_SQL_Errno), with the server's text. */
  error?: ReplicationError;
  secondsBehind?: number;
}

export type { ReplicationError } from '../core/observation.js';

/** What a heartbeat stamp asks of the server's watchdog event (DESIGN.md "Watchdog"): close the
 * server `holdMs` after the statement runs, unless a later stamp says otherwise. */
export interface WatchdogHold {
  holdMs: number;
  /**
   * The stamp must be answered by then (the hold was cut for a statement done by that time),
   * or the call fails and opens nothing. Absent: the call's own deadline.
   */
  stampBy?: MonoMs;
}

export interface Probe {
  readOnly: boolean;
  executedGtids: string;
  /**
   * What the server's binary log holds, when the flavour tells it apart from the executed set
   * (MariaDB gtid_binlog_pos): what it can serve a replica. See NodeObservation.binlogGtids.
   */
  binlogGtids?: string;
  replication: ReplicationStatus[];
  /** Exact lag behind the writer from the heartbeat row, when available. */
  heartbeatLagMs?: number;
  serverId: number;
  /** Where this server's own writes go in a GTID set: MariaDB gtid_domain_id, MySQL server_uuid. */
  gtidSource?: string;
  version: string;
  /** Absent when the adapter cannot tell (or has not checked yet). */
  watchdog?: WatchdogState;
  /** Present when semi-sync is enabled on either side. */
  semiSync?: SemiSyncState;
}

export interface RepointOptions {
  /**
   * Replicate only transactions under these GTID keys (MariaDB domain ids); without it,
   * everything, and an earlier filter is cleared. An adapter that cannot filter throws.
   */
  onlyKeys?: readonly string[];
  /**
   * A returning ex-writer: the source may hold the server's own transactions that a crash
   * recovery truncated from its binlog; fetch them back (MariaDB: src/mysql/truncated-tail.ts).
   */
  refetchOwnTail?: boolean;
}

export interface Database {
  /**
   * The server's state in one round trip (plus a reconnect when needed). Over a far link the
   * adapter may give up on a stalled answer well before `deadline`: see roundTripMs.
   */
  probe(deadline: MonoMs): Promise<Probe>;
  /**
   * How long one round trip to this server may take from here: the link's measured RTT with its
   * variation (TCP's RTO). Callers add it to their allowance for every round trip a call may
   * need, so deadlines stretch with a WAN link instead of failing on it. 0 where latency is not
   * modelled.
   */
  roundTripMs(): number;
  /** read_only=ON (with a session lock_wait_timeout); returns the executed GTID set after it,
   * which is final. Client connections (never replication, system or our own threads) are
   * killed after that without the caller waiting: read_only already stops their commits. */
  fence(deadline: MonoMs): Promise<{ executedGtids: string }>;
  /**
   * read_only=OFF; with a hold, the watchdog is stamped first, so it cannot close the server
   * on an old stamp the moment it opens. With `committed`, what may go before the commit (the
   * stamp of a server that is still read-only) goes at once, and read_only=OFF waits for
   * `committed`; if it rejects, nothing is opened and this rejects with it.
   */
  openWrites(deadline: MonoMs, hold?: WatchdogHold, committed?: Promise<void>): Promise<void>;
  /** Resolves true when the server has executed gtids, false when the deadline passes first. */
  waitForGtids(gtids: string, deadline: MonoMs): Promise<boolean>;
  /** Point replication at another source (GTID auto-positioning), and start it. */
  repoint(source: { host: string; port: number }, deadline: MonoMs, options?: RepointOptions): Promise<void>;
  stopReplication(deadline: MonoMs): Promise<void>;
  startReplication(deadline: MonoMs): Promise<void>;
  /**
   * Have a command connection ready (open one unless one is idle), so that the next command does
   * not pay a connect and handshake: several round trips across a WAN. Optional: best effort.
   */
  warmUp?(deadline: MonoMs): Promise<void>;
  /** Whether the connections an operation uses (warmUp) are idle and open: its next
   * command needs no connect. */
  hasIdleConnection?(): boolean;
  /** Writer only: update the heartbeat row so replicas can compute exact lag, and with a hold,
   * vouch for the writer to its watchdog. Writes nothing on a read-only server. */
  writeHeartbeat(deadline: MonoMs, hold?: WatchdogHold): Promise<void>;
  close(): Promise<void>;
}

/**
 * STONITH: make a node certainly unable to take writes from outside MySQL (kill its mysqld,
 * power off its host). Used by a guardian whose SQL fence cannot reach a hung writer.
 * Optional: without one, a writer that hangs is never failed over automatically.
 */
export interface NodeShooter {
  /** Must give up (and report failure) by `deadline`. */
  shoot(node: string, deadline: MonoMs): Promise<{ ok: boolean; detail: string }>;
}

export class DeadlineExceededError extends Error {
  override name = 'DeadlineExceededError';
}

/**
 * Added for the guardian: the server is known not to be running (its host refused the
 * connection, ECONNREFUSED), as opposed to unreachable or slow (a timeout). A server that does
 * not run cannot accept writes, and comes back with read_only=ON from its config, so its
 * guardian may confirm it "dead" (invariant 4). Adapters that cannot tell should not use it:
 * a timeout never counts as dead (a SIGSTOPped server resumes writable).
 */
export class ServerDownError extends Error {
  override name = 'ServerDownError';
}
