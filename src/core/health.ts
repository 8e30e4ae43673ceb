/**
 * Health with hysteresis, and the quorum judgement of the writer's death.
 *
 * Each observer debounces its own probes (`updateHealth`, state carried between cycles by the
 * observer's loop) and publishes the verdict; the leader never counts raw probe failures,
 * because reports are written on change, not on every probe.
 *
 * The writer is dead only when (holistic, invariant 4 and "Unplanned failover"):
 * 1. a quorum (majority of all configured coordinators) of live observers say it is down —
 *    a coordinator that died or was cut off simply does not vote, so its death alone cannot
 *    trigger anything, and with a witness a cut WAN link leaves one side without a quorum;
 * 2. no reachable replica of the writer still has a running IO thread to it;
 * 3. the writer's own colo guardian agrees: its session is gone, or it fenced the writer at this
 *    epoch (confirmed, or a fence issued while the node was down/hung). "The guardian also sees
 *    it down" is not enough: a hung (SIGSTOPped) server resumes with read_only=OFF, and the
 *    simulation caught exactly that as two writers. A fence sent while it hung lands first.
 */

import type { HealthConfig } from './config.js';
import type { CoreConfig } from './config.js';
import type { HealthVerdict, MonoMs, NodeObservation, ObserverReport } from './observation.js';
import type { ReasonCode } from './reasons.js';
import { guardianOfNode, type ClusterSnapshot } from './snapshot.js';

/** Per observer and node; the observer's loop keeps it between probes. */
export interface ProbeHealthState {
  verdict: HealthVerdict;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** Time of the first failure of the current failure streak. */
  firstFailureAt?: MonoMs;
  /** When the verdict last changed. */
  changedAt?: MonoMs;
}

/** A node is presumed up until proven down: a restarted observer must not cause a failover. */
export const INITIAL_HEALTH: ProbeHealthState = {
  verdict: 'up',
  consecutiveFailures: 0,
  consecutiveSuccesses: 0,
};

export function updateHealth(
  previous: ProbeHealthState | undefined,
  probeSucceeded: boolean,
  now: MonoMs,
  config: HealthConfig,
): ProbeHealthState {
  const prev = previous ?? INITIAL_HEALTH;
  if (probeSucceeded) {
    const consecutiveSuccesses = prev.consecutiveSuccesses + 1;
    const comesUp = prev.verdict === 'down' && consecutiveSuccesses >= config.upAfterSuccesses;
    return {
      verdict: comesUp ? 'up' : prev.verdict,
      consecutiveFailures: 0,
      consecutiveSuccesses,
      ...(comesUp ? { changedAt: now } : prev.changedAt !== undefined ? { changedAt: prev.changedAt } : {}),
    };
  }
  const consecutiveFailures = prev.consecutiveFailures + 1;
  const firstFailureAt =
    prev.consecutiveFailures === 0 || prev.firstFailureAt === undefined ? now : prev.firstFailureAt;
  const goesDown =
    prev.verdict === 'up' &&
    consecutiveFailures >= config.downAfterFailures &&
    now - firstFailureAt >= config.downAfterMs;
  return {
    verdict: goesDown ? 'down' : prev.verdict,
    consecutiveFailures,
    consecutiveSuccesses: 0,
    firstFailureAt,
    ...(goesDown ? { changedAt: now } : prev.changedAt !== undefined ? { changedAt: prev.changedAt } : {}),
  };
}

// ---------------------------------------------------------------------------------------
// Observers and the quorum

/** Majority of the configured coordinators (not of the live ones: a cut-off minority never decides). */
export function quorumSize(snapshot: ClusterSnapshot): number {
  return Math.floor(snapshot.coordinators.length / 2) + 1;
}

/** Reports whose observer is configured, has a live session and refreshed recently. */
export function liveReports(snapshot: ClusterSnapshot, now: number, config: CoreConfig): ObserverReport[] {
  const configured = new Set(snapshot.coordinators.map((c) => c.name));
  return snapshot.reports.filter(
    (r) => configured.has(r.coordinator) && r.sessionAlive && now - r.receivedAt <= config.reportFreshMs,
  );
}

export function observationOf(report: ObserverReport, node: string): NodeObservation | undefined {
  return report.nodes.find((n) => n.node === node);
}

/**
 * The most useful view of a node among live reports: reachable beats unreachable, then the most
 * recently received report. Used for GTIDs, read_only and lag, not for health votes.
 */
export function bestObservation(reports: ObserverReport[], node: string): NodeObservation | undefined {
  let best: { obs: NodeObservation; receivedAt: number } | undefined;
  for (const report of reports) {
    const obs = observationOf(report, node);
    if (!obs) continue;
    if (
      !best ||
      (obs.reachable && !best.obs.reachable) ||
      (obs.reachable === best.obs.reachable && report.receivedAt > best.receivedAt)
    ) {
      best = { obs, receivedAt: report.receivedAt };
    }
  }
  return best?.obs;
}

/** True when a quorum of live observers currently says `node` is down. */
export function downByQuorum(snapshot: ClusterSnapshot, live: ObserverReport[], node: string): boolean {
  const down = live.filter((r) => observationOf(r, node)?.health === 'down').length;
  return down >= quorumSize(snapshot);
}

export interface WriterAssessment {
  dead: boolean;
  reason: ReasonCode;
  message: string;
  quorum: number;
  liveObservers: string[];
  downVotes: string[];
  upVotes: string[];
  /** Replicas that still stream from the writer (veto). */
  replicasSeeingWriter: string[];
  /**
   * Dead by every test but one: its colo's guardian is alive and has not closed it. The guardian
   * fences a writer it sees down only once a failover is under way (guardian.ts), so a failover
   * starts and asks it (issue 13: a guardian that fenced on its own turned every stall into a
   * fence and a new epoch).
   */
  guardianPending?: boolean;
}

