/**
 * Which server threads fencing may kill. Killing a replication thread would break the
 * replication a switchover depends on; killing a system thread can crash features; killing
 * our own connection aborts the fence; killing other coordinators' probe connections would
 * make them think the server is failing. Everything else is a client: it goes.
 */

export interface ProcessRow {
  id: number;
  user: string;
  command: string;
}

/** Commands of replication and server-internal threads (MariaDB and MySQL spellings). */
const PROTECTED_COMMANDS = new Set([
  'binlog dump',
  'binlog dump gtid',
  'slave_io',
  'slave_sql',
  'slave_worker',
  'daemon',
  'killed',
]);

const SYSTEM_USERS = new Set(['system user', 'event_scheduler', 'unauthenticated user']);

export interface KillPolicy {
  /** Our own connections (the one fencing, the one killing). */
  protectedThreadIds: readonly number[];
  /** Users whose connections are never killed: the coordinator user at least. */
  protectedUsers: readonly string[];
}

export function clientConnectionsToKill(rows: readonly ProcessRow[], policy: KillPolicy): number[] {
  const protectedUsers = new Set(policy.protectedUsers.map((u) => u.toLowerCase()));
  const protectedIds = new Set(policy.protectedThreadIds);
  return rows
    .filter((row) => {
      if (protectedIds.has(row.id)) return false;
      const user = row.user.toLowerCase();
      if (SYSTEM_USERS.has(user) || protectedUsers.has(user)) return false;
      return !PROTECTED_COMMANDS.has(row.command.toLowerCase());
    })
    .map((row) => row.id);
}

/**
 * Every thread, as SHOW PROCESSLIST lists them, or an error naming PROCESS. Without PROCESS the
 * list holds only the account's own threads, without a word, and a fence would kill nobody; the
 * join with INNODB_TRX, which is refused without PROCESS (1227, naming it: MariaDB 10.11 and
 * MySQL 8 alike), turns that into an error. The derived table is an aggregate, so it is always
 * materialized, and it has exactly one row.
 */
export const processlistSql =
  'SELECT p.ID AS Id, p.USER AS User, p.COMMAND AS Command FROM information_schema.PROCESSLIST AS p, ' +
  '(SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX) AS needs_process_privilege';
