/**
 * The heartbeat row: the writer's guardian stamps `UTC_TIMESTAMP(6)` into its own row every
 * interval; the stamp replicates with the row (row-based binlog carries the value), so on any
 * node `UTC_TIMESTAMP(6) - MAX(ts)` is how far behind the writer it is, even in circular
 * replication where Seconds_Behind_Master is meaningless. The value includes up to one
 * heartbeat interval of staleness and assumes server clocks are NTP-synchronised.
 */
export const HEARTBEAT_TABLE = 'baton.heartbeat';

export const heartbeatSchemaSql = [
  'CREATE DATABASE IF NOT EXISTS baton',
  `CREATE TABLE IF NOT EXISTS ${HEARTBEAT_TABLE} (server_id INT UNSIGNED NOT NULL PRIMARY KEY, ` +
    'ts DATETIME(6) NOT NULL) ENGINE=InnoDB',
];

/** Writes nothing (and creates no GTID) unless the server is writable; ? = server_id. */
export const heartbeatWriteSql =
  `INSERT INTO ${HEARTBEAT_TABLE} (server_id, ts) SELECT ?, UTC_TIMESTAMP(6) FROM DUAL ` +
  'WHERE @@global.read_only = 0 ON DUPLICATE KEY UPDATE ts = UTC_TIMESTAMP(6)';

const lagExpression = 'TIMESTAMPDIFF(MICROSECOND, MAX(ts), UTC_TIMESTAMP(6))';

/** Microseconds since the newest heartbeat this server has applied (NULL when none yet). */
export const heartbeatLagSql = `SELECT ${lagExpression} AS lagUs FROM ${HEARTBEAT_TABLE}`;

/** The same as a column, to append to a FROM-less SELECT list and save a round trip. */
export const heartbeatLagColumn = `(SELECT ${lagExpression} FROM ${HEARTBEAT_TABLE}) AS lagUs`;
