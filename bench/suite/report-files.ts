/**
 * bench-results/<timestamp>/: report.json, report.md and one SVG timeline per run. Rewritten after
 * every run, so an interrupted suite still leaves what it measured.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { timelineFileName, type CaseReport, type SuiteReport } from './report.js';
import { reportMarkdown } from './report-markdown.js';
import { renderTimelineSvg } from './timeline-svg.js';
import type { RunRecord } from './run-record.js';

/** `2026-12-05T03-14-07Z`: sortable, and a valid file name everywhere. */
export function resultsTimestamp(at: Date): string {
  return at
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

export function prepareResultsDir(out: string, startedAt: Date): string {
  const dir = path.resolve(out, resultsTimestamp(startedAt));
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function writeReport(dir: string, report: SuiteReport): void {
  writeFileSync(path.join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(dir, 'report.md'), reportMarkdown(report));
}

export async function writeTimeline(
  dir: string,
  c: Pick<CaseReport, 'scenario' | 'policy' | 'name'>,
  record: RunRecord,
  wan: string,
): Promise<string> {
  const file = path.join(dir, timelineFileName(c, record.run));
  const title = `${c.name} @ ${wan}, run ${record.run}: acknowledged writes (time zero: ${record.zero.label})`;
  writeFileSync(file, await renderTimelineSvg(title, record.timeline));
  return file;
}
