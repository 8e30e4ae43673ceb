/**
 * Everything that differs between MariaDB and MySQL, as SQL text and row parsing, so the
 * operations in database.ts read the same for both and the SQL is unit-testable.
 *
 * MariaDB 10.6+ is exercised against a real server in test/integration. MySQL 8.0.23+ / 8.4
 * SQL is only unit-tested: it has NOT been run against a MySQL server yet.
 */
import mysql from 'mysql2';
import type { ReplicationStatus } from '../coordinator/ports.js';
import type { SemiSyncState } from '../core/observation.js';
import { UnsupportedServerError } from './errors.js';
import { heartbeatLagColumn } from './heartbeat.js';

export type Flavor = 'mariadb' | 'mysql';

export interface Statement {
  sql: string;
  values?: Array<string | number | null>;
  /** True when values carry a secret: the statement text must never be logged. */
  secret?: boolean;
}

export interface ReplicationSource {
  host: string;
  port: number;
}

export interface ReplicationCredentials {
  user: string;
  password: string;
}

export interface Dialect {
  readonly flavor: Flavor;
  /** One row: readOnly (0/1), executedGtids, binlogGtids (MariaDB), serverId, version, eventScheduler. */
  probeVariables(): string;
  /** All replication channels (multi-source capable), one row each. */
  replicaStatus(): string;
  /**
   * One row: masterEnabled, masterStatus, clients, noTx, offTimes, waitPoint, timeoutMs,
   * slaveEnabled (see parseSemiSync). Read from the status and variable tables only: on MariaDB
   * 10.11 a boolean @@global reads as 0 in a SELECT with an aggregate (measured).
   */
  semiSyncStatus(): string;
  parseReplicaStatus(row: Record<string, unknown>): ReplicationStatus;
  /** Executed GTIDs only (after fencing, before waiting). */
  executedGtids(): string;
  /** Wrap a SELECT so the server itself stops it after ms (client deadlines only drop the socket). */
  limitSelect(select: string, ms: number): string;
  /** Statements that make the server read-only for everyone we can stop. */
  fence(): string[];
  openWrites(): string[];
  /** One row, column `waited`; see waitSucceeded. */
  waitForGtids(gtids: string, timeoutSeconds: number): Statement;
  waitSucceeded(waited: unknown): boolean;
  stopReplication(): string;
  startReplication(): string;
  /** `onlyKeys`: replicate only these GTID keys (MariaDB domains); absent: all, clearing a filter. */
  changeSource(
    source: ReplicationSource,
    credentials?: ReplicationCredentials,
    onlyKeys?: readonly string[],
  ): Statement;
}

/**
 * A whole probe in one round trip, for a connection opened with multipleStatements (the probe
 * connection, which only ever runs this constant text): the variables (plus the heartbeat lag
 * once the table is known to exist), limited server-side to `limitMs`, then replica status.
 * The answer is two result sets: one row of variables (see probeVariables, plus lagUs), then
 * one row per replication channel.
 */
export function probeSql(dialect: Dialect, limitMs: number, withHeartbeatLag: boolean): string {
  const variables = withHeartbeatLag
    ? `${dialect.probeVariables()}, ${heartbeatLagColumn}`
    : dialect.probeVariables();
  return `${dialect.limitSelect(variables, limitMs)}; ${dialect.replicaStatus()}; ${dialect.semiSyncStatus()}`;
}

/** The semi-sync row (semiSyncStatus), or undefined when neither side is enabled. */
export function parseSemiSync(row: Record<string, unknown> | undefined): SemiSyncState | undefined {
  if (!row) return undefined;
  const on = (v: unknown): boolean => str(v).toUpperCase() === 'ON';
  const masterEnabled = on(row.masterEnabled);
  const replicaEnabled = on(row.slaveEnabled);
  if (!masterEnabled && !replicaEnabled) return undefined;
  return {
    masterEnabled,
    masterOn: on(row.masterStatus),
    clients: num(row.clients) ?? 0,
    unackedCommits: num(row.noTx) ?? 0,
    fallbacks: num(row.offTimes) ?? 0,
    waitPoint: str(row.waitPoint).toUpperCase(),
    timeoutMs: num(row.timeoutMs) ?? 0,
    replicaEnabled,
  };
}

/**
 * The pivot of one status/variable table pair: `names` maps our column to the server's variable
 * names (the first one present wins, so MySQL's source/replica names and the older master/slave
 * names both work).
 */
