/**
 * Which scenario runs under which policy, how many times, and how long that should take. Pure:
 * it takes the registry as an argument so that its rules are unit-tested without a lab.
 */
import type { Policy } from '../goals.js';
import type { SuiteOptions } from './cli.js';

export interface PlannableScenario {
  name: string;
  policies: readonly Policy[];
  inDefaultSuite: readonly Policy[];
  estimatedRunSeconds: number;
}

export interface SuiteCase<S extends PlannableScenario = PlannableScenario> {
  scenario: S;
  policy: Policy;
}

export interface SuitePlan<S extends PlannableScenario = PlannableScenario> {
  cases: SuiteCase<S>[];
  runs: number;
  estimatedSeconds: number;
}

/**
 * The default suite runs each scenario once: every scenario of issue 13 in one sitting, within the
 * 15 minutes it allows on this machine. Statistics over several runs take `--runs N --scenario X`.
 */
export const DEFAULT_RUNS = 1;
export const TIME_BUDGET_SECONDS = 15 * 60;
/** Lab up, 10 s settle, then the measured idle time, then lab down. */
export const IDLE_OVERHEAD_SECONDS = 30;

/** The name a case goes by in tables and file names: the policy only when it is not the scenario's default. */
export function caseName(c: SuiteCase): string {
  return c.policy === c.scenario.policies[0] ? c.scenario.name : `${c.scenario.name} (${c.policy})`;
}

export function caseSlug(c: SuiteCase): string {
  return `${c.scenario.name}-${c.policy}`;
}

export function planSuite<S extends PlannableScenario>(
  options: Pick<SuiteOptions, 'scenarios' | 'policy' | 'runs' | 'idleSeconds'>,
  registry: readonly S[],
): SuitePlan<S> | { error: string } {
  const cases: SuiteCase<S>[] = [];
  if (options.scenarios === undefined) {
    for (const scenario of registry) {
      for (const policy of scenario.inDefaultSuite) {
        if (options.policy === undefined || options.policy === policy) cases.push({ scenario, policy });
      }
    }
  } else {
    for (const name of options.scenarios) {
      const scenario = registry.find((s) => s.name === name);
      if (!scenario)
        return { error: `unknown scenario ${name}: one of ${registry.map((s) => s.name).join(', ')}` };
      const policy = options.policy ?? (scenario.policies[0] as Policy);
      if (!scenario.policies.includes(policy))
        return { error: `${name} runs only under ${scenario.policies.join(' or ')}, not ${policy}` };
      cases.push({ scenario, policy });
    }
  }
  if (cases.length === 0) return { error: `no scenario of the default suite runs under ${options.policy}` };
  const runs = options.runs ?? DEFAULT_RUNS;
  const idle = options.idleSeconds > 0 ? options.idleSeconds + IDLE_OVERHEAD_SECONDS : 0;
  const estimatedSeconds = cases.reduce((sum, c) => sum + runs * c.scenario.estimatedRunSeconds, 0) + idle;
  return { cases, runs, estimatedSeconds };
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
