/** report.md: the same report as report.json, for people. Pure. */
import { MEASURES, type MeasureName } from './measures.js';
import { timelineFileName, type CaseReport, type SuiteReport } from './report.js';
import { formatGoal, formatMeasure, formatStat, oneLine } from './report-format.js';

const mark = (met: boolean | null) => (met === null ? 'not measured' : met ? 'met ✓' : 'NOT met ✗');

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(escape).join(' | ')} |`),
  ];
}

function caseSection(c: CaseReport): string[] {
  const lines = [
    `## ${c.name}`,
    '',
    `${c.description}. Policy ${c.policy}; ${c.records.length} of ${c.runsPlanned} runs measured.`,
    '',
  ];
  if (c.records.length > 0) {
    lines.push(
      ...table(
        ['measure', 'n', 'min', 'p50', 'p99', 'max', 'not measured in'],
        c.measures.map((m) => [
          m.label,
          String(m.summary?.n ?? 0),
          formatStat(m.measure, m.summary?.min),
          formatStat(m.measure, m.summary?.p50),
          formatStat(m.measure, m.summary?.p99),
          formatStat(m.measure, m.summary?.max),
          m.notMeasured.map((r) => `${r.runs} run(s): ${oneLine(r.why, 300)}`).join('; '),
        ]),
      ),
      '',
    );
  }
  if (c.goals.length > 0) {
    lines.push(
      'Goals:',
      '',
      ...c.goals.map((g) => `- ${MEASURES[g.measure].label}: ${formatGoal(g, mark)} — ${g.source}`),
      '',
    );
  } else {
    lines.push('No goal is stated for this scenario: figures only.', '');
  }
  if (c.records.length > 0) {
    const names = c.measures.map((m) => m.measure);
    lines.push(
      ...table(
        ['run', ...names.map((n) => MEASURES[n].short)],
        c.records.map((r) => [
          String(r.run),
          ...names.map((n: MeasureName) => formatMeasure(n, r.measures[n])),
        ]),
      ),
      '',
    );
    for (const r of c.records) {
      lines.push(
        `Run ${r.run} (${r.startedAt}, ${Math.round(r.durationMs / 1000)} s; time zero: ${r.zero.label}):`,
        '',
      );
      lines.push(...r.notes.map((n) => `- ${oneLine(n, 400)}`), '');
      lines.push(`![timeline of run ${r.run}](${timelineFileName(c, r.run)})`, '');
    }
  }
  for (const f of c.failures)
    lines.push(`- run ${f.run} FAILED after ${Math.round(f.durationMs / 1000)} s: ${oneLine(f.error, 400)}`);
  if (c.failures.length > 0) lines.push('');
  return lines;
}

export function reportMarkdown(report: SuiteReport): string {
  const { environment: env, settings } = report;
  const lines = [
    `# Benchmark suite, ${report.startedAt}`,
    '',
    `- commit ${env.commit}${env.dirty ? ' with uncommitted changes' : ''}; ${report.finishedAt ? `finished ${report.finishedAt}` : 'still running or interrupted'}`,
    `- machine: ${env.cpus}, ${env.memoryGiB} GiB, ${env.kernel}; Node ${env.node}`,
    `- ${Object.entries(env.versions)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ')}`,
    `- WAN profile ${settings.wan} (L = ${settings.oneWayMs} ms), session TTL ${settings.sessionTtlMs} ms, ${settings.runs} run(s) per scenario`,
    '',
    ...table(
      ['scenario', 'policy', 'runs', 'goals'],
      report.cases.map((c) => [
        c.name,
        c.policy,
        `${c.records.length}/${c.runsPlanned}`,
        c.goals.map((g) => `${MEASURES[g.measure].label} ${formatGoal(g, mark)}`).join('; ') ||
          'figures only',
      ]),
    ),
    '',
    ...report.cases.flatMap(caseSection),
  ];
  if (report.idle.length > 0) {
    lines.push('## Idle coordinators', '');
    lines.push(
      ...table(
        ['coordinator', 'RSS', 'CPU', 'over'],
        report.idle.map((s) => [
          s.coordinator,
          `${s.rssMb.toFixed(1)} MB`,
          `${s.cpuPercentOfCore.toFixed(2)} % of a core`,
          `${s.seconds} s`,
        ]),
      ),
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}
