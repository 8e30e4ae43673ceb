/**
 * Quiet-time pacing: while nothing is wrong, a coordinator probes and reads less. Probes and
 * etcd reads are nearly all of an idle coordinator's work, and most of them only confirm that
 * nothing changed. Anything wrong brings back the full pace at once, so a failure is handled
 * from state and reports exactly as fresh as before; what quiet time delays is noticing what
 * no probe of ours can show (an operator's intent, another observer's report), by at most one
 * quiet interval.
 */

import type { MonoMs, NodeObservation } from './observation.js';

export interface ProbePlanInput {
  /** Every node of the cluster, in spec order. */
  nodes: readonly string[];
  /** Nodes probed every cycle whatever their state (the writer, the local candidates). */
  everyCycle: readonly string[];
  /** This observer's last observation of each node it has probed. */
  last: ReadonlyMap<string, NodeObservation>;
  now: MonoMs;
  quietIntervalMs: number;
  /** An operation is in flight or the writer is unknown: probe everything. */
  busy: boolean;
}

/**
 * The nodes to probe now, in spec order. Every cycle: the writer (as last read) and this
 * coordinator's own colo's candidates (the quorum's failure detection and the guardian's fence
 * and open act on them), and any node in trouble (so hysteresis completes at full speed and a
 * stray writer is fenced). Every other node at least every `quietIntervalMs`. Trouble on a node
 * probed every cycle, an operation in flight or an unknown writer probes everything every
 * cycle. Sparse probes only make replica silence look shorter at the first dense probe (the
 * channel's set changed since the sparse one, so its clock restarts there): silence is then
 * declared later, never sooner.
 */
export function nodesToProbe(input: ProbePlanInput): string[] {
  const { nodes, everyCycle, last, now, quietIntervalMs } = input;
  // The writer is writable, and a local candidate's writability is the guardian's business:
  // only elsewhere does read_only OFF mean trouble.
  const inTrouble = (node: string): boolean => {
    const obs = last.get(node);
    return obs === undefined || troubled(obs) || (obs.readOnly === false && !everyCycle.includes(node));
  };
  if (input.busy || everyCycle.some(inTrouble)) return [...nodes];
  return nodes.filter(
    (node) =>
      everyCycle.includes(node) ||
      inTrouble(node) ||
      now - (last.get(node)?.observedAt ?? -Infinity) >= quietIntervalMs,
  );
}

export interface StateReadInput {
  /**
   * The last read showed an operation in flight or a pending intent, or the last decision was
   * not steady, or no read has succeeded yet.
   */
  busy: boolean;
  /** The writer record's node as last read. */
  writer?: string;
  /** This cycle's observations (the latest of every node). */
  observations: readonly NodeObservation[];
  now: MonoMs;
  lastReadAt: MonoMs;
  quietIntervalMs: number;
}

/**
 * Whether to read the cluster state from etcd this cycle. Quiet means: nothing in flight, and
 * every node as it should be (reachable, up, replicating, and writable exactly when it is the
 * writer). Then once per quiet interval. A guardian opens writes only on a record read in the
 * same cycle, and a writer it must open is read-only, which is not quiet: the read happens.
 */
export function stateReadDue(input: StateReadInput): boolean {
  const { writer } = input;
  if (input.busy || writer === undefined) return true;
  if (input.now - input.lastReadAt >= input.quietIntervalMs) return true;
  return input.observations.some(
    (obs) => troubled(obs) || obs.readOnly === undefined || obs.readOnly !== (obs.node !== writer),
  );
}

function troubled(obs: NodeObservation): boolean {
  if (!obs.reachable || obs.health === 'down') return true;
  return (obs.replication ?? []).some((ch) => ch.ioState !== 'yes' || !ch.sqlRunning);
}
