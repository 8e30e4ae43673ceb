/**
 * The guardian duty of a coordinator for the nodes in its own colo (invariant 4). Runs on every
 * coordinator, leader or not, on every cycle, with only local knowledge:
 * - while our session is provably valid (now < validUntil), the writer record's node gets
 *   read_only=OFF and every other local node read_only=ON;
 * - when it is not provably valid, the local writer is fenced (read_only=ON + kill client
 *   connections): another leader may already be promoting elsewhere.
 * - when our own (debounced) probes say the local writer is down and a failover away from it is
 *   under way (its journal), it is fenced blind: a hung server would otherwise resume writable
 *   after the leader promoted elsewhere. Without a failover it is left alone: a stall that ends
 *   by itself costs no fence and no new epoch.
 * Once we fenced the writer of an epoch we never reopen it at that same epoch: our view of the
 * writer record may be stale after a session blip, and the leader may have acted on our fence
 * report. The leader reopens it by committing a newer epoch (reason `writer-reopen`). Publish
 * `fencedEpoch` as GuardianStatus.fenceIssued and the confirmed set as fencedWriter.
 */

import type { CoreEvent } from './decision.js';
import type { MonoMs, NodeObservation } from './observation.js';
import { PRE_COMMIT_STEPS, type OperationJournal } from './operation.js';
import type { ReasonCode } from './reasons.js';
import type { WriterRecord } from './snapshot.js';
import type { ClusterSpec } from './topology.js';

export interface GuardianInput {
  spec: ClusterSpec;
  colo: string;
  /** Writer record as last read from etcd (may be stale; see the epoch rule above). */
  writer?: WriterRecord;
  /** In-flight operation journal, if the loop has it: keeps a switching-away writer closed. */
  operation?: OperationJournal;
  /** This coordinator's own latest observations of its colo's nodes. */
  observations: NodeObservation[];
  /** Epoch at which this guardian last fenced the writer (its own memory, published too). */
  fencedEpoch?: number;
  now: MonoMs;
  /** Session.validUntil(): our own conservative lease deadline. */
  sessionValidUntil: MonoMs;
  /**
   * Set while this process has never held a session, until its first one has had a fair chance
   * (two session TTLs from start: coordinator/loop.ts): see the rule in guard().
   */
  startupGraceUntil?: MonoMs;
}

export type GuardianAction =
  /** read_only=ON + kill client connections (never replication/system/own threads). */
  | { type: 'fence'; node: string; reason: ReasonCode; message: string }
  /** read_only=ON only: a non-writer that drifted writable, with no writer role to protect. */
  | { type: 'set-read-only'; node: string; reason: ReasonCode; message: string }
  /** read_only=OFF: only ever on the node the writer record names, with a valid session. */
  | { type: 'open-writes'; node: string; epoch: number; reason: ReasonCode; message: string };

export interface GuardianDecision {
  actions: GuardianAction[];
  events: CoreEvent[];
  /** Set when this decision fences the local writer: the loop remembers and publishes it. */
  fencedEpoch?: number;
}

