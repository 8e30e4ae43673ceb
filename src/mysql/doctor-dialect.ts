/**
 * The SQL `baton doctor` reads a server with, and how it reads the answers, for both flavors, the
 * way dialect.ts does it for the coordinator: MariaDB 10.11 is verified against real servers,
 * MySQL 8.0.23+ / 8.4 follows the manual and is unit-tested only (not run against a server).
 *
 * Everything here is read-only: doctor never changes a server.
 */
import type { Flavor } from './dialect.js';

/** Where a server variable's current value came from. */
export type VariableOrigin =
  /** An option file (MariaDB CONFIG; MySQL GLOBAL/SERVER/EXPLICIT/EXTRA/PERSISTED). */
  | 'config'
  /** The server's command line: what the service manager starts it with. */
  | 'command-line'
  /** SET GLOBAL since the server started: what a restart brings back is not visible. */
  | 'runtime'
  /** Nothing set it: the compiled-in default (or the server's own choice). */
  | 'default'
  /** The server did not say. */
  | 'unknown';

export interface Setting<T> {
  value: T;
  origin: VariableOrigin;
}

/** The server variables doctor checks; absent when the server has no such variable. */
export interface ServerSettings {
  serverId?: number;
  /** MariaDB: the GTID domain of this server's own writes. */
  gtidDomainId?: number;
  /** MySQL: the GTID source id of this server's own writes. */
  serverUuid?: string;
  /** MariaDB gtid_strict_mode. */
  gtidStrictMode?: boolean;
  /** MySQL gtid_mode (ON, OFF, ON_PERMISSIVE, OFF_PERMISSIVE). */
  gtidMode?: string;
  /** MySQL enforce_gtid_consistency (ON, OFF, WARN). */
  enforceGtidConsistency?: string;
  logBin?: boolean;
  /** log_slave_updates (MariaDB; MySQL before 8.0.26) or log_replica_updates. */
  logReplicaUpdates?: boolean;
  binlogFormat?: string;
  readOnly?: Setting<boolean>;
  /** MySQL only: baton fences with it there, so it must come back ON after a restart. */
  superReadOnly?: Setting<boolean>;
  autoIncrementIncrement?: number;
  autoIncrementOffset?: number;
  /** slave_net_timeout / replica_net_timeout, seconds. */
  netTimeoutS?: number;
  eventScheduler?: string;
}

/** One replication channel, with what doctor needs beyond the coordinator's probe. */
export interface ReplicaChannel {
  /** '' for the default channel. */
  name: string;
  sourceHost: string;
  sourcePort: number;
  ioRunning: 'yes' | 'connecting' | 'no';
  sqlRunning: boolean;
  /** The thread that stopped on an error, and the error. */
  error?: { thread: 'io' | 'sql'; errno: number; message: string };
  /** Replicates by GTID position (MariaDB Using_Gtid Slave_Pos/Current_Pos; MySQL Auto_Position=1). */
  usesGtid: boolean;
  /** MariaDB's Using_Gtid (No, Slave_Pos, Current_Pos); MySQL: 'auto-position' or 'No'. */
  gtidMode: string;
  /** MariaDB Slave_heartbeat_period, seconds; absent on MySQL (not in SHOW REPLICA STATUS). */
  heartbeatPeriodS?: number;
}

export interface DoctorDialect {
  readonly flavor: Flavor;
  /** Rows `name`, `value`, `origin` (VariableOrigin after parseVariables) for every variable checked. */
  variablesSql(): string;
  parseVariables(rows: readonly Record<string, unknown>[]): ServerSettings;
  /** The account the server matched the session to, column `account`. */
  currentAccountSql(): string;
  /** The session's grants, one GRANT statement per row in the first column. */
  showGrantsSql(): string;
  /**
   * Statements that show the grants of `role` as well, the last returning them: MariaDB
   * enables the role for the session (SHOW GRANTS then includes its grants); MySQL expands it
   * with USING.
   */
  grantsWithRoleSql(role: string): string[];
  /** Extra replica-status columns: channel name, GTID mode, heartbeat period. */
  replicaDetails(
    row: Record<string, unknown>,
  ): Pick<ReplicaChannel, 'name' | 'usesGtid' | 'gtidMode' | 'heartbeatPeriodS'>;
  /** The variable replicas time a silent source out with. */
  readonly netTimeoutVariable: string;
  /** The variable that keeps every client out, what a restarted non-writer must come back with. */
  readonly readOnlyVariable: 'read_only' | 'super_read_only';
}

/** One row, column `now`: the server's UTC time to the microsecond. Same on both. */
export const serverTimeSql = 'SELECT UTC_TIMESTAMP(6) AS now';

