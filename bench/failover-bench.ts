/**
 * The benchmark suite (issue 13), on the real lab:
 *   npm run bench -- [--scenario NAME | --scenarios A,B] [--wan PROFILE] [--runs N]
 *                    [--policy availability|consistency] [--out DIR] [--idle-seconds S]
 * Each run starts its own lab on the profile, applies its scenario's fault and measures, from a
 * client and an outside read_only sampler, the write outage, lost and misdirected acknowledged
 * writes, times to detect and promote, fences and epoch changes (bench/suite/measures.ts). It prints
 * a line per run and a table at the end, and writes report.json, report.md and an SVG timeline
 * per run to <out>/<timestamp>/. Scenarios: bench/suite/registry.ts; goals: bench/goals.ts.
 */
import { DEFAULT_TIMINGS } from '../src/core/timings.js';
import { DEFAULT_WAN_PROFILE } from '../src/lab/wan-profile.js';
import { oneWayMs } from './goals.js';
import { USAGE, parseSuiteArgs } from './suite/cli.js';
import { describeEnvironment } from './suite/environment.js';
import { formatIdle, idleFootprint } from './suite/idle-footprint.js';
import { caseName, formatDuration, planSuite, TIME_BUDGET_SECONDS } from './suite/plan.js';
import { progressLine } from './suite/progress.js';
import { SCENARIOS } from './suite/registry.js';
import { caseReport, type SuiteReport } from './suite/report.js';
import { prepareResultsDir, writeReport, writeTimeline } from './suite/report-files.js';
import type { RunFailure, RunOutcome, RunRecord } from './suite/run-record.js';
import { terminalTable } from './suite/terminal-table.js';

function usage(message: string): never {
  console.error(`bench: ${message} (npm run bench -- --help lists the flags and scenarios)`);
  process.exit(2);
}

const options = parseSuiteArgs(process.argv.slice(2));
if ('error' in options) usage(options.error);
if (options.help) {
  console.log(
    `${USAGE}\nScenarios:\n${SCENARIOS.map((s) => `  ${s.name.padEnd(24)} ${s.description} (${s.policies.join(', ')})`).join('\n')}`,
  );
  process.exit(0);
}
const plan = planSuite(options, SCENARIOS);
if ('error' in plan) usage(plan.error);

const wan = options.wan ?? DEFAULT_WAN_PROFILE;
const startedAt = new Date();
const dir = prepareResultsDir(options.out, startedAt);
const report: SuiteReport = {
  startedAt: startedAt.toISOString(),
  finishedAt: null,
  environment: describeEnvironment(),
  settings: {
    wan,
    oneWayMs: oneWayMs(wan),
    runs: plan.runs,
    scenarios: plan.cases.map(caseName),
    sessionTtlMs: DEFAULT_TIMINGS.sessionTtlMs,
  },
  estimatedSeconds: plan.estimatedSeconds,
  cases: [],
  idle: [],
};

const budget =
  plan.estimatedSeconds > TIME_BUDGET_SECONDS
    ? ` (over the default suite's ${TIME_BUDGET_SECONDS / 60} min budget)`
    : '';
console.log(
  `WAN profile ${wan}: L = ${oneWayMs(wan)} ms one way; ${plan.cases.length} scenario(s) × ${plan.runs} run(s): ` +
    `${plan.cases.map(caseName).join(', ')}; estimated ${formatDuration(plan.estimatedSeconds)}${budget}; results in ${dir}`,
);

const steps = plan.cases.length * plan.runs;
let step = 0;
let remainingSeconds = plan.estimatedSeconds;
for (const c of plan.cases) {
  const name = caseName(c);
  const records: RunRecord[] = [];
  const failures: RunFailure[] = [];
  const identity = {
    name,
    scenario: c.scenario.name,
    policy: c.policy,
    description: c.scenario.description,
    runsPlanned: plan.runs,
  };
  const goals = c.scenario.goals(wan, c.policy);
  for (let run = 1; run <= plan.runs; run++) {
    step++;
    const runStartedAt = new Date();
    const started = Date.now();
    let outcome: RunOutcome;
    try {
      const result = await c.scenario.run({
        wan,
        policy: c.policy,
        flapMinutes: options.flapMinutes,
        ...(options.seed === undefined ? {} : { seed: options.seed }),
      });
      outcome = {
        ok: true,
        scenario: c.scenario.name,
        policy: c.policy,
        run,
        startedAt: runStartedAt.toISOString(),
        durationMs: Date.now() - started,
        ...result,
      };
      const { ok: _ok, ...record } = outcome;
      records.push(record);
      await writeTimeline(dir, identity, record, wan).catch((error: Error) =>
        console.log(`timeline of ${name} run ${run} not drawn: ${error.message}`),
      );
    } catch (error) {
      outcome = {
        ok: false,
        scenario: c.scenario.name,
        policy: c.policy,
        run,
        startedAt: runStartedAt.toISOString(),
        durationMs: Date.now() - started,
        error: (error as Error).message,
      };
      const { ok: _ok, ...failure } = outcome;
      failures.push(failure);
    }
    remainingSeconds -= c.scenario.estimatedRunSeconds;
    console.log(
      progressLine({ step, steps, caseName: name, run, runs: plan.runs, remainingSeconds }, outcome),
    );
    report.cases = [
      ...report.cases.filter((x) => x.name !== name),
      caseReport(identity, goals, records, failures),
    ];
    writeReport(dir, report);
  }
}

if (options.idleSeconds > 0) {
  try {
    report.idle = await idleFootprint(options.idleSeconds, wan);
    report.idle.forEach((sample) => console.log(formatIdle(sample)));
  } catch (error) {
    console.log(`idle footprint not measured: ${(error as Error).message}`);
  }
}
report.finishedAt = new Date().toISOString();
writeReport(dir, report);
console.log('');
for (const line of terminalTable(report.cases)) console.log(line);
console.log(
  `\n${formatDuration((Date.now() - startedAt.getTime()) / 1000)} in all; report: ${dir}/report.md, report.json and timeline-*.svg`,
);
