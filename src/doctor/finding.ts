/**
 * What `baton doctor` reports: findings, each with a severity, the check that found it, and the
 * exact change that fixes it (a SQL statement, a my.cnf line or a config key). A run fails on
 * any error; warnings and notes only inform.
 */

export type Severity = 'error' | 'warning' | 'info';

/** The areas of the report, in the order they are printed. */
export const AREAS = [
  'reach',
  'masters',
  'identity',
  'settings',
  'users',
  'watchdog',
  'replication',
  'etcd',
  'timings',
] as const;
export type Area = (typeof AREAS)[number];

export const AREA_TITLES: Record<Area, string> = {
  reach: 'Reachability',
  masters: 'Masters',
  identity: 'Identity',
  settings: 'Replication settings',
  users: 'Users',
  watchdog: 'Watchdog',
  replication: 'Replication state',
  etcd: 'etcd',
  timings: 'Timings',
};

export type CheckId =
  | 'reach.mysql'
  | 'reach.etcd'
  | 'masters.auto-increment'
  | 'identity.server-id'
  | 'identity.gtid-domain'
  | 'identity.gtid-strict-mode'
  | 'settings.binlog'
  | 'settings.binlog-format'
  | 'settings.read-only-config'
  | 'settings.slave-net-timeout'
  | 'settings.semi-sync'
  | 'users.app-read-only-bypass'
  | 'users.baton-grants'
  | 'watchdog.event'
  | 'watchdog.scheduler'
  | 'replication.running'
  | 'replication.topology'
  | 'replication.single-writer'
  | 'replication.clock-skew'
  | 'etcd.sites'
  | 'etcd.raft-leader'
  | 'etcd.clock-skew'
  | 'timings.etcd-round-trip'
  | 'timings.stand-in-hold'
  | 'timings.probe-round-trip';

export interface Finding {
  severity: Severity;
  check: CheckId;
  /** The cluster it concerns; absent for etcd and the deployment's timings. */
  cluster?: string;
  /** The server it concerns (a node name of the config), when it is about one. */
  node?: string;
  message: string;
  /** The exact change to make. */
  fix: string;
}

export function areaOf(check: CheckId): Area {
  return check.slice(0, check.indexOf('.')) as Area;
}

export interface Summary {
  errors: number;
  warnings: number;
  info: number;
}

export function summarize(findings: readonly Finding[]): Summary {
  return {
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    info: findings.filter((f) => f.severity === 'info').length,
  };
}

/** The command's exit code: 1 on any error-level finding (2 is kept for usage errors). */
export function exitCodeFor(findings: readonly Finding[]): 0 | 1 {
  return findings.some((f) => f.severity === 'error') ? 1 : 0;
}

// Fix texts. Each names where the change goes, so an operator can paste it.

/** One or more SQL statements, run on the finding's server as an administrator. */
export function sqlFix(...statements: string[]): string {
  return statements.map((s) => (s.endsWith(';') ? s : `${s};`)).join(' ');
}

/** A line for the server's option file, in the section its server reads. */
export function myCnfFix(flavor: 'mariadb' | 'mysql', line: string): string {
  return `my.cnf [${flavor === 'mariadb' ? 'mariadbd' : 'mysqld'}]: ${line}`;
}

/** A runtime change and the option-file line that makes it survive a restart. */
export function settingFix(flavor: 'mariadb' | 'mysql', statement: string, line: string): string {
  return `${sqlFix(statement)} and ${myCnfFix(flavor, line)}`;
}

/** A key of baton's config file. */
export function configFix(path: string, value: string): string {
  return `config: ${path}: ${value}`;
}