/** The watchdog event's status and definer (no row: no event). Same on both. */
export const watchdogEventDetailsSql =
  'SELECT STATUS AS status, DEFINER AS definer FROM information_schema.EVENTS ' +
  "WHERE EVENT_SCHEMA = 'baton' AND EVENT_NAME = 'watchdog'";

function str(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

function num(value: unknown): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function on(value: unknown): boolean {
  const s = str(value).toUpperCase();
  return s === 'ON' || s === '1' || s === 'TRUE' || s === 'YES';
}

const MARIADB_ORIGINS: Record<string, VariableOrigin> = {
  CONFIG: 'config',
  'COMMAND-LINE': 'command-line',
  SQL: 'runtime',
  'COMPILE-TIME': 'default',
  AUTO: 'default',
};

/** performance_schema.variables_info.VARIABLE_SOURCE (MySQL 8). */
const MYSQL_ORIGINS: Record<string, VariableOrigin> = {
  GLOBAL: 'config',
  SERVER: 'config',
  EXPLICIT: 'config',
  EXTRA: 'config',
  PERSISTED: 'config',
  COMMAND_LINE: 'command-line',
  DYNAMIC: 'runtime',
  COMPILED: 'default',
};

interface VariableRow {
  value: string;
  origin: VariableOrigin;
}

function byName(
  rows: readonly Record<string, unknown>[],
  origins: Record<string, VariableOrigin>,
): Map<string, VariableRow> {
  return new Map(
    rows.map((r) => [
      str(r.name).toUpperCase(),
      { value: str(r.value), origin: origins[str(r.origin).toUpperCase()] ?? 'unknown' },
    ]),
  );
}

/** The first of `names` the server has (MySQL renamed replication variables in 8.0.26). */
function first(vars: Map<string, VariableRow>, ...names: string[]): VariableRow | undefined {
  for (const name of names) {
    const row = vars.get(name);
    if (row) return row;
  }
  return undefined;
}

function setting(row: VariableRow | undefined): Setting<boolean> | undefined {
  return row ? { value: on(row.value), origin: row.origin } : undefined;
}

function inList(names: readonly string[]): string {
  return names.map((n) => `'${n}'`).join(', ');
}

const MARIADB_VARIABLES = [
  'SERVER_ID',
  'GTID_DOMAIN_ID',
  'GTID_STRICT_MODE',
  'LOG_BIN',
  'LOG_SLAVE_UPDATES',
  'BINLOG_FORMAT',
  'READ_ONLY',
  'AUTO_INCREMENT_INCREMENT',
  'AUTO_INCREMENT_OFFSET',
  'SLAVE_NET_TIMEOUT',
  'EVENT_SCHEDULER',
];

const MYSQL_VARIABLES = [
  'SERVER_ID',
  'SERVER_UUID',
  'GTID_MODE',
  'ENFORCE_GTID_CONSISTENCY',
  'LOG_BIN',
  'LOG_REPLICA_UPDATES',
  'LOG_SLAVE_UPDATES',
  'BINLOG_FORMAT',
  'READ_ONLY',
  'SUPER_READ_ONLY',
  'AUTO_INCREMENT_INCREMENT',
  'AUTO_INCREMENT_OFFSET',
  'REPLICA_NET_TIMEOUT',
  'SLAVE_NET_TIMEOUT',
  'EVENT_SCHEDULER',
];

function commonSettings(vars: Map<string, VariableRow>): ServerSettings {
  const settings: ServerSettings = {};
  const serverId = num(vars.get('SERVER_ID')?.value);
  if (serverId !== undefined) settings.serverId = serverId;
  const logBin = vars.get('LOG_BIN');
  if (logBin) settings.logBin = on(logBin.value);
  const logReplicaUpdates = first(vars, 'LOG_REPLICA_UPDATES', 'LOG_SLAVE_UPDATES');
  if (logReplicaUpdates) settings.logReplicaUpdates = on(logReplicaUpdates.value);
  const format = vars.get('BINLOG_FORMAT');
  if (format) settings.binlogFormat = format.value.toUpperCase();
  const readOnly = setting(vars.get('READ_ONLY'));
  if (readOnly) settings.readOnly = readOnly;
  const increment = num(vars.get('AUTO_INCREMENT_INCREMENT')?.value);
  if (increment !== undefined) settings.autoIncrementIncrement = increment;
  const offset = num(vars.get('AUTO_INCREMENT_OFFSET')?.value);
  if (offset !== undefined) settings.autoIncrementOffset = offset;
  const netTimeout = num(first(vars, 'REPLICA_NET_TIMEOUT', 'SLAVE_NET_TIMEOUT')?.value);
  if (netTimeout !== undefined) settings.netTimeoutS = netTimeout;
  const scheduler = vars.get('EVENT_SCHEDULER');
  if (scheduler) settings.eventScheduler = scheduler.value.toUpperCase();
  return settings;
}

export const mariadbDoctorDialect: DoctorDialect = {
  flavor: 'mariadb',
  // GLOBAL_VALUE_ORIGIN says CONFIG while a value is the option file's, SQL once SET GLOBAL
  // touched it, even to the same value (verified on 10.11.19).
  variablesSql: () =>
    'SELECT VARIABLE_NAME AS name, GLOBAL_VALUE AS value, GLOBAL_VALUE_ORIGIN AS origin ' +
    `FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_NAME IN (${inList(MARIADB_VARIABLES)})`,
  parseVariables: (rows) => {
    const vars = byName(rows, MARIADB_ORIGINS);
    const settings = commonSettings(vars);
    const domain = num(vars.get('GTID_DOMAIN_ID')?.value);
    if (domain !== undefined) settings.gtidDomainId = domain;
    const strict = vars.get('GTID_STRICT_MODE');
    if (strict) settings.gtidStrictMode = on(strict.value);
    return settings;
  },
  currentAccountSql: () => 'SELECT CURRENT_USER() AS account',
  showGrantsSql: () => 'SHOW GRANTS',
  // One role is current at a time; SET ROLE as the session's own user needs no privilege.
  grantsWithRoleSql: (role) => [`SET ROLE ${quoteIdentifier(role)}`, 'SHOW GRANTS', 'SET ROLE NONE'],
  replicaDetails: (row) => {
    const gtidMode = str(row.Using_Gtid) || 'No';
    const heartbeat = num(row.Slave_heartbeat_period);
    return {
      name: str(row.Connection_name),
      usesGtid: gtidMode.toLowerCase() !== 'no',
      gtidMode,
      ...(heartbeat !== undefined ? { heartbeatPeriodS: heartbeat } : {}),
    };
  },
  netTimeoutVariable: 'slave_net_timeout',
  readOnlyVariable: 'read_only',
};

export const mysqlDoctorDialect: DoctorDialect = {
  flavor: 'mysql',
  variablesSql: () =>
    'SELECT g.VARIABLE_NAME AS name, g.VARIABLE_VALUE AS value, i.VARIABLE_SOURCE AS origin ' +
    'FROM performance_schema.global_variables AS g ' +
    'LEFT JOIN performance_schema.variables_info AS i ON i.VARIABLE_NAME = g.VARIABLE_NAME ' +
    `WHERE UPPER(g.VARIABLE_NAME) IN (${inList(MYSQL_VARIABLES)})`,
  parseVariables: (rows) => {
    const vars = byName(rows, MYSQL_ORIGINS);
    const settings = commonSettings(vars);
    const uuid = vars.get('SERVER_UUID');
    if (uuid) settings.serverUuid = uuid.value;
    const gtidMode = vars.get('GTID_MODE');
    if (gtidMode) settings.gtidMode = gtidMode.value.toUpperCase();
    const consistency = vars.get('ENFORCE_GTID_CONSISTENCY');
    if (consistency) settings.enforceGtidConsistency = consistency.value.toUpperCase();
    const superReadOnly = setting(vars.get('SUPER_READ_ONLY'));
    if (superReadOnly) settings.superReadOnly = superReadOnly;
    return settings;
  },
  currentAccountSql: () => 'SELECT CURRENT_USER() AS account',
  showGrantsSql: () => 'SHOW GRANTS',
  grantsWithRoleSql: (role) => [`SHOW GRANTS FOR CURRENT_USER() USING ${quoteIdentifier(role)}`],
  replicaDetails: (row) => {
    const auto = str(row.Auto_Position) === '1';
    return { name: str(row.Channel_Name), usesGtid: auto, gtidMode: auto ? 'auto-position' : 'No' };
  },
  netTimeoutVariable: 'replica_net_timeout',
  readOnlyVariable: 'super_read_only',
};

export function doctorDialectFor(flavor: Flavor): DoctorDialect {
  return flavor === 'mariadb' ? mariadbDoctorDialect : mysqlDoctorDialect;
}

/** A role name as an identifier (backquotes doubled), for statements that cannot take `?`. */
export function quoteIdentifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** MySQL/MariaDB DATETIME(6) text in UTC ('2026-12-05 06:21:38.311975') as epoch ms. */
export function utcDatetimeMs(value: unknown): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/.exec(str(value).trim());
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s, frac = '0'] = m as unknown as string[];
  const micros = Number(frac.padEnd(6, '0'));
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + micros / 1000;
}
