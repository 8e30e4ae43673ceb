/**
 * The heartbeat row: the writer's guardian stamps `UTC_TIMESTAMP(6)` into its own row every
 * interval; the stamp replicates with the row (row-based binlog carries the value), so on any
 * node `UTC_TIMESTAMP(6) - MAX(ts)` is how far behind the writer it is, even in circular
 * replication where Seconds_Behind_Master is meaningless. The value includes up to one
 * heartbeat interval of staleness and assumes server clocks are NTP-synchronised.
 */
import type { WatchdogHold } from '../coordinator/ports.js';
import type { Statement } from './dialect.js';

export const HEARTBEAT_TABLE = 'baton.heartbeat';

/**
 * `fence_after` is the watchdog's deadline for this server (src/mysql/watchdog.ts): NULL until
 * a coordinator first vouches for it. Every server reads only its own row, so replicating the
 * rows is harmless.
 */
export const heartbeatSchemaSql = [
  'CREATE DATABASE IF NOT EXISTS baton',
  `CREATE TABLE IF NOT EXISTS ${HEARTBEAT_TABLE} (server_id INT UNSIGNED NOT NULL PRIMARY KEY, ` +
    'ts DATETIME(6) NOT NULL, fence_after DATETIME(6) NULL) ENGINE=InnoDB',
];

/** A table from before the watchdog: the column is added on the writer (the DDL replicates). */
export const heartbeatAddWatchdogColumnSql = `ALTER TABLE ${HEARTBEAT_TABLE} ADD COLUMN fence_after DATETIME(6) NULL`;

/** Writes nothing (and creates no GTID) unless the server is writable; ? = server_id. */
export const heartbeatWriteSql =
  `INSERT INTO ${HEARTBEAT_TABLE} (server_id, ts) SELECT ?, UTC_TIMESTAMP(6) FROM DUAL ` +
  'WHERE @@global.read_only = 0 ON DUPLICATE KEY UPDATE ts = UTC_TIMESTAMP(6)';

/** The watchdog deadline a stamp asks for, on the server's own clock. */
const stampedDeadline = 'UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND';

/**
 * The heartbeat plus the watchdog's deadline, which only moves later: each stamp is bounded by
 * its own stamper's lease, so the latest of them is too. `guarded`: write nothing unless the
 * server is writable (the heartbeat's rule); unguarded only right before opening writes on a
 * server that becomes the writer.
 */
export function heartbeatStamp(serverId: number, hold: WatchdogHold, guarded: boolean): Statement {
  const holdUs = Math.max(0, Math.round(hold.holdMs * 1000));
  return {
    sql:
      `INSERT INTO ${HEARTBEAT_TABLE} (server_id, ts, fence_after) ` +
      `SELECT ?, UTC_TIMESTAMP(6), ${stampedDeadline} FROM DUAL ` +
      (guarded ? 'WHERE @@global.read_only = 0 ' : '') +
      'ON DUPLICATE KEY UPDATE ts = UTC_TIMESTAMP(6), ' +
      `fence_after = GREATEST(COALESCE(fence_after, ${stampedDeadline}), ${stampedDeadline})`,
    values: [serverId, holdUs, holdUs, holdUs],
  };
}

const lagExpression = 'TIMESTAMPDIFF(MICROSECOND, MAX(ts), UTC_TIMESTAMP(6))';

/** Microseconds since the newest heartbeat this server has applied (NULL when none yet). */
export const heartbeatLagSql = `SELECT ${lagExpression} AS lagUs FROM ${HEARTBEAT_TABLE}`;

/** The same as a column, to append to a FROM-less SELECT list and save a round trip. */
export const heartbeatLagColumn = `(SELECT ${lagExpression} FROM ${HEARTBEAT_TABLE}) AS lagUs`;
