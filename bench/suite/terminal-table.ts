/**
 * The table printed when the suite ends: for each scenario, a row per measure with n, min, p50,
 * p99, max and its goals (or why it was not measured). Pure: returns the lines.
 */
import type { CaseReport } from './report.js';
import { verdictMark } from './report.js';
import { formatGoal, formatStat, oneLine } from './report-format.js';

/** Pads every column but the last to its widest cell. */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd(),
  );
}

export function terminalTable(cases: readonly CaseReport[]): string[] {
  const rows: string[][] = [
    ['scenario', 'measure', 'n', 'min', 'p50', 'p99', 'max', 'goal / why not measured'],
  ];
  for (const c of cases) {
    const runs = `${c.records.length}/${c.runsPlanned} runs`;
    if (c.records.length === 0) {
      rows.push([
        c.name,
        runs,
        '',
        '',
        '',
        '',
        '',
        oneLine(`every run failed: ${c.failures[0]?.error ?? ''}`),
      ]);
      continue;
    }
    c.measures.forEach((m, i) => {
      const goals = c.goals.filter((g) => g.measure === m.measure).map((g) => formatGoal(g, verdictMark));
      const why = m.notMeasured.map((r) => oneLine(`${r.runs}×: ${r.why}`));
      rows.push([
        i === 0 ? c.name : i === 1 ? `  ${runs}` : '',
        m.label,
        String(m.summary?.n ?? 0),
        formatStat(m.measure, m.summary?.min),
        formatStat(m.measure, m.summary?.p50),
        formatStat(m.measure, m.summary?.p99),
        formatStat(m.measure, m.summary?.max),
        [...goals, ...why].join('; '),
      ]);
    });
    if (c.failures.length > 0) {
      rows.push([
        '',
        `${c.failures.length} run(s) failed`,
        '',
        '',
        '',
        '',
        '',
        oneLine(c.failures[0]?.error ?? ''),
      ]);
    }
  }
  return alignColumns(rows);
}
