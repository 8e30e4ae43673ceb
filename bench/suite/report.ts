/**
 * The suite's report as data (report.json): per scenario and policy, every run's record, each
 * measure's min / p50 / p99 / max over the runs that measured it (and why the others did not),
 * and each goal met or not. Pure.
 */
import type { Goal, Policy } from '../goals.js';
import type { Environment } from './environment.js';
import type { IdleSample } from './idle-footprint.js';
import { MEASURE_NAMES, MEASURES, type MeasureName, type Unit } from './measures.js';
import type { RunFailure, RunRecord } from './run-record.js';
import { statistic, summarize, type Summary } from './statistics.js';

export interface MeasureSummary {
  measure: MeasureName;
  label: string;
  unit: Unit;
  /** Over the runs that have a value; absent when none has. */
  summary?: Summary;
  /** Why the other runs have none, each reason once with how many runs gave it. */
  notMeasured: { why: string; runs: number }[];
}

export interface GoalVerdict extends Goal {
  /** The statistic over the runs; null when no run measured it. */
  value: number | null;
  /** null: not judged (nothing measured). */
  met: boolean | null;
}

export interface CaseReport {
  name: string;
  scenario: string;
  policy: Policy;
  description: string;
  runsPlanned: number;
  records: RunRecord[];
  failures: RunFailure[];
  measures: MeasureSummary[];
  goals: GoalVerdict[];
}

export interface SuiteSettings {
  wan: string;
  oneWayMs: number;
  runs: number;
  scenarios: string[];
  sessionTtlMs: number;
}

export interface SuiteReport {
  startedAt: string;
  finishedAt: string | null;
  environment: Environment;
  settings: SuiteSettings;
  estimatedSeconds: number;
  cases: CaseReport[];
  idle: IdleSample[];
}

export function summarizeMeasures(records: readonly RunRecord[]): MeasureSummary[] {
  return MEASURE_NAMES.filter((name) => records.some((r) => r.measures[name] !== undefined)).map((name) => {
    const values: number[] = [];
    const reasons = new Map<string, number>();
    for (const record of records) {
      const m = record.measures[name];
      if (m === undefined) continue;
      if (m.value === null) reasons.set(m.why, (reasons.get(m.why) ?? 0) + 1);
      else values.push(m.value);
    }
    const summary = summarize(values);
    return {
      measure: name,
      label: MEASURES[name].label,
      unit: MEASURES[name].unit,
      ...(summary ? { summary } : {}),
      notMeasured: [...reasons].map(([why, runs]) => ({ why, runs })),
    };
  });
}

export function judge(goal: Goal, records: readonly RunRecord[]): GoalVerdict {
  const values = records.flatMap((r) => {
    const m = r.measures[goal.measure];
    return m?.value === null || m === undefined ? [] : [m.value];
  });
  if (values.length === 0) return { ...goal, value: null, met: null };
  const value = statistic(values, goal.statistic);
  return { ...goal, value, met: value <= goal.limit };
}

export function caseReport(
  identity: Pick<CaseReport, 'name' | 'scenario' | 'policy' | 'description' | 'runsPlanned'>,
  goals: readonly Goal[],
  records: readonly RunRecord[],
  failures: readonly RunFailure[],
): CaseReport {
  return {
    ...identity,
    records: [...records],
    failures: [...failures],
    measures: summarizeMeasures(records),
    goals: goals.map((g) => judge(g, records)),
  };
}

export function verdictMark(met: boolean | null): string {
  return met === null ? 'not measured' : met ? 'met' : 'NOT met';
}

/** Each run's SVG, next to report.md. */
export function timelineFileName(c: Pick<CaseReport, 'scenario' | 'policy'>, run: number): string {
  return `timeline-${c.scenario}-${c.policy}-run${run}.svg`;
}
