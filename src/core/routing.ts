/**
 * What a load balancer asks a coordinator (issue 12): may writes go to this node, may reads?
 * Each answer comes from the coordinator's latest state, never from a call made for the check:
 * HAProxy checks every few hundred milliseconds, and a check that waited on etcd or MySQL would
 * fail exactly when those are slow, the moment an honest answer matters most.
 *
 * A "yes" for writes needs three independent facts to agree: the node is the writer recorded
 * in etcd at the epoch we last read, this coordinator can prove its etcd session (a coordinator
 * cut off from the quorum cannot know whether a failover happened since), and we last saw the
 * node writable. Any one of them stale or missing is a "no": a load balancer that sees no
 * writer stops writes, which is what the guardian's fence does to the server anyway.
 */

import type { MonoMs, NodeObservation } from './observation.js';

export interface RoutingView {
  now: MonoMs;
  /** The lease is provably alive right now (LeaseDeadline.valid()). */
  sessionValid: boolean;
  /** The writer record as last read, and when (this coordinator's clock). */
  writer?: { node: string; epoch: number };
  writerReadAt?: MonoMs;
  /** Older than this, a state read or an observation no longer counts. */
  freshForMs: number;
  /** This coordinator's own latest observation of each node. */
  observations: ReadonlyMap<string, NodeObservation>;
  /** Nodes in quarantine, as last read (undefined: not read yet). */
  quarantined?: ReadonlySet<string>;
}

export type CheckReason =
  | 'writer'
  | 'replica'
  | 'no-writer-recorded'
  | 'not-the-writer'
  | 'no-etcd-session'
  | 'state-stale'
  | 'not-observed'
  | 'observation-stale'
  | 'unreachable'
  | 'read-only'
  | 'writable'
  | 'quarantined'
  | 'quarantine-unknown'
  | 'not-replicating'
  | 'replication-broken'
  | 'replication-stopped'
  | 'lag-unknown'
  | 'lagging';

export interface CheckResult {
  ok: boolean;
  reason: CheckReason;
  message: string;
}

function no(reason: CheckReason, message: string): CheckResult {
  return { ok: false, reason, message };
}

/** The node's latest observation, when fresh enough to answer on. */
function freshObservation(view: RoutingView, node: string): NodeObservation | CheckResult {
  const obs = view.observations.get(node);
  if (!obs) return no('not-observed', `${node} has not been observed by this coordinator`);
  const ageMs = view.now - obs.observedAt;
  if (ageMs > view.freshForMs)
    return no('observation-stale', `${node} last observed ${Math.round(ageMs)} ms ago`);
  if (!obs.reachable) return no('unreachable', `${node} did not answer the last probe`);
  return obs;
}

function isResult(x: NodeObservation | CheckResult): x is CheckResult {
  return 'ok' in x;
}

/** 200 for HAProxy's write backend only when writes may go to `node` now. */
export function writerCheck(view: RoutingView, node: string): CheckResult {
  const writer = view.writer;
  if (!writer) return no('no-writer-recorded', 'no writer is recorded (or not read yet)');
  if (writer.node !== node)
    return no('not-the-writer', `${node} is not the writer (${writer.node} at epoch ${writer.epoch})`);
  if (!view.sessionValid) return no('no-etcd-session', 'this coordinator cannot prove its etcd session');
  const readAgo = view.now - (view.writerReadAt ?? -Infinity);
  if (readAgo > view.freshForMs)
    return no('state-stale', `the writer record was last read ${Math.round(readAgo)} ms ago`);
  const obs = freshObservation(view, node);
  if (isResult(obs)) return obs;
  if (obs.readOnly !== false) return no('read-only', `${node} is read-only (fenced or not yet opened)`);
  return { ok: true, reason: 'writer', message: `${node} is the writer at epoch ${writer.epoch}` };
}

export interface ReplicaCheckOptions {
  /** Lag above this is a "no" (heartbeat lag, or Seconds_Behind_Master when there is none). */
  maxLagMs: number;
  /** The writer answers yes too (while it passes the writer check). */
  includeWriter: boolean;
}

/** 200 for the read backend: `node` serves reads no further behind than `maxLagMs`. */
export function replicaCheck(view: RoutingView, node: string, options: ReplicaCheckOptions): CheckResult {
  if (options.includeWriter && view.writer?.node === node) {
    const asWriter = writerCheck(view, node);
    if (asWriter.ok) return asWriter;
  }
  if (view.quarantined === undefined)
    return no('quarantine-unknown', 'the quarantine list has not been read yet');
  if (view.quarantined.has(node)) return no('quarantined', `${node} is quarantined`);
  const obs = freshObservation(view, node);
  if (isResult(obs)) return obs;
  if (obs.readOnly !== true) return no('writable', `${node} is writable: not a replica`);
  const channel = obs.replication?.[0];
  if (!channel) return no('not-replicating', `${node} has no replication channel`);
  if (channel.error)
    return no(
      'replication-broken',
      `${node} replication ${channel.error.thread} thread stopped on error ${channel.error.errno}`,
    );
  if (channel.ioState === 'no' || !channel.sqlRunning)
    return no('replication-stopped', `${node} replication is stopped`);
  if (obs.lagMs === undefined) return no('lag-unknown', `${node} lag is unknown`);
  if (obs.lagMs > options.maxLagMs)
    return no('lagging', `${node} is ${Math.round(obs.lagMs)} ms behind (limit ${options.maxLagMs} ms)`);
  return { ok: true, reason: 'replica', message: `${node} is ${Math.round(obs.lagMs)} ms behind` };
}