function pivot(table: string, names: Record<string, string[]>): string {
  const all = Object.values(names).flat();
  const columns = Object.entries(names).map(
    ([column, candidates]) =>
      `MAX(CASE WHEN UPPER(VARIABLE_NAME) IN (${candidates.map((n) => `'${n}'`).join(', ')}) THEN VARIABLE_VALUE END) AS ${column}`,
  );
  return `SELECT ${columns.join(', ')} FROM (${table}) AS v WHERE UPPER(VARIABLE_NAME) IN (${all.map((n) => `'${n}'`).join(', ')})`;
}

const SEMI_SYNC_NAMES = {
  masterEnabled: ['RPL_SEMI_SYNC_MASTER_ENABLED', 'RPL_SEMI_SYNC_SOURCE_ENABLED'],
  masterStatus: ['RPL_SEMI_SYNC_MASTER_STATUS', 'RPL_SEMI_SYNC_SOURCE_STATUS'],
  clients: ['RPL_SEMI_SYNC_MASTER_CLIENTS', 'RPL_SEMI_SYNC_SOURCE_CLIENTS'],
  noTx: ['RPL_SEMI_SYNC_MASTER_NO_TX', 'RPL_SEMI_SYNC_SOURCE_NO_TX'],
  offTimes: ['RPL_SEMI_SYNC_MASTER_NO_TIMES', 'RPL_SEMI_SYNC_SOURCE_NO_TIMES'],
  waitPoint: ['RPL_SEMI_SYNC_MASTER_WAIT_POINT', 'RPL_SEMI_SYNC_SOURCE_WAIT_POINT'],
  timeoutMs: ['RPL_SEMI_SYNC_MASTER_TIMEOUT', 'RPL_SEMI_SYNC_SOURCE_TIMEOUT'],
  slaveEnabled: ['RPL_SEMI_SYNC_SLAVE_ENABLED', 'RPL_SEMI_SYNC_REPLICA_ENABLED'],
};

export function detectFlavor(version: string): Flavor {
  return /mariadb/i.test(version) ? 'mariadb' : 'mysql';
}

/** The dialect for a server, from SELECT VERSION(). Rejects versions we cannot drive. */
export function dialectFor(version: string): Dialect {
  const [major = 0, minor = 0, patch = 0] = (version.match(/^(\d+)\.(\d+)\.(\d+)/) ?? [])
    .slice(1)
    .map(Number);
  const at = major * 10000 + minor * 100 + patch;
  if (detectFlavor(version) === 'mariadb') {
    if (at < 100600) throw new UnsupportedServerError(`MariaDB ${version}: baton needs 10.6 or later`);
    return mariadbDialect;
  }
  if (at < 80023) throw new UnsupportedServerError(`MySQL ${version}: baton needs 8.0.23 or later`);
  return mysqlDialect;
}

