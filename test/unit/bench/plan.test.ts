import { describe, expect, it } from 'vitest';
import {
  caseName,
  DEFAULT_RUNS,
  planSuite,
  TIME_BUDGET_SECONDS,
  type PlannableScenario,
} from '../../../bench/suite/plan.js';
import { SCENARIOS } from '../../../bench/suite/registry.js';
import { DEFAULT_IDLE_SECONDS } from '../../../bench/suite/cli.js';

const kill: PlannableScenario = {
  name: 'kill',
  policies: ['availability', 'consistency'],
  inDefaultSuite: ['availability', 'consistency'],
  estimatedRunSeconds: 30,
};
const semisync: PlannableScenario = {
  name: 'semisync-kill',
  policies: ['consistency'],
  inDefaultSuite: ['consistency'],
  estimatedRunSeconds: 50,
};
const routed: PlannableScenario = {
  name: 'kill-routed',
  policies: ['availability'],
  inDefaultSuite: [],
  estimatedRunSeconds: 40,
};
const registry = [kill, semisync, routed];
const defaults = { scenarios: undefined, policy: undefined, runs: undefined, idleSeconds: 0 };

describe('the suite plan', () => {
  it('runs the default suite under every policy a scenario lists for it', () => {
    const plan = planSuite(defaults, registry);
    if ('error' in plan) throw new Error(plan.error);
    expect(plan.cases.map(caseName)).toEqual(['kill', 'kill (consistency)', 'semisync-kill']);
    expect(plan.runs).toBe(DEFAULT_RUNS);
  });

  it('keeps only one policy when asked', () => {
    const plan = planSuite({ ...defaults, policy: 'consistency' }, registry);
    expect('error' in plan ? plan.error : plan.cases.map(caseName)).toEqual([
      'kill (consistency)',
      'semisync-kill',
    ]);
  });

  it('runs a named scenario under its own default policy', () => {
    const plan = planSuite({ ...defaults, scenarios: ['semisync-kill', 'kill-routed'] }, registry);
    expect('error' in plan ? plan.error : plan.cases.map((c) => c.policy)).toEqual([
      'consistency',
      'availability',
    ]);
  });

  it('refuses a policy the scenario does not run under, and an unknown scenario', () => {
    expect(planSuite({ ...defaults, scenarios: ['kill-routed'], policy: 'consistency' }, registry)).toEqual({
      error: 'kill-routed runs only under availability, not consistency',
    });
    expect(planSuite({ ...defaults, scenarios: ['nope'] }, registry)).toMatchObject({
      error: expect.stringContaining('unknown scenario nope'),
    });
  });

  it('estimates runs × per-run time, plus the idle measurement when there is one', () => {
    const plan = planSuite({ ...defaults, scenarios: ['kill'], runs: 3, idleSeconds: 30 }, registry);
    expect('error' in plan ? plan.error : plan.estimatedSeconds).toBeGreaterThan(3 * 30 + 30);
    const noIdle = planSuite({ ...defaults, scenarios: ['kill'], runs: 3 }, registry);
    expect('error' in noIdle ? noIdle.error : noIdle.estimatedSeconds).toBe(90);
  });

  it('fits the real default suite in its 15 minutes', () => {
    const plan = planSuite({ ...defaults, idleSeconds: DEFAULT_IDLE_SECONDS }, SCENARIOS);
    if ('error' in plan) throw new Error(plan.error);
    expect(plan.estimatedSeconds).toBeLessThanOrEqual(TIME_BUDGET_SECONDS);
    expect(new Set(plan.cases.map(caseName)).size).toBe(plan.cases.length);
  });
});
