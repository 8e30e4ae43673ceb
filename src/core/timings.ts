/**
 * baton's timings, in one place (DESIGN.md "Coordinator process (`baton run`) and timings"):
 * - `TimingSettings`, what an operator sets (the config file's `timings` section), and
 *   `DEFAULT_TIMINGS`, the one set of defaults the file config, the loop and the core use;
 * - `timingProblems`, the rules between the settings: each keeps a safety or liveness argument
 *   true, so a config that breaks one is refused at load rather than found in an outage;
 * - `deriveTimings`, the values computed from the settings, each with why (three still live
 *   where they are used: DESIGN.md lists them under "Not yet there").
 *
 * The settings split in two for the code that runs on them: `LoopTimings` for the coordinator
 * loop, `CoreTimings` for the decision core (its `CoreConfig`). Deadlines that follow measured
 * link round trips belong in `deriveTimings` too, with the configured values as their floors.
 */

import type { CoreConfig } from './config.js';
import { WATCHDOG_SLACK_MS, WATCHDOG_TICK_MS, watchdogCloseAfterHoldMs } from './watchdog.js';

export interface TimingSettings {
  /** One observe → publish → decide → guard cycle this often. */
  cycleIntervalMs: number;
  /** Deadline of one probe of a MySQL server. */
  probeTimeoutMs: number;
  /** Deadline of one etcd call. */
  storeTimeoutMs: number;
  /** Deadline of one MySQL command (fence, read_only, repoint). */
  commandTimeoutMs: number;
  /** Session lease TTL: a coordinator silent this long is gone. */
  sessionTtlMs: number;
  /** Republish an unchanged report this often so the leader knows the observer is alive. */
  publishRefreshMs: number;
  /**
   * While all is quiet, nodes nothing depends on this cycle are probed this often instead of
   * every cycle, and the cluster state is read this often (core/quiet-pacing.ts). Undefined:
   * every node every cycle (the config file always sets it; the simulation leaves it out).
   */
  quietProbeIntervalMs?: number;
  /** A report not refreshed within this long is stale and its observer does not vote. */
  reportFreshMs: number;
  /** Hysteresis: down after this many consecutive failures… */
  downAfterFailures: number;
  /** …spanning at least this long. */
  downAfterMs: number;
  /** Up again after this many consecutive successes. */
  upAfterSuccesses: number;
}

export const DEFAULT_TIMINGS: Readonly<Required<TimingSettings>> = Object.freeze({
  cycleIntervalMs: 200,
  probeTimeoutMs: 150,
  storeTimeoutMs: 500,
  commandTimeoutMs: 1_000,
  // A hung etcd raft leader stops renewals for about 2 s; 4 s rides that out.
  sessionTtlMs: 4_000,
  publishRefreshMs: 1_000,
  quietProbeIntervalMs: 1_000,
  reportFreshMs: 2_500,
  downAfterFailures: 3,
  downAfterMs: 300,
  upAfterSuccesses: 3,
});

/** The settings the coordinator loop runs on. */
export type LoopTimings = Pick<
  TimingSettings,
  | 'cycleIntervalMs'
  | 'probeTimeoutMs'
  | 'storeTimeoutMs'
  | 'commandTimeoutMs'
  | 'sessionTtlMs'
  | 'publishRefreshMs'
  | 'quietProbeIntervalMs'
>;

/** The settings the decision core runs on, as its CoreConfig holds them. */
export type CoreTimings = Pick<CoreConfig, 'reportFreshMs' | 'health'>;

export function loopTimings(t: TimingSettings): LoopTimings {
  return {
    cycleIntervalMs: t.cycleIntervalMs,
    probeTimeoutMs: t.probeTimeoutMs,
    storeTimeoutMs: t.storeTimeoutMs,
    commandTimeoutMs: t.commandTimeoutMs,
    sessionTtlMs: t.sessionTtlMs,
    publishRefreshMs: t.publishRefreshMs,
    ...(t.quietProbeIntervalMs === undefined ? {} : { quietProbeIntervalMs: t.quietProbeIntervalMs }),
  };
}

export function coreTimings(t: TimingSettings): CoreTimings {
  return {
    reportFreshMs: t.reportFreshMs,
    health: {
      downAfterFailures: t.downAfterFailures,
      downAfterMs: t.downAfterMs,
      upAfterSuccesses: t.upAfterSuccesses,
      replicaSilenceMs: deriveTimings(t).replicaSilenceMs,
    },
  };
}

/** The settings back from the two halves, to check them together (`timingProblems`). */
export function joinTimings(loop: LoopTimings, core: CoreTimings): TimingSettings {
  const { downAfterFailures, downAfterMs, upAfterSuccesses } = core.health;
  return { ...loop, reportFreshMs: core.reportFreshMs, downAfterFailures, downAfterMs, upAfterSuccesses };
}

