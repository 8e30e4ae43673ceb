/**
 * doctor's report: for people, one line per check grouped by area (a tick when it passed, each
 * finding with its fix when not), what was measured from this host, and a summary line; for
 * scripts, one JSON object. Pure: the caller says whether to use colour and symbols.
 */
import type { CheckResult } from './checks/index.js';
import { median } from './checks/check.js';
import {
  AREAS,
  AREA_TITLES,
  areaOf,
  summarize,
  type Finding,
  type Severity,
  type Summary,
} from './finding.js';
import type { DoctorSnapshot } from './snapshot.js';

/** Medians of what was timed from this host, ms; null when nothing was. */
export interface Measurements {
  etcd: {
    member: string;
    /** A linearizable read through the member. */
    readMs: number | null;
    /** A lease query through the member: a keepalive's path to the raft leader. */
    keepaliveMs: number | null;
    clockOffsetMs: number | null;
    clockUncertaintyMs: number | null;
  }[];
  servers: {
    cluster: string;
    node: string;
    queryMs: number | null;
    clockOffsetMs: number | null;
    clockUncertaintyMs: number | null;
  }[];
}

export function measurements(snapshot: DoctorSnapshot): Measurements {
  const round = (v: number | undefined) => (v === undefined ? null : Math.round(v * 10) / 10);
  return {
    etcd: [...snapshot.deployment.etcd.members]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((m) => ({
        member: m.name,
        readMs: round(median(m.roundTripsMs)),
        keepaliveMs: round(median(m.keepaliveRoundTripsMs)),
        clockOffsetMs: round(m.clock?.offsetMs),
        clockUncertaintyMs: round(m.clock?.uncertaintyMs),
      })),
    servers: snapshot.clusters.flatMap((c) =>
      c.nodes.map((n) => {
        const s = c.servers[n.name];
        const reading = s?.reachable ? s : undefined;
        return {
          cluster: c.name,
          node: n.name,
          queryMs: round(reading ? median(reading.roundTripsMs) : undefined),
          clockOffsetMs: round(reading?.clock?.offsetMs),
          clockUncertaintyMs: round(reading?.clock?.uncertaintyMs),
        };
      }),
    ),
  };
}

export interface DoctorReport {
  host: string;
  takenAt: string;
  clusters: string[];
  ok: boolean;
  summary: Summary;
  findings: Finding[];
  checks: { id: string; title: string; status: 'pass' | Severity }[];
  measured: Measurements;
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

function worst(findings: readonly Finding[]): Severity | undefined {
  return [...findings].sort((a, b) => RANK[a.severity] - RANK[b.severity])[0]?.severity;
}

export function buildReport(snapshot: DoctorSnapshot, results: readonly CheckResult[]): DoctorReport {
  const findings = results.flatMap((r) => r.findings);
  const summary = summarize(findings);
  return {
    host: snapshot.deployment.host,
    takenAt: snapshot.deployment.takenAt,
    clusters: snapshot.clusters.map((c) => c.name),
    ok: summary.errors === 0,
    summary,
    findings,
    checks: results.map((r) => ({
      id: r.check.id,
      title: r.check.title,
      status: worst(r.findings) ?? 'pass',
    })),
    measured: measurements(snapshot),
  };
}

export interface Look {
  /** Unicode symbols (a terminal); otherwise bracketed words that grep well. */
  symbols: boolean;
  /** ANSI colour (a terminal without NO_COLOR). */
  colour: boolean;
}

const MARKS: Record<'pass' | Severity, { symbol: string; word: string; colour: string }> = {
  pass: { symbol: '✓', word: '[ok]', colour: '\x1b[32m' },
  error: { symbol: '✗', word: '[ERROR]', colour: '\x1b[31m' },
  warning: { symbol: '!', word: '[WARN]', colour: '\x1b[33m' },
  info: { symbol: 'i', word: '[info]', colour: '\x1b[36m' },
};
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

function mark(kind: 'pass' | Severity, look: Look): string {
  const m = MARKS[kind];
  const text = look.symbols ? m.symbol : m.word;
  return look.colour ? `${m.colour}${text}${RESET}` : text;
}

function dim(text: string, look: Look): string {
  return look.colour ? `${DIM}${text}${RESET}` : text;
}

function signed(value: number): string {
  return value === 0 ? '0' : `${value > 0 ? '+' : '−'}${Math.abs(value)}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function formatReport(report: DoctorReport, results: readonly CheckResult[], look: Look): string {
  const several = report.clusters.length > 1;
  const lines = [
    `baton doctor: cluster${several ? 's' : ''} ${report.clusters.join(', ')}, measured from ${report.host} at ${report.takenAt}`,
  ];
  for (const area of AREAS) {
    const inArea = results.filter((r) => areaOf(r.check.id) === area);
    if (inArea.length === 0) continue;
    lines.push('', AREA_TITLES[area]);
    for (const { check, findings } of inArea) {
      if (findings.length === 0) {
        lines.push(`  ${mark('pass', look)} ${check.title}`);
        continue;
      }
      for (const f of [...findings].sort((a, b) => RANK[a.severity] - RANK[b.severity])) {
        const where = f.node
          ? `${several && f.cluster ? `${f.cluster}/` : ''}${f.node}: `
          : several && f.cluster
            ? `${f.cluster}: `
            : '';
        lines.push(`  ${mark(f.severity, look)} ${where}${f.message} ${dim(`[${f.check}]`, look)}`);
        const [first, ...rest] = f.fix.split('\n');
        lines.push(`      fix: ${first}`);
        for (const line of rest) lines.push(`           ${line}`);
      }
    }
  }
  const m = report.measured;
  lines.push('', `Measured from ${report.host} (round trip median; clock offset: theirs minus ours)`);
  const clock = (o: number | null, u: number | null) =>
    o === null ? 'clock ?' : `clock ${signed(o)} ms ±${u} ms`;
  const time = (v: number | null) => (v === null ? '?' : `${v} ms`);
  for (const e of m.etcd) {
    lines.push(
      `  etcd ${e.member}: read ${time(e.readMs)}, keepalive ${time(e.keepaliveMs)}, ${clock(e.clockOffsetMs, e.clockUncertaintyMs)}`,
    );
  }
  for (const s of m.servers) {
    lines.push(
      `  ${several ? `${s.cluster}/` : ''}${s.node}: query ${time(s.queryMs)}, ${clock(s.clockOffsetMs, s.clockUncertaintyMs)}`,
    );
  }
  const { errors, warnings, info } = report.summary;
  lines.push(
    '',
    `${plural(errors, 'error')}, ${plural(warnings, 'warning')}, ${plural(info, 'note')} from ${results.length} checks: ${
      report.ok ? 'passed' : 'FAILED'
    }`,
  );
  return `${lines.join('\n')}\n`;
}
