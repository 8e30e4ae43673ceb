import { describe, expect, it } from 'vitest';
import { runChecks } from '../../../src/doctor/checks/index.js';
import { exitCodeFor } from '../../../src/doctor/finding.js';
import { buildReport, formatReport } from '../../../src/doctor/format.js';
import { cluster, healthySnapshot, server } from './fixtures.js';

function broken() {
  const s = healthySnapshot();
  server(s, 'b1').settings.autoIncrementOffset = 1;
  server(s, 'a2').settings.netTimeoutS = 60;
  delete cluster(s).writer;
  return s;
}

describe('the report', () => {
  it('for scripts: every check with its status, the findings, what was measured', () => {
    const s = broken();
    const results = runChecks(s);
    const report = buildReport(s, results);
    expect(report.ok).toBe(false);
    expect(report.summary).toEqual({ errors: 1, warnings: 1, info: 1 });
    expect(report.checks.find((c) => c.id === 'masters.auto-increment')?.status).toBe('error');
    expect(report.checks.find((c) => c.id === 'identity.server-id')?.status).toBe('pass');
    expect(report.findings[0]).toEqual({
      severity: 'error',
      check: 'masters.auto-increment',
      cluster: 'lab',
      node: 'b1',
      message: 'auto_increment_offset is 1 here and on a1: both masters hand out the same ids',
      fix: 'SET GLOBAL auto_increment_offset = 2; and my.cnf [mariadbd]: auto_increment_offset = 2',
    });
    expect(report.measured.etcd[0]).toEqual({
      member: 'a',
      readMs: 1,
      keepaliveMs: 0.6,
      clockOffsetMs: -2,
      clockUncertaintyMs: 6,
    });
    expect(report.measured.servers.find((m) => m.node === 'a1')).toEqual({
      cluster: 'lab',
      node: 'a1',
      queryMs: 0.4,
      clockOffsetMs: 0.4,
      clockUncertaintyMs: 0.6,
    });
    expect(exitCodeFor(report.findings)).toBe(1);
    expect(exitCodeFor(report.findings.filter((f) => f.severity !== 'error'))).toBe(0);
  });

  it('for people, without a terminal: areas, bracketed words that grep well, each fix under its finding', () => {
    const s = broken();
    const results = runChecks(s);
    const text = formatReport(buildReport(s, results), results, { symbols: false, colour: false });
    expect(text).not.toContain('\x1b[');
    expect(text).toContain(
      '\nMasters\n  [ERROR] b1: auto_increment_offset is 1 here and on a1: both masters hand out the same ids [masters.auto-increment]\n' +
        '      fix: SET GLOBAL auto_increment_offset = 2; and my.cnf [mariadbd]: auto_increment_offset = 2\n',
    );
    expect(text).toContain('  [WARN] a2: slave_net_timeout is 60 s');
    expect(text).toContain('\nIdentity\n  [ok] every server has its own non-zero server_id\n');
    expect(text).toContain('  etcd a: read 1 ms, keepalive 0.6 ms, clock −2 ms ±6 ms\n');
    expect(text).toContain('  a1: query 0.4 ms, clock +0.4 ms ±0.6 ms\n');
    expect(text).toMatch(/\n1 error, 1 warning, 1 note from 25 checks: FAILED\n$/);
  });

  it('on a terminal: symbols, and colour unless NO_COLOR', () => {
    const s = healthySnapshot();
    const results = runChecks(s);
    const report = buildReport(s, results);
    const coloured = formatReport(report, results, { symbols: true, colour: true });
    expect(coloured).toContain('\x1b[32m✓\x1b[0m every server has its own non-zero server_id');
    expect(coloured).toMatch(/0 errors, 0 warnings, 0 notes from 25 checks: passed\n$/);
    const plain = formatReport(report, results, { symbols: true, colour: false });
    expect(plain).toContain('  ✓ every server has its own non-zero server_id');
    expect(plain).not.toContain('\x1b[');
  });

  it('indents a fix of several lines under its first', () => {
    const s = healthySnapshot();
    delete server(s, 'b1').watchdogEvent;
    const results = runChecks(s);
    const text = formatReport(buildReport(s, results), results, { symbols: false, colour: false });
    expect(text).toContain('      fix: as an administrator:\n           SET SESSION sql_log_bin = 0;\n');
  });
});