export interface DerivedTimings {
  /** Deadline of a watchdog stamp (the heartbeat write carrying a hold). */
  stampTimeoutMs: number;
  /** The longest hold the leader gives as a stand-in guardian (DESIGN.md "Watchdog"). */
  standInMaxHoldMs: number;
  /** A replica that heard nothing from its source this long is no evidence the source lives. */
  replicaSilenceMs: number;
  /** The etcd client's deadline for a call made without one of its own. */
  etcdCallTimeoutMs: number;
  /** Deadline of one check of where etcd's raft leader is (and a move of it). */
  raftLeaderCheckTimeoutMs: number;
  /** What a MySQL server may take to answer one step, before the link's round trip. */
  mysqlAnswerAllowanceMs: number;
  /** Bound of one run of a fence command (STONITH), before the lease and its own timeout. */
  fenceCommandBoundMs: number;
}

export function deriveTimings(t: LoopTimings): DerivedTimings {
  // A stamp is one small write, due every cycle: it gets a probe's deadline, not a command's.
  const stampTimeoutMs = t.probeTimeoutMs;
  return {
    stampTimeoutMs,
    // The leader's last stamp before a colo cut must run out before the cut guardian's lease can
    // expire, which is at least two thirds of a TTL after the cut (keepalives go every third of
    // it), or the stand-in would delay the failover.
    standInMaxHoldMs: standInMaxHoldMs(t.sessionTtlMs, stampTimeoutMs),
    // The writer's guardian stamps a heartbeat every cycle: five silent cycles mean the writer
    // stopped. Never below 1 s, the bound the hung-writer traces measured (at the default 200 ms
    // cycle): shorter cycles have not been measured.
    replicaSilenceMs: Math.max(1_000, 5 * t.cycleIntervalMs),
    // Every call of the loop carries its own storeTimeoutMs deadline; this backstop is for the
    // rest, and is looser so that it is never the one that fires first.
    etcdCallTimeoutMs: 2 * t.storeTimeoutMs,
    // One check is a few small calls (members, two status reads, perhaps a move) under one
    // deadline, off the decision path: looser than one loop call costs nothing.
    raftLeaderCheckTimeoutMs: 2 * t.storeTimeoutMs,
    // What a server may take to answer one step; every step also gets the link's measured round
    // trip (src/link-rtt.ts, coordinator/link-deadline.ts), so a far server is not held to a LAN's.
    mysqlAnswerAllowanceMs: t.probeTimeoutMs,
    // A fence command is a process (a power switch, a cloud API), far slower than one statement;
    // the loop also cuts it at the lease's provable validity and the daemon at
    // clusters[].fenceCommandTimeoutMs.
    fenceCommandBoundMs: 5 * t.commandTimeoutMs,
  };
}

/**
 * The longest hold the leader gives as a stand-in guardian, for a stamp whose statement may take
 * `stampTimeoutMs`: its last stamp before a colo cut must run out before the cut guardian's
 * lease can expire, which is at least two thirds of a TTL after the cut (keepalives go every
 * third of it), or the stand-in would delay the failover. A far writer's stamp has a longer
 * deadline (its link's round trips), so it gets a shorter hold.
 */
export function standInMaxHoldMs(sessionTtlMs: number, stampTimeoutMs: number): number {
  return Math.floor((2 * sessionTtlMs) / 3) - watchdogCloseAfterHoldMs(stampTimeoutMs);
}

export type TimingRule =
  | 'probe-within-cycle'
  | 'fence-before-lease-expiry'
  | 'detection-within-ttls'
  | 'quiet-spaces-out'
  | 'quiet-read-before-stale'
  | 'refresh-before-stale'
  | 'watchdog-stamp-outlasts-cycles';

export interface TimingProblem {
  rule: TimingRule;
  /** The setting to change, as the config file's `timings` section names it. */
  field: keyof TimingSettings;
  /** What is wrong and why it matters, naming other settings as `timings.<name>`. */
  message: string;
}

interface Rule {
  rule: TimingRule;
  field: keyof TimingSettings;
  /** The message when the rule is broken, else undefined. */
  check(t: TimingSettings): string | undefined;
}

