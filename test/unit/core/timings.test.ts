import { describe, expect, it } from 'vitest';
import {
  coreTimings,
  DEFAULT_CORE_CONFIG,
  DEFAULT_TIMINGS,
  deriveTimings,
  joinTimings,
  loopTimings,
  timingProblems,
  watchdogTimingProblem,
  WATCHDOG_SLACK_MS,
  WATCHDOG_TICK_MS,
  type TimingRule,
  type TimingSettings,
} from '../../../src/core/index.js';

const d = DEFAULT_TIMINGS;
const rulesBroken = (t: TimingSettings, watchdog = false): TimingRule[] =>
  timingProblems(t, { watchdog }).map((p) => p.rule);

describe('the default timings', () => {
  it('meet every rule, the watchdog’s too', () => {
    expect(timingProblems(d, { watchdog: true })).toEqual([]);
  });

  it('are the decision core’s defaults too', () => {
    expect(DEFAULT_CORE_CONFIG.reportFreshMs).toBe(d.reportFreshMs);
    expect(DEFAULT_CORE_CONFIG.health).toEqual({
      downAfterFailures: d.downAfterFailures,
      downAfterMs: d.downAfterMs,
      upAfterSuccesses: d.upAfterSuccesses,
      replicaSilenceMs: deriveTimings(d).replicaSilenceMs,
    });
  });

  it('cannot be changed by accident', () => {
    expect(Object.isFrozen(d)).toBe(true);
  });
});

describe('timingProblems', () => {
  // Each rule just kept and just broken, from the defaults (cycle 200, probe 150, store 500,
  // TTL 4000, refresh 1000, quiet 1000, fresh 2500, 3 failures over 300 ms).
  it.each<[string, Partial<TimingSettings>, TimingRule[]]>([
    ['probe just within the cycle', { probeTimeoutMs: 199 }, []],
    ['probe as long as the cycle', { probeTimeoutMs: 200 }, ['probe-within-cycle']],
    ['TTL just over 3 × (store + cycle)', { sessionTtlMs: 2101 }, []],
    ['TTL of 3 × (store + cycle)', { sessionTtlMs: 2100 }, ['fence-before-lease-expiry']],
    ['hysteresis just under 5 TTLs', { downAfterMs: 19_999 }, []],
    ['hysteresis of 5 TTLs (by time)', { downAfterMs: 20_000 }, ['detection-within-ttls']],
    [
      'hysteresis of 5 TTLs (by failures)',
      { downAfterFailures: 26, cycleIntervalMs: 1000, sessionTtlMs: 5000 },
      ['detection-within-ttls'],
    ],
    ['quiet interval of one cycle', { quietProbeIntervalMs: 200 }, []],
    ['quiet interval below a cycle', { quietProbeIntervalMs: 199 }, ['quiet-spaces-out']],
    ['quiet read just before a report goes stale', { quietProbeIntervalMs: 1499 }, []],
    ['quiet read as a report goes stale', { quietProbeIntervalMs: 1500 }, ['quiet-read-before-stale']],
    [
      'refresh as slow as freshness',
      { publishRefreshMs: 2500 },
      ['quiet-read-before-stale', 'refresh-before-stale'],
    ],
    [
      'refresh as slow as freshness, no quiet time',
      { publishRefreshMs: 2500, quietProbeIntervalMs: undefined },
      ['refresh-before-stale'],
    ],
    ['no quiet time at all', { quietProbeIntervalMs: undefined }, []],
  ])('%s', (_name, change, broken) => {
    expect(rulesBroken({ ...d, ...change })).toEqual(broken);
  });

  it('names the field to change and why', () => {
    expect(timingProblems({ ...d, sessionTtlMs: 1500 }, { watchdog: false })).toEqual([
      {
        rule: 'fence-before-lease-expiry',
        field: 'sessionTtlMs',
        message:
          'must exceed 3 × (storeTimeoutMs + cycleIntervalMs) = 2100: otherwise the guardian cannot fence before its lease expires',
      },
    ]);
  });

  it.each<[string, Partial<TimingSettings>, number]>([
    ['the defaults but a 3 s TTL', { sessionTtlMs: 3000 }, 3450],
    [
      'the simulation’s coarse timings',
      { cycleIntervalMs: 500, probeTimeoutMs: 300, storeTimeoutMs: 800, quietProbeIntervalMs: 1000 },
      5025,
    ],
  ])('with the watchdog, refuses a TTL too short for a once-a-second event: %s', (_name, change, minTtl) => {
    const t = { ...d, ...change };
    expect(watchdogTimingProblem(t)?.message).toContain(`sessionTtlMs of at least ${minTtl}`);
    expect(rulesBroken(t, true)).toContain('watchdog-stamp-outlasts-cycles');
    expect(rulesBroken(t, false)).not.toContain('watchdog-stamp-outlasts-cycles');
    expect(watchdogTimingProblem({ ...t, sessionTtlMs: minTtl })).toBeUndefined();
  });
});

describe('deriveTimings', () => {
  it.each<[string, Partial<TimingSettings>, ReturnType<typeof deriveTimings>]>([
    [
      'the defaults',
      {},
      {
        stampTimeoutMs: 150,
        standInMaxHoldMs: 1266,
        replicaSilenceMs: 1000,
        etcdCallTimeoutMs: 1000,
        raftLeaderCheckTimeoutMs: 1000,
        mysqlAnswerAllowanceMs: 150,
        fenceCommandBoundMs: 5000,
      },
    ],
    [
      'slower timings',
      {
        cycleIntervalMs: 500,
        probeTimeoutMs: 300,
        storeTimeoutMs: 800,
        commandTimeoutMs: 800,
        sessionTtlMs: 3000,
      },
      {
        stampTimeoutMs: 300,
        standInMaxHoldMs: 450,
        replicaSilenceMs: 2500,
        etcdCallTimeoutMs: 1600,
        raftLeaderCheckTimeoutMs: 1600,
        mysqlAnswerAllowanceMs: 300,
        fenceCommandBoundMs: 4000,
      },
    ],
  ])('%s', (_name, change, derived) => {
    expect(deriveTimings({ ...d, ...change })).toEqual(derived);
  });

  it('never declares a replica silent within a second, however short the cycle', () => {
    expect(deriveTimings({ ...d, cycleIntervalMs: 50, probeTimeoutMs: 40 }).replicaSilenceMs).toBe(1000);
  });

  it('ends the stand-in’s last stamp within two thirds of a TTL', () => {
    const { standInMaxHoldMs, stampTimeoutMs } = deriveTimings(d);
    const closedAfterMs = stampTimeoutMs + standInMaxHoldMs + WATCHDOG_TICK_MS + WATCHDOG_SLACK_MS;
    expect(closedAfterMs).toBeLessThanOrEqual((2 * d.sessionTtlMs) / 3);
  });
});

describe('the loop’s and the core’s halves', () => {
  it.each<[string, TimingSettings]>([
    ['the defaults', d],
    ['without quiet time', { ...d, quietProbeIntervalMs: undefined }],
  ])('join back into the settings: %s', (_name, t) => {
    const joined = joinTimings(loopTimings(t), coreTimings(t));
    expect(joined).toEqual(Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)));
  });
});
