import { describe, expect, it } from 'vitest';
import type { Goal } from '../../../bench/goals.js';
import { measured, notMeasured, type Measures } from '../../../bench/suite/measures.js';
import { caseReport, judge, summarizeMeasures } from '../../../bench/suite/report.js';
import { reportMarkdown } from '../../../bench/suite/report-markdown.js';
import type { RunRecord } from '../../../bench/suite/run-record.js';
import { terminalTable } from '../../../bench/suite/terminal-table.js';

function record(run: number, measures: Measures): RunRecord {
  return {
    scenario: 'kill',
    policy: 'availability',
    run,
    startedAt: '2026-12-05T03:00:00.000Z',
    durationMs: 30_000,
    zero: { at: 0, label: 'kill -9 of a1' },
    measures,
    notes: [],
    timeline: { bucketMs: 100, fromMs: 0, buckets: [], markers: [] },
  };
}

const outageP50: Goal = {
  measure: 'outageMs',
  statistic: 'p50',
  limit: 1_320,
  formula: '1 s + 8·L',
  source: 'issue 4',
};
const runs = [
  record(1, { outageMs: measured(900), lostAckedWrites: measured(0) }),
  record(2, { outageMs: measured(1_500), lostAckedWrites: notMeasured('a1 is down') }),
  record(3, { outageMs: notMeasured('writes had not resumed'), lostAckedWrites: notMeasured('a1 is down') }),
];

describe('the report of a scenario', () => {
  it('summarises each measure over the runs that have it, and says why the others do not', () => {
    const [outage, lost] = summarizeMeasures(runs);
    expect(outage).toMatchObject({
      measure: 'outageMs',
      summary: { n: 2, min: 900, p50: 900, max: 1_500 },
      notMeasured: [{ why: 'writes had not resumed', runs: 1 }],
    });
    expect(lost).toMatchObject({
      measure: 'lostAckedWrites',
      summary: { n: 1 },
      notMeasured: [{ why: 'a1 is down', runs: 2 }],
    });
  });

  it('lists only the measures some run recorded, in the standard order', () => {
    expect(
      summarizeMeasures([record(1, { fences: measured(1), outageMs: measured(5) })]).map((m) => m.measure),
    ).toEqual(['outageMs', 'fences']);
  });

  it('judges a goal on its statistic, and does not judge what nobody measured', () => {
    expect(judge(outageP50, runs)).toMatchObject({ value: 900, met: true });
    expect(judge({ ...outageP50, statistic: 'max' }, runs)).toMatchObject({ value: 1_500, met: false });
    expect(judge({ ...outageP50, measure: 'detectMs' }, runs)).toMatchObject({ value: null, met: null });
  });

  it('reads the same in the terminal and in report.md', () => {
    const c = caseReport(
      {
        name: 'kill',
        scenario: 'kill',
        policy: 'availability',
        description: 'kill -9 of a1',
        runsPlanned: 4,
      },
      [outageP50],
      runs,
      [
        {
          scenario: 'kill',
          policy: 'availability',
          run: 4,
          startedAt: '',
          durationMs: 1_000,
          error: 'lab up failed\nbadly',
        },
      ],
    );
    const table = terminalTable([c]).join('\n');
    expect(table).toContain('p50 900 ms ≤ 1,320 ms (1 s + 8·L): met');
    expect(table).toContain('1×: writes had not resumed');
    expect(table).toContain('lab up failed badly');
    const md = reportMarkdown({
      startedAt: '2026-12-05T03:00:00.000Z',
      finishedAt: null,
      environment: {
        commit: 'abc1234',
        dirty: false,
        node: 'v20',
        cpus: '2 × EPYC',
        memoryGiB: 24,
        kernel: 'Linux',
        versions: {},
      },
      settings: { wan: 'continent', oneWayMs: 40, runs: 4, scenarios: ['kill'], sessionTtlMs: 4_000 },
      estimatedSeconds: 120,
      cases: [c],
      idle: [],
    });
    expect(md).toContain(
      '| kill | availability | 3/4 | write outage p50 900 ms ≤ 1,320 ms (1 s + 8·L): met ✓ |',
    );
    expect(md).toContain(
      '| write outage | 2 | 900 ms | 900 ms | 1,500 ms | 1,500 ms | 1 run(s): writes had not resumed |',
    );
    expect(md).toContain('![timeline of run 2](timeline-kill-availability-run2.svg)');
    expect(md).toContain('run 4 FAILED');
  });
});