function str(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

function num(value: unknown): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function ioState(value: unknown): ReplicationStatus['ioRunning'] {
  const s = str(value).toLowerCase();
  if (s === 'yes') return 'yes';
  if (s === 'connecting' || s === 'preparing') return 'connecting';
  return 'no';
}

/** Seconds with millisecond resolution, at least 1 ms: a limit of 0 means "no limit" there. */
function seconds(ms: number): string {
  return (Math.max(1, Math.ceil(ms)) / 1000).toFixed(3);
}

const onlyWhitespace = /\s+/g;

/**
 * The thread that stopped on an error, if any: the SQL thread first (the data diverged), then an
 * IO thread that gave up (not one reconnecting: 'Connecting' is a source that is away). An IO
 * thread that gives up leaves the SQL thread running; with both stopped and no SQL error, a STOP
 * SLAVE stopped them, and the IO error is the last one it saw while reconnecting, which the server
 * keeps (seen in the secure lab: b1 isolated from its dead old writer by a failover kept "error
 * reconnecting to master", read as broken, and was never started again). The column names are
 * the same in MariaDB 10.11 and MySQL 8 for these four.
 */
function stoppedOnError(
  status: ReplicationStatus,
  row: Record<string, unknown>,
  ioErrno: string,
  ioError: string,
  sqlErrno: string,
  sqlError: string,
): ReplicationStatus['error'] {
  const sql = num(row[sqlErrno]);
  if (!status.sqlRunning && sql !== undefined && sql > 0)
    return { thread: 'sql', errno: sql, message: str(row[sqlError]) };
  const io = num(row[ioErrno]);
  if (status.ioRunning === 'no' && status.sqlRunning && io !== undefined && io > 0)
    return { thread: 'io', errno: io, message: str(row[ioError]) };
  return undefined;
}

export const mariadbDialect: Dialect = {
  flavor: 'mariadb',
  probeVariables: () =>
    'SELECT @@global.read_only AS readOnly, @@global.gtid_current_pos AS executedGtids, ' +
    '@@global.gtid_binlog_pos AS binlogGtids, @@global.server_id AS serverId, VERSION() AS version, ' +
    '@@global.event_scheduler AS eventScheduler, @@global.gtid_domain_id AS gtidSource',
  // MariaDB 10.11 still names the columns Slave_*/Master_* here (FIELD-NOTES).
  replicaStatus: () => 'SHOW ALL SLAVES STATUS',
  semiSyncStatus: () =>
    pivot(
      'SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES ' +
        'UNION ALL SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS',
      SEMI_SYNC_NAMES,
    ),
  parseReplicaStatus: (row) => {
    const status: ReplicationStatus = {
      sourceHost: str(row.Master_Host),
      sourcePort: num(row.Master_Port) ?? 0,
      ioRunning: ioState(row.Slave_IO_Running),
      sqlRunning: str(row.Slave_SQL_Running).toLowerCase() === 'yes',
      retrievedGtids: str(row.Gtid_IO_Pos),
    };
    const lastError = str(row.Last_IO_Error) || str(row.Last_SQL_Error);
    if (lastError) status.lastError = lastError;
    const error = stoppedOnError(
      status,
      row,
      'Last_IO_Errno',
      'Last_IO_Error',
      'Last_SQL_Errno',
      'Last_SQL_Error',
    );
    if (error) status.error = error;
    const behind = num(row.Seconds_Behind_Master);
    if (behind !== undefined) status.secondsBehind = behind;
    return status;
  },
  executedGtids: () => 'SELECT @@global.gtid_current_pos AS executedGtids',
  limitSelect: (select, ms) => `SET STATEMENT max_statement_time=${seconds(ms)} FOR ${select}`,
  // MariaDB has no super_read_only; users with READ_ONLY ADMIN (or ALL) still write: the
  // application user must not hold it.
  fence: () => ['SET GLOBAL read_only=ON'],
  openWrites: () => ['SET GLOBAL read_only=OFF'],
  // 0 = reached, -1 = timed out.
  waitForGtids: (gtids, timeoutSeconds) => ({
    sql: 'SELECT MASTER_GTID_WAIT(?, ?) AS waited',
    values: [gtids, Number(timeoutSeconds.toFixed(3))],
  }),
  waitSucceeded: (waited) => Number(waited) === 0,
  stopReplication: () => 'STOP SLAVE',
  startReplication: () => 'START SLAVE',
  changeSource: (source, credentials, onlyKeys) => {
    const parts = ['MASTER_HOST=?', 'MASTER_PORT=?'];
    const values: Array<string | number> = [source.host, source.port];
    if (credentials) {
      parts.push('MASTER_USER=?', 'MASTER_PASSWORD=?');
      values.push(credentials.user, credentials.password);
    }
    // slave_pos: the GTID mode for circular replication with log_slave_updates.
    parts.push('MASTER_USE_GTID=slave_pos', 'MASTER_CONNECT_RETRY=1');
    // Domain filters stay with the connection until changed: set or clear them every time.
    const domains = (onlyKeys ?? []).map((key) => {
      if (!/^\d+$/.test(key)) throw new Error(`changeSource: "${key}" is not a MariaDB domain id`);
      return key;
    });
    parts.push(`DO_DOMAIN_IDS=(${domains.join(',')})`, 'IGNORE_DOMAIN_IDS=()');
    return { sql: `CHANGE MASTER TO ${parts.join(', ')}`, values, secret: credentials !== undefined };
  },
};

/** MySQL 8.0.23+ and 8.4 (which dropped the SLAVE/MASTER syntax). Untested against a server. */
export const mysqlDialect: Dialect = {
  flavor: 'mysql',
  probeVariables: () =>
    'SELECT @@global.read_only AS readOnly, @@global.gtid_executed AS executedGtids, ' +
    '@@global.server_id AS serverId, VERSION() AS version, ' +
    '@@global.event_scheduler AS eventScheduler, @@global.server_uuid AS gtidSource',
  replicaStatus: () => 'SHOW REPLICA STATUS',
  // MySQL 8 keeps these in performance_schema; the plugin's names changed in 8.0.26 (both read).
  semiSyncStatus: () =>
    pivot(
      'SELECT VARIABLE_NAME, VARIABLE_VALUE FROM performance_schema.global_variables ' +
        'UNION ALL SELECT VARIABLE_NAME, VARIABLE_VALUE FROM performance_schema.global_status',
      SEMI_SYNC_NAMES,
    ),
  parseReplicaStatus: (row) => {
    const status: ReplicationStatus = {
      sourceHost: str(row.Source_Host),
      sourcePort: num(row.Source_Port) ?? 0,
      ioRunning: ioState(row.Replica_IO_Running),
      sqlRunning: str(row.Replica_SQL_Running).toLowerCase() === 'yes',
      retrievedGtids: str(row.Retrieved_Gtid_Set).replace(onlyWhitespace, ''),
    };
    const lastError = str(row.Last_IO_Error) || str(row.Last_SQL_Error);
    if (lastError) status.lastError = lastError;
    const error = stoppedOnError(
      status,
      row,
      'Last_IO_Errno',
      'Last_IO_Error',
      'Last_SQL_Errno',
      'Last_SQL_Error',
    );
    if (error) status.error = error;
    const behind = num(row.Seconds_Behind_Source);
    if (behind !== undefined) status.secondsBehind = behind;
    return status;
  },
  executedGtids: () => 'SELECT @@global.gtid_executed AS executedGtids',
  limitSelect: (select, ms) =>
    select.replace(/^\s*SELECT\b/i, `SELECT /*+ MAX_EXECUTION_TIME(${Math.max(1, Math.ceil(ms))}) */`),
  // super_read_only also stops users with CONNECTION_ADMIN/SUPER; it implies read_only.
  fence: () => ['SET GLOBAL super_read_only=ON'],
  openWrites: () => ['SET GLOBAL super_read_only=OFF', 'SET GLOBAL read_only=OFF'],
  // 0 = reached, 1 = timed out.
  waitForGtids: (gtids, timeoutSeconds) => ({
    sql: 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS waited',
    values: [gtids, Number(timeoutSeconds.toFixed(3))],
  }),
  waitSucceeded: (waited) => Number(waited) === 0,
  stopReplication: () => 'STOP REPLICA',
  startReplication: () => 'START REPLICA',
  changeSource: (source, credentials, onlyKeys) => {
    // MySQL filters replication per database or table, not per source uuid: refuse rather than
    // copy a donor's own transactions (the core picks no donor with keys outside the masters').
    if (onlyKeys !== undefined) {
      throw new UnsupportedServerError('MySQL cannot replicate only some GTID sources from one donor');
    }
    const parts = ['SOURCE_HOST=?', 'SOURCE_PORT=?'];
    const values: Array<string | number> = [source.host, source.port];
    if (credentials) {
      parts.push('SOURCE_USER=?', 'SOURCE_PASSWORD=?');
      values.push(credentials.user, credentials.password);
    }
    parts.push('SOURCE_AUTO_POSITION=1', 'SOURCE_CONNECT_RETRY=1');
    return {
      sql: `CHANGE REPLICATION SOURCE TO ${parts.join(', ')}`,
      values,
      secret: credentials !== undefined,
    };
  },
};

/** Client-side interpolation (escaped), for statements the server cannot prepare. */
export function formatStatement(statement: Statement): string {
  return statement.values ? mysql.format(statement.sql, statement.values) : statement.sql;
}

// ---------------------------------------------------------------------------------------
// MariaDB GTID positions (`domain-server-seq,...`): which domains still need waiting for.

/** Items of `wanted` whose domain the `current` position has not reached yet. */
export function mariadbPendingGtids(wanted: string, current: string): string {
  const reached = new Map<string, bigint>();
  for (const item of current.split(',')) {
    const m = /^\s*(\d+)-(\d+)-(\d+)\s*$/.exec(item);
    if (m) reached.set(m[1]!, BigInt(m[3]!));
  }
  const pending: string[] = [];
  for (const item of wanted.split(',')) {
    const m = /^\s*(\d+)-(\d+)-(\d+)\s*$/.exec(item);
    if (!m) continue;
    const have = reached.get(m[1]!);
    if (have === undefined || have < BigInt(m[3]!)) pending.push(`${m[1]}-${m[2]}-${m[3]}`);
  }
  return pending.join(',');
}