export function assessWriter(snapshot: ClusterSnapshot, now: number, config: CoreConfig): WriterAssessment {
  const writer = snapshot.writer;
  const live = liveReports(snapshot, now, config);
  const quorum = quorumSize(snapshot);
  const base = {
    quorum,
    liveObservers: live.map((r) => r.coordinator),
    downVotes: [] as string[],
    upVotes: [] as string[],
    replicasSeeingWriter: [] as string[],
  };
  if (!writer) {
    return { ...base, dead: false, reason: 'no-quorum', message: 'no writer record' };
  }
  for (const report of live) {
    const verdict = observationOf(report, writer.node)?.health;
    if (verdict === 'down') base.downVotes.push(report.coordinator);
    else if (verdict === 'up') base.upVotes.push(report.coordinator);
  }
  if (live.length < quorum) {
    return {
      ...base,
      dead: false,
      reason: 'no-quorum',
      message: `only ${live.length} live observers (${base.liveObservers.join(', ')}); ${quorum} needed to judge ${writer.node}`,
    };
  }
  const votes = `down: [${base.downVotes.join(', ')}], up: [${base.upVotes.join(', ')}], quorum ${quorum} of ${snapshot.coordinators.length}`;
  if (base.downVotes.length === 0) {
    return {
      ...base,
      dead: false,
      reason: 'writer-healthy',
      message: `writer ${writer.node} is up (${votes})`,
    };
  }
  if (base.downVotes.length < quorum) {
    return {
      ...base,
      dead: false,
      reason: 'no-quorum',
      message: `not enough live observers agree writer ${writer.node} is down (${votes})`,
    };
  }

  base.replicasSeeingWriter = replicasStreamingFrom(live, writer.node, config.health.replicaSilenceMs);
  if (base.replicasSeeingWriter.length > 0) {
    return {
      ...base,
      dead: false,
      reason: 'writer-alive-per-replicas',
      message: `observers say ${writer.node} is down but ${base.replicasSeeingWriter.join(', ')} still stream from it (${votes})`,
    };
  }

  const guardianVerdict = writerGuardianAgrees(snapshot, live, writer.node, writer.epoch);
  if (!guardianVerdict.agrees) {
    return {
      ...base,
      dead: false,
      guardianPending: true,
      reason: 'skipped-guardian-alive',
      message: `writer ${writer.node} is down (${votes}); ${guardianVerdict.message}`,
    };
  }
  return {
    ...base,
    dead: true,
    reason: 'writer-dead-quorum',
    message: `writer ${writer.node} is down (${votes}); ${guardianVerdict.message}`,
  };
}

/**
 * Nodes still receiving from `source` (IO thread running and fed within `silenceMs`, see
 * HealthConfig.replicaSilenceMs), as any live observer sees them.
 */
export function replicasStreamingFrom(live: ObserverReport[], source: string, silenceMs: number): string[] {
  const out = new Set<string>();
  for (const report of live) {
    for (const obs of report.nodes) {
      if (obs.node === source || !obs.reachable) continue;
      const streaming = obs.replication?.some(
        (ch) =>
          ch.source === source &&
          ch.ioState === 'yes' &&
          (ch.receivedAgoMs === undefined || ch.receivedAgoMs <= silenceMs),
      );
      if (streaming) out.add(obs.node);
    }
  }
  return [...out].sort();
}

/**
 * Invariant 4: promote away from a writer only once its own guardian is gone, or has fenced it
 * or holds it closed at this epoch. Missing guardian status counts as gone (no coordinator guards that colo).
 */
export function writerGuardianAgrees(
  snapshot: ClusterSnapshot,
  _live: ObserverReport[],
  writerNode: string,
  writerEpoch: number,
  /** The leader's own fence of the writer was confirmed: an 'awaiting-fence' promise is enough. */
  fencedByUs = false,
): { agrees: boolean; message: string } {
  const { colo, guardian } = guardianOfNode(snapshot, writerNode);
  if (!guardian) return { agrees: true, message: `no guardian known for colo ${colo ?? '?'}` };
  if (!guardian.sessionAlive)
    return { agrees: true, message: `guardian ${guardian.coordinator} session is gone` };
  const fenced = guardian.fencedWriter;
  if (fenced && fenced.node === writerNode && fenced.epoch === writerEpoch) {
    return {
      agrees: true,
      message: `guardian ${guardian.coordinator} fenced ${writerNode} at epoch ${writerEpoch}`,
    };
  }
  const hold = guardian.holding;
  const counts = hold?.because !== 'awaiting-fence' || fencedByUs;
  if (hold && hold.node === writerNode && hold.epoch === writerEpoch && counts) {
    return {
      agrees: true,
      message: `guardian ${guardian.coordinator} holds ${writerNode} closed at epoch ${writerEpoch} (${hold.because})`,
    };
  }
  const issued = guardian.fenceIssued;
  if (issued && issued.node === writerNode && issued.epoch === writerEpoch) {
    return {
      agrees: true,
      message: `guardian ${guardian.coordinator} sent a fence to ${writerNode} at epoch ${writerEpoch} and holds it closed`,
    };
  }
  return {
    agrees: false,
    message: `guardian ${guardian.coordinator} of colo ${colo ?? '?'} is alive and has not fenced ${writerNode} at epoch ${writerEpoch}`,
  };
}
