/** How numbers and verdicts read in the terminal table and in report.md. */
import { MEASURES, formatValue, type Measure, type MeasureName } from './measures.js';
import type { GoalVerdict } from './report.js';

export function formatMeasure(name: MeasureName, m: Measure | undefined): string {
  if (m === undefined) return '';
  return m.value === null ? '—' : formatValue(m.value, MEASURES[name].unit);
}

export function formatStat(name: MeasureName, value: number | undefined): string {
  return value === undefined ? '—' : formatValue(value, MEASURES[name].unit);
}

/** `p50 912 ms ≤ 1,320 ms (1 s + 8·L): met`. */
export function formatGoal(goal: GoalVerdict, mark: (met: boolean | null) => string): string {
  const unit = MEASURES[goal.measure].unit;
  const value = goal.value === null ? 'not measured' : formatValue(goal.value, unit);
  return `${goal.statistic} ${value} ≤ ${formatValue(goal.limit, unit)} (${goal.formula}): ${mark(goal.met)}`;
}

/** An error or a reason on one line of a table, cut at `max` characters. */
export function oneLine(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
