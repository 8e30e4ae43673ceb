/**
 * The watchdog event (DESIGN.md "Watchdog"): once a second, on each candidate's own clock, a
 * writable server whose heartbeat row's `fence_after` has passed makes itself read-only. It is
 * what closes a writer whose guardian is dead where nobody can reach it; it never opens anything.
 *
 * baton does not install it: creating an event on a read-only server through the binlog would
 * be an errant transaction there, and a replicated CREATE EVENT arrives disabled
 * (SLAVESIDE_DISABLED). The operator (or `baton lab up`) creates it on every candidate with
 * binary logging off for the session, and turns the event scheduler on; baton reports each
 * server's watchdog state in probes and `baton status`.
 */
import type { WatchdogState } from '../coordinator/ports.js';
import type { Flavor } from './dialect.js';
import { HEARTBEAT_TABLE, heartbeatSchemaSql } from './heartbeat.js';

export const WATCHDOG_EVENT = 'baton.watchdog';

/** MySQL's read_only does not stop SUPER users; the fence there is super_read_only. */
function closeStatement(flavor: Flavor): string {
  return flavor === 'mysql' ? 'SET GLOBAL super_read_only = ON' : 'SET GLOBAL read_only = ON';
}

/**
 * What to run on every candidate (as an administrator, in one session), with `definer` being
 * baton's MySQL account ('user'@'host'): it needs the right to set read_only.
 */
export function watchdogInstallSql(flavor: Flavor, definer: string): string[] {
  return [
    'SET SESSION sql_log_bin = 0',
    ...heartbeatSchemaSql,
    `CREATE DEFINER = ${definer} EVENT IF NOT EXISTS ${WATCHDOG_EVENT} ` +
      'ON SCHEDULE EVERY 1 SECOND ON COMPLETION PRESERVE ENABLE ' +
      "COMMENT 'baton: read-only once no coordinator vouches for this writer' DO BEGIN " +
      // Each run is a thread of its own: one blocked on a lock must not pile up behind the next.
      'SET SESSION lock_wait_timeout = 2; ' +
      `IF @@global.read_only = 0 AND EXISTS (SELECT 1 FROM ${HEARTBEAT_TABLE} ` +
      'WHERE server_id = @@global.server_id AND fence_after < UTC_TIMESTAMP(6)) ' +
      `THEN ${closeStatement(flavor)}; END IF; END`,
    // ALTER EVENT makes whoever runs it the definer unless it names one (measured on 10.11.19:
    // without this the lab's events ran as root@localhost), and the event must run as baton.
    `ALTER DEFINER = ${definer} EVENT ${WATCHDOG_EVENT} ENABLE`,
    'SET GLOBAL event_scheduler = ON',
  ];
}

/**
 * The same as a script for the mysql/mariadb command-line client: the event's body holds
 * semicolons, so its CREATE goes between DELIMITER lines.
 */
export function watchdogInstallScript(flavor: Flavor, definer: string): string {
  return watchdogInstallSql(flavor, definer)
    .map((statement) =>
      statement.startsWith('CREATE DEFINER') ? `DELIMITER //\n${statement} //\nDELIMITER ;` : `${statement};`,
    )
    .join('\n');
}

/** One row (or none): the event's status. Same text on MariaDB and MySQL. */
export const watchdogEventStatusSql =
  "SELECT STATUS AS status FROM information_schema.EVENTS WHERE EVENT_SCHEMA = 'baton' AND EVENT_NAME = 'watchdog'";

/** From @@global.event_scheduler and the event's STATUS (null or undefined: no such event). */
export function watchdogState(eventScheduler: unknown, eventStatus: unknown): WatchdogState {
  if (String(eventScheduler ?? '').toUpperCase() !== 'ON') return 'scheduler-off';
  if (eventStatus === undefined || eventStatus === null) return 'event-missing';
  return String(eventStatus).toUpperCase() === 'ENABLED' ? 'armed' : 'event-disabled';
}