export function guard(input: GuardianInput): GuardianDecision {
  const { spec, colo, writer, operation, now, sessionValidUntil } = input;
  const localNodes = spec.nodes.filter((n) => n.colo === colo);
  const observed = new Map(input.observations.map((o) => [o.node, o]));
  const actions: GuardianAction[] = [];
  const events: CoreEvent[] = [];
  const sessionValid = now < sessionValidUntil;
  let fencedEpoch = input.fencedEpoch;

  for (const node of localNodes) {
    const obs = observed.get(node.name);
    const isWriter = writer?.node === node.name;

    if (!sessionValid) {
      // A process that has not held a session yet has vouched for nothing and holds no lease that
      // anyone waits on: to the others it is a coordinator that has not started, whose writer the
      // watchdog or the leader's STONITH covers. Fencing a writable local node here, before a
      // slow first login (TLS, etcd auth on a busy host) completes, closed the lab's open a1 and
      // handed the writer role to b1. Once the grace is over without a session, fence.
      if (input.startupGraceUntil !== undefined && now < input.startupGraceUntil) continue;
      // Fence the writer even if our last probe says read-only: that probe may predate a reopen.
      if (isWriter || obs?.readOnly === false) {
        actions.push({
          type: 'fence',
          node: node.name,
          reason: 'guardian-session-invalid',
          message: `session not provably valid (now ${now} >= validUntil ${sessionValidUntil}): fencing ${node.name}`,
        });
        if (isWriter && writer) fencedEpoch = writer.epoch;
      }
      continue;
    }

    if (!isWriter) {
      // Before the first writer record there is no desired state to enforce: the first leader
      // adopts the node that already takes writes (bootstrap). Fencing it here would make every
      // first start an outage and hand the writer role to whichever candidate ranks first.
      if (obs?.readOnly === false && writer !== undefined) {
        actions.push({
          type: 'fence',
          node: node.name,
          reason: 'guardian-enforce-read-only',
          message: `${node.name} is writable but the writer is ${writer?.node ?? 'unset'}`,
        });
      }
      continue;
    }

    // The writer record names this local node and our session is valid.
    if (!writer) continue;
    if (obs?.health === 'down' && (fencedEpoch === undefined || fencedEpoch < writer.epoch)) {
      if (!operationHoldsClosed(operation, node.name, writer.epoch)) {
        // A stall (GC pause, I/O hiccup, busy host) ends by itself: fenced now, it would end in
        // a fence, a new epoch and a longer outage than the stall (issue 13). The leader starts
        // a failover when the quorum agrees it is gone, and waits for us (operation-steps.ts).
        events.push({
          level: 'warn',
          reason: 'guardian-writer-down-waiting',
          node: node.name,
          message: `local writer ${node.name} is down by our probes; left as it is until a failover away from it is under way`,
        });
        continue;
      }
      // A failover is under way: fence blind. A hung server executes the queued fence when it
      // resumes, a crashed one restarts read-only; either way it stays closed at this epoch,
      // which is what lets the leader promote elsewhere (GuardianStatus.fenceIssued).
      actions.push({
        type: 'fence',
        node: node.name,
        reason: 'guardian-writer-down',
        message: `local writer ${node.name} is down by our probes: fencing it and holding it closed at epoch ${writer.epoch}`,
      });
      fencedEpoch = writer.epoch;
      continue;
    }
    if (obs?.readOnly !== true) {
      // An operation moving the writer away waits for our promise before it fences (its write
      // gap then holds no round trip to us): we give it while the writer is still open, since
      // we open nothing the journal moves away from (operation-steps.ts, fence-old).
      if (obs?.readOnly === false && operationHoldsClosed(operation, node.name, writer.epoch)) {
        events.push({
          level: 'info',
          reason: 'guardian-hold-operation',
          node: node.name,
          message: `${operation?.kind} ${operation?.id} is moving the writer away from ${node.name}: it stays as it is until fenced`,
        });
      }
      continue;
    }
    if (fencedEpoch !== undefined && fencedEpoch >= writer.epoch) {
      events.push({
        level: 'warn',
        reason: 'guardian-hold-fenced',
        node: node.name,
        message: `${node.name} was fenced by this guardian at epoch ${fencedEpoch}; waiting for a newer epoch`,
      });
      continue;
    }
    if (operationHoldsClosed(operation, node.name, writer.epoch)) {
      events.push({
        level: 'info',
        reason: 'guardian-hold-operation',
        node: node.name,
        message: `${operation?.kind} ${operation?.id} is moving the writer away from ${node.name}`,
      });
      continue;
    }
    actions.push({
      type: 'open-writes',
      node: node.name,
      epoch: writer.epoch,
      reason: 'guardian-open-writer',
      message: `writer record names ${node.name} at epoch ${writer.epoch}: read_only=OFF`,
    });
  }

  return fencedEpoch === undefined ? { actions, events } : { actions, events, fencedEpoch };
}

/** Before the commit, a switchover/failover away from `node` must find it closed. */
function operationHoldsClosed(operation: OperationJournal | undefined, node: string, epoch: number): boolean {
  if (!operation || operation.from !== node || operation.previousEpoch !== epoch) return false;
  return PRE_COMMIT_STEPS.includes(operation.step);
}
