/**
 * baton's least privilege, on a real MariaDB 10.11 (issue 15): with exactly the grants
 * mysql/privileges.ts lists, every action baton takes works; without any one of them, the action
 * that needs it fails with one line naming the privilege and the GRANT that fixes it. One
 * standalone server, configured like a lab master (read_only=ON, GTID, event scheduler, the
 * watchdog event defined as baton), each case on fresh connections (MariaDB reads an account's
 * global privileges when it logs in).
 */
import { Writable } from 'node:stream';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock as clock } from '../../src/clock.js';
import { reviewBatonGrants } from '../../src/doctor/grants.js';
import { readServer } from '../../src/doctor/read-server.js';
import { createLogger } from '../../src/log.js';
import { MysqlDatabase } from '../../src/mysql/database.js';
import { heartbeatSchemaSql } from '../../src/mysql/heartbeat.js';
import { BATON_PRIVILEGES, batonPrivileges } from '../../src/mysql/privileges.js';
import { watchdogInstallSql } from '../../src/mysql/watchdog.js';
import { eventually } from './support/lab.js';
import {
  startStandaloneMariadbs,
  type StandaloneMariadb,
  type StandaloneMariadbs,
} from './support/standalone-mariadb.js';

const soon = (ms = 3000): number => clock.now() + ms;
const BATON = { user: 'baton', password: 'baton-priv-secret' };
const APP = { user: 'app', password: 'app-priv-secret' };
const HOST = '127.0.0.1';

let servers: StandaloneMariadbs;
let server: StandaloneMariadb;

async function asRoot(...statements: string[]): Promise<Record<string, unknown>[]> {
  const conn = await server.root();
  try {
    let rows: unknown = [];
    for (const sql of statements) [rows] = await conn.query(sql);
    return rows as Record<string, unknown>[];
  } finally {
    conn.destroy();
  }
}

const readOnly = async () => Number((await asRoot('SELECT @@global.read_only AS r'))[0]?.r);

