/** The line printed after each run: where the suite is, what the run measured, how long is left. */
import { MEASURES, STANDARD_MEASURES, formatValue, type MeasureName } from './measures.js';
import { formatDuration } from './plan.js';
import { oneLine } from './report-format.js';
import type { RunOutcome } from './run-record.js';

export interface ProgressStep {
  /** 1-based over every run of the suite. */
  step: number;
  steps: number;
  caseName: string;
  run: number;
  runs: number;
  /** Estimated seconds of the runs after this one. */
  remainingSeconds: number;
}

/** The standard measures a reader looks at first; a scenario's own measures follow them. */
const HEADLINE: readonly MeasureName[] = [
  'outageMs',
  'resumeMs',
  'detectMs',
  'promoteMs',
  'lostAckedWrites',
  'nonWriterAcks',
  'fences',
  'epochChanges',
];

export function progressLine(at: ProgressStep, outcome: RunOutcome): string {
  const head = `[${at.step}/${at.steps}] ${at.caseName} run ${at.run}/${at.runs} (${formatDuration(outcome.durationMs / 1000)})`;
  const left = at.remainingSeconds > 0 ? ` · about ${formatDuration(at.remainingSeconds)} left` : '';
  if (!outcome.ok) return `${head} FAILED: ${oneLine(outcome.error)}${left}`;
  const own = (Object.keys(outcome.measures) as MeasureName[]).filter((n) => !(n in STANDARD_MEASURES));
  const figures = [...HEADLINE, ...own].flatMap((name) => {
    const m = outcome.measures[name];
    if (m?.value === null || m === undefined) return [];
    return [`${MEASURES[name].short} ${formatValue(m.value, MEASURES[name].unit)}`];
  });
  const alarm = outcome.measures.twoWritable?.value ? ' · TWO WRITABLE NODES' : '';
  return `${head}: ${figures.join(', ')}${alarm}${left}`;
}