const RULES: readonly Rule[] = [
  {
    // One cycle in flight: a probe that outlives its cycle delays the next, and with it the
    // guardian's stamps and fences.
    rule: 'probe-within-cycle',
    field: 'probeTimeoutMs',
    check: (t) =>
      t.probeTimeoutMs < t.cycleIntervalMs
        ? undefined
        : `must be below timings.cycleIntervalMs (${t.cycleIntervalMs}): one cycle in flight`,
  },
  {
    // The guardian must notice a lost session and fence before the lease can expire at etcd:
    // keepalives every TTL/3, each bounded by storeTimeoutMs, plus one cycle to act.
    rule: 'fence-before-lease-expiry',
    field: 'sessionTtlMs',
    check: (t) =>
      t.storeTimeoutMs + t.cycleIntervalMs < t.sessionTtlMs / 3
        ? undefined
        : `must exceed 3 × (storeTimeoutMs + cycleIntervalMs) = ${3 * (t.storeTimeoutMs + t.cycleIntervalMs)}: ` +
          'otherwise the guardian cannot fence before its lease expires',
  },
  {
    // Failover waits for quorum hysteresis and for the guardian's lease; hysteresis far slower
    // than the lease means a dead writer is declared down long after the lease has told.
    rule: 'detection-within-ttls',
    field: 'downAfterMs',
    check: (t) => {
      const detectMs = Math.max(t.downAfterMs, (t.downAfterFailures - 1) * t.cycleIntervalMs);
      return detectMs < t.sessionTtlMs * 5
        ? undefined
        : `hysteresis (${detectMs} ms) must be well below 5 × sessionTtlMs (${t.sessionTtlMs}), ` +
            "or a dead writer is declared down long after its guardian's lease has run out";
    },
  },
  {
    rule: 'quiet-spaces-out',
    field: 'quietProbeIntervalMs',
    check: (t) =>
      t.quietProbeIntervalMs === undefined || t.quietProbeIntervalMs >= t.cycleIntervalMs
        ? undefined
        : `must be at least timings.cycleIntervalMs (${t.cycleIntervalMs}): it spaces probes out, never in`,
  },
  {
    // A quiet leader reads reports once per quiet interval: a refreshed report must still be
    // seen before it looks stale.
    rule: 'quiet-read-before-stale',
    field: 'quietProbeIntervalMs',
    check: (t) =>
      t.quietProbeIntervalMs === undefined || t.quietProbeIntervalMs + t.publishRefreshMs < t.reportFreshMs
        ? undefined
        : `plus timings.publishRefreshMs (${t.publishRefreshMs}) must be below timings.reportFreshMs (${t.reportFreshMs}), or live observers look stale to a quiet leader`,
  },
  {
    rule: 'refresh-before-stale',
    field: 'publishRefreshMs',
    check: (t) =>
      t.publishRefreshMs < t.reportFreshMs
        ? undefined
        : `must be below timings.reportFreshMs (${t.reportFreshMs}), or live observers look stale`,
  },
];

/**
 * With the watchdog: right before a keepalive is answered (a third of a TTL after the last one,
 * plus one etcd call), a guardian's stamp must still hold for two cycles, or a writer would
 * close itself between two healthy stamps; the stand-in's hold likewise.
 */
const WATCHDOG_RULE: Rule = {
  rule: 'watchdog-stamp-outlasts-cycles',
  field: 'sessionTtlMs',
  check: (t) => {
    const { stampTimeoutMs, standInMaxHoldMs } = deriveTimings(t);
    const closeAfterHold = watchdogCloseAfterHoldMs(stampTimeoutMs);
    const guardianMinHold = t.sessionTtlMs - t.sessionTtlMs / 3 - t.storeTimeoutMs - closeAfterHold;
    const needed = 2 * t.cycleIntervalMs;
    if (guardianMinHold >= needed && standInMaxHoldMs >= needed) return undefined;
    const minTtl = Math.ceil((3 / 2) * (t.storeTimeoutMs + closeAfterHold + needed));
    return (
      `the watchdog needs sessionTtlMs of at least ${minTtl} with these timings (its event acts ` +
      `within ${WATCHDOG_TICK_MS + WATCHDOG_SLACK_MS} ms of a deadline that must fall before the ` +
      `stamper's lease can expire, and a stamp must outlast two cycles)`
    );
  },
};

function broken(rules: readonly Rule[], t: TimingSettings): TimingProblem[] {
  return rules.flatMap(({ rule, field, check }) => {
    const message = check(t);
    return message === undefined ? [] : [{ rule, field, message }];
  });
}

/** Every rule these settings break; with `watchdog`, the watchdog's rule too. Empty: usable. */
export function timingProblems(t: TimingSettings, options: { watchdog: boolean }): TimingProblem[] {
  return broken(options.watchdog ? [...RULES, WATCHDOG_RULE] : RULES, t);
}

/** The watchdog's rule alone (the config file asks it per cluster that runs the watchdog). */
export function watchdogTimingProblem(t: TimingSettings): TimingProblem | undefined {
  return broken([WATCHDOG_RULE], t)[0];
}

/**
 * How often a keepalive is sent. The longest etcd outage a session rides out is TTL - margin -
 * this interval (the last acknowledged keepalive may have been sent one interval before the
 * outage began): at TTL/3 a 4 s lease survived only 2.27 s of a colo cut in the worst phase,
 * at TTL/8 it survives 3.1 s (issue 13). Each keepalive is one small round trip to one member
 * (etcd 3.4 renews in the leader's memory, no raft write), so the cost is 8 per TTL.
 */
export function keepaliveIntervalMs(ttlMs: number): number {
  return Math.max(250, ttlMs / 8);
}

/**
 * The deadline of one etcd call: the configured allowance plus what a call to our nearest
 * healthy member measurably takes (a member across a WAN forwards to the raft leader, which
 * replicates to another site: several one-way delays before the answer). Never more than a
 * third of the session TTL: a call slower than a keepalive tick is of no use to a session.
 */
export function storeCallTimeoutMs(
  t: { storeTimeoutMs: number; sessionTtlMs: number },
  measuredRoundTripMs: number,
): number {
  return Math.max(t.storeTimeoutMs, Math.min(t.sessionTtlMs / 3, t.storeTimeoutMs + measuredRoundTripMs));
}