/** An adapter on fresh connections, with what it logs kept. */
function adapter(): { db: MysqlDatabase; logged: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const db = new MysqlDatabase(
    { name: 'priv', host: HOST, port: server.port, ...BATON, replication: { user: 'repl', password: 'x' } },
    clock,
    createLogger({ level: 'debug', destination }),
  );
  return { db, logged: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** An idle client connection, for a fence to kill. */
async function appConnection(): Promise<mysql.Connection> {
  const conn = await mysql.createConnection({ host: HOST, port: server.port, ...APP });
  conn.on('error', () => undefined);
  return conn;
}

/** A fence with a client connected: the message its client kill failed with, or undefined. */
async function fenceKillFailure(): Promise<string | undefined> {
  const client = await appConnection();
  const { db, logged } = adapter();
  try {
    await db.fence(soon());
    expect(await db.clientsKilled).toBe(0);
    const failed = logged().find((l) => l.msg === 'fenced; killing its clients failed');
    return failed?.err as string | undefined;
  } finally {
    await db.close();
    client.destroy();
  }
}

/** The heartbeat table as it was before the watchdog (no fence_after column). */
const OLD_HEARTBEAT_TABLE =
  'CREATE TABLE baton.heartbeat (server_id INT UNSIGNED NOT NULL PRIMARY KEY, ts DATETIME(6) NOT NULL) ENGINE=InnoDB';

beforeAll(async () => {
  servers = await startStandaloneMariadbs([{ name: 'priv', bindAddresses: [HOST] }]);
  server = servers.servers[0] as StandaloneMariadb;
  await asRoot(
    'SET SESSION sql_log_bin = 0',
    `CREATE USER ${BATON.user}@'%' IDENTIFIED BY '${BATON.password}'`,
    `GRANT ${batonPrivileges('mariadb', '*.*').join(', ')} ON *.* TO ${BATON.user}@'%'`,
    `GRANT ${batonPrivileges('mariadb', 'baton.*').join(', ')} ON baton.* TO ${BATON.user}@'%'`,
    `CREATE USER ${APP.user}@'%' IDENTIFIED BY '${APP.password}'`,
    ...watchdogInstallSql('mariadb', `'${BATON.user}'@'%'`),
  );
}, 60_000);

afterAll(async () => {
  await servers?.stop();
});

describe("baton's MySQL grants on MariaDB 10.11", () => {
  it('the documented grants are enough for every action baton takes, and doctor finds nothing missing or extra', async () => {
    const { db } = adapter();
    try {
      // Open writes, then the heartbeat creates its schema (CREATE) and writes (INSERT, UPDATE).
      await asRoot('SET SESSION sql_log_bin = 0', 'DROP TABLE baton.heartbeat');
      await db.openWrites(soon());
      await db.writeHeartbeat(soon());
      // Probe: variables, replica status (SLAVE MONITOR), semi-sync, lag (SELECT), the event (EVENT).
      const probe = await db.probe(soon());
      expect(probe.readOnly).toBe(false);
      expect(probe.heartbeatLagMs).toBeGreaterThanOrEqual(0);
      expect(probe.watchdog).toBe('armed');
      // Fence: read_only (READ_ONLY ADMIN), then the clients are seen (PROCESS) and killed (CONNECTION ADMIN).
      const client = await appConnection();
      try {
        await db.fence(soon());
        expect(await db.clientsKilled).toBe(1);
      } finally {
        client.destroy();
      }
      expect(await readOnly()).toBe(1);
      // Open with a short hold, on a heartbeat table from before the watchdog: the stamp adds its
      // column (ALTER) and is written while read_only is ON (READ_ONLY ADMIN); then the event,
      // running as baton, closes the writer once the hold has passed.
      await asRoot('SET SESSION sql_log_bin = 0', 'DROP TABLE baton.heartbeat', OLD_HEARTBEAT_TABLE);
      await db.openWrites(soon(), { holdMs: 300 });
      expect(await readOnly()).toBe(0);
      await eventually(
        async () => ((await readOnly()) === 1 ? true : undefined),
        3_000,
        'the event to close',
      );
      expect(await db.waitForGtids(probe.executedGtids, soon())).toBe(true);
      // Replication control (REPLICATION SLAVE ADMIN): stop, align gtid_slave_pos and semi-sync
      // (a returning writer's repoint), CHANGE MASTER, start.
      await db.repoint({ host: HOST, port: 1 }, soon(), { refetchOwnTail: true });
      await db.stopReplication(soon());
      await db.startReplication(soon());
      expect((await db.probe(soon())).replication[0]?.sourcePort).toBe(1);
    } finally {
      await db.close();
      await asRoot('STOP SLAVE', 'RESET SLAVE ALL');
    }
    const read = await readServer({ host: HOST, port: server.port, baton: BATON, apps: [] }, clock);
    try {
      if (!read.facts.reachable || !read.facts.baton) throw new Error(JSON.stringify(read.facts));
      expect(reviewBatonGrants(read.facts.baton.grants, 'mariadb')).toEqual({
        missing: [],
        missingOnSchema: [],
        extra: [],
      });
    } finally {
      await read.close();
    }
  }, 30_000);

  /** Each privilege, the action that needs it, and how that action is made to fail. */
  const CASES: [string, string, string, () => Promise<string | undefined>][] = [
    ['READ_ONLY ADMIN', '*.*', 'fence', () => failure((db) => db.fence(soon()))],
    ['CONNECTION ADMIN', '*.*', "kill a fenced server's clients", fenceKillFailure],
    ['PROCESS', '*.*', "see a fenced server's clients", fenceKillFailure],
    ['SLAVE MONITOR', '*.*', 'probe (replica status)', () => failure((db) => db.probe(soon()))],
    [
      'REPLICATION SLAVE ADMIN',
      '*.*',
      'repoint',
      () => failure((db) => db.repoint({ host: HOST, port: 1 }, soon())),
    ],
    ['SELECT', 'baton.*', 'probe (heartbeat lag)', () => failure((db) => db.probe(soon()))],
    ['INSERT', 'baton.*', 'heartbeat', () => writable(() => failure((db) => db.writeHeartbeat(soon())))],
    ['UPDATE', 'baton.*', 'heartbeat', () => writable(() => failure((db) => db.writeHeartbeat(soon())))],
    [
      'CREATE',
      'baton.*',
      'create the heartbeat table',
      () =>
        withHeartbeatTable(['DROP TABLE baton.heartbeat'], () =>
          writable(() => failure((db) => db.writeHeartbeat(soon()))),
        ),
    ],
    [
      'ALTER',
      'baton.*',
      "add the heartbeat's watchdog column",
      () =>
        withHeartbeatTable(['DROP TABLE baton.heartbeat', OLD_HEARTBEAT_TABLE], () =>
          writable(() => failure((db) => db.writeHeartbeat(soon(), { holdMs: 60_000 }))),
        ),
    ],
  ];

  it('every privilege the list names has a case here, and every case one privilege of the list', () => {
    const listed = BATON_PRIVILEGES.map((p) => `${p.mariadb} ON ${p.on}`).sort();
    const cased = [...CASES.map(([p, on]) => `${p} ON ${on}`), 'EVENT ON baton.*'].sort();
    expect(cased).toEqual(listed);
  });

  it.each(CASES)('without %s on %s, %s fails naming it', async (privilege, on, _action, run) => {
    await asRoot(`REVOKE ${privilege} ON ${on} FROM ${BATON.user}@'%'`);
    let message: string | undefined;
    try {
      message = await run();
    } finally {
      await asRoot(`GRANT ${privilege} ON ${on} TO ${BATON.user}@'%'`);
    }
    console.log(`[privileges] without ${privilege} on ${on}: ${message}`);
    expect(message).toBeDefined();
    expect(message?.split('\n')).toHaveLength(1);
    expect(message).toContain(
      `baton's MySQL account lacks ${privilege} on ${on}: GRANT ${privilege} ON ${on} TO 'baton'@'%'`,
    );
  });

  it('without EVENT on baton.*, the watchdog event does not run and baton cannot see it; doctor names EVENT', async () => {
    await asRoot(`REVOKE EVENT ON baton.* FROM ${BATON.user}@'%'`);
    const { db } = adapter();
    try {
      expect((await db.probe(soon())).watchdog).toBe('event-missing');
      await db.openWrites(soon(), { holdMs: 200 });
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      // Left open: MariaDB refused to run the event as baton.
      expect(await readOnly()).toBe(0);
      expect(server.errorLog()).toMatch(
        /\[baton\.watchdog\] execution failed, user no longer has EVENT privilege/,
      );
      const read = await readServer({ host: HOST, port: server.port, baton: BATON, apps: [] }, clock);
      try {
        if (!read.facts.reachable || !read.facts.baton) throw new Error(JSON.stringify(read.facts));
        expect(reviewBatonGrants(read.facts.baton.grants, 'mariadb').missingOnSchema).toEqual(['EVENT']);
        expect(read.facts.watchdogEvent).toBeUndefined();
      } finally {
        await read.close();
      }
    } finally {
      await db.close();
      await asRoot(`GRANT EVENT ON baton.* TO ${BATON.user}@'%'`, 'SET GLOBAL read_only = ON');
    }
  });
});

/** The message `action` fails with on a fresh adapter, or undefined when it succeeds. */
async function failure(action: (db: MysqlDatabase) => Promise<unknown>): Promise<string | undefined> {
  const { db } = adapter();
  try {
    await action(db);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await db.close();
  }
}

/** Runs `work` with the server writable (the heartbeat writes only then). */
async function writable<T>(work: () => Promise<T>): Promise<T> {
  await asRoot('SET GLOBAL read_only = OFF');
  try {
    return await work();
  } finally {
    await asRoot('SET GLOBAL read_only = ON');
  }
}

/** Runs `work` with the heartbeat table changed by `statements`, then puts it back. */
async function withHeartbeatTable<T>(statements: string[], work: () => Promise<T>): Promise<T> {
  await asRoot('SET SESSION sql_log_bin = 0', ...statements);
  try {
    return await work();
  } finally {
    await asRoot(
      'SET SESSION sql_log_bin = 0',
      'DROP TABLE IF EXISTS baton.heartbeat',
      ...heartbeatSchemaSql,
    );
  }
}
