/**
 * What baton's MySQL account needs, and what for. Verified on MariaDB 10.11, one privilege at a
 * time: with exactly these every action works, and without any one of them the action that needs
 * it fails (test/integration/mysql-privileges.test.ts). The MySQL 8 names are untested.
 * `baton doctor` checks an account against this list (doctor/grants.ts); README and DESIGN.md
 * carry the same table.
 */
import type { Flavor } from './dialect.js';

export interface PrivilegeNeed {
  mariadb: string;
  mysql: string;
  /** `*.*`, or baton's own schema. */
  on: '*.*' | 'baton.*';
  /** The actions that fail without it. */
  neededFor: string;
}

export const BATON_SCHEMA = 'baton';

export const BATON_PRIVILEGES: readonly PrivilegeNeed[] = [
  {
    mariadb: 'READ_ONLY ADMIN',
    mysql: 'SYSTEM_VARIABLES_ADMIN',
    on: '*.*',
    neededFor:
      'fence and open writes (SET GLOBAL read_only), the watchdog stamp written while read_only is ON, and the watchdog event closing the writer',
  },
  {
    mariadb: 'CONNECTION ADMIN',
    mysql: 'CONNECTION_ADMIN',
    on: '*.*',
    neededFor: "kill the clients' connections when fencing",
  },
  {
    mariadb: 'PROCESS',
    mysql: 'PROCESS',
    on: '*.*',
    neededFor: 'see the client connections a fence kills (without it the list holds only its own)',
  },
  {
    mariadb: 'SLAVE MONITOR',
    mysql: 'REPLICATION CLIENT',
    on: '*.*',
    neededFor: 'read replication status in every probe and in doctor',
  },
  {
    mariadb: 'REPLICATION SLAVE ADMIN',
    mysql: 'REPLICATION_SLAVE_ADMIN',
    on: '*.*',
    neededFor:
      'repoint replication: STOP/START SLAVE, CHANGE MASTER, gtid_slave_pos, rpl_semi_sync_slave_enabled',
  },
  { mariadb: 'SELECT', mysql: 'SELECT', on: 'baton.*', neededFor: 'read the heartbeat lag in probes' },
  {
    mariadb: 'INSERT',
    mysql: 'INSERT',
    on: 'baton.*',
    neededFor: 'write heartbeats and watchdog stamps',
  },
  {
    mariadb: 'UPDATE',
    mysql: 'UPDATE',
    on: 'baton.*',
    neededFor: 'write heartbeats and watchdog stamps (INSERT … ON DUPLICATE KEY UPDATE)',
  },
  {
    mariadb: 'CREATE',
    mysql: 'CREATE',
    on: 'baton.*',
    neededFor: 'create the baton schema and heartbeat table on first use',
  },
  {
    mariadb: 'ALTER',
    mysql: 'ALTER',
    on: 'baton.*',
    neededFor: 'add the watchdog column to a heartbeat table from before the watchdog',
  },
  {
    mariadb: 'EVENT',
    mysql: 'EVENT',
    on: 'baton.*',
    neededFor:
      "run the watchdog event as its definer (the server refuses to run it otherwise), and read the event's status",
  },
];

/** The names a flavor uses for the privileges baton needs on `on`. */
export function batonPrivileges(flavor: Flavor, on: PrivilegeNeed['on']): string[] {
  return BATON_PRIVILEGES.filter((p) => p.on === on).map((p) => p[flavor]);
}
