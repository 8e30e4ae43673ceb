/**
 * The MySQL adapter against the lab's real MariaDB 10.11 servers (a1 <-> b1 circular, a2 from
 * a1, b2 from b1), as the coordinator user. Tests run in order on one lab and put back what
 * they change (writer a1, original replication sources).
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock as clock } from '../../src/clock.js';
import { DeadlineExceededError, ServerDownError } from '../../src/coordinator/ports.js';
import type { LabStatus } from '../../src/lab/lab-status.js';
import { DeadlineConnection } from '../../src/mysql/connection.js';
import { MysqlDatabase } from '../../src/mysql/database.js';
import { asRoot, eventually, startLab, type Lab } from './support/lab.js';

const soon = (ms = 3000): number => clock.now() + ms;

let lab: Lab;
let status: LabStatus;
const databases = new Map<string, MysqlDatabase>();

function node(name: string): LabStatus['nodes'][number] {
  const found = status.nodes.find((n) => n.name === name);
  if (!found) throw new Error(`no node ${name}`);
  return found;
}

/** The adapter for a node, as the daemon would build it from config. */
function db(name: string): MysqlDatabase {
  let existing = databases.get(name);
  if (!existing) {
    existing = newAdapter(name);
    databases.set(name, existing);
  }
  return existing;
}

/** One deadline connection to a node as the coordinator user. */
function coordinatorConnection(name: string): Promise<DeadlineConnection> {
  const n = node(name);
  return DeadlineConnection.open(
    { host: n.host, port: n.port, user: status.users.baton.user, password: status.users.baton.password },
    clock,
    soon(),
  );
}

/** An adapter with no connection yet (a fence then uses its own multi-statement connection). */
function newAdapter(name: string): MysqlDatabase {
  const n = node(name);
  return new MysqlDatabase(
    {
      name,
      host: n.host,
      port: n.port,
      user: status.users.baton.user,
      password: status.users.baton.password,
      replication: { user: status.users.repl.user, password: status.users.repl.password },
    },
    clock,
  );
}

async function query<T>(conn: mysql.Connection, sql: string, values?: unknown[]): Promise<T[]> {
  const [rows] = await conn.query(sql, values);
  return rows as T[];
}

async function processlist(
  name: string,
): Promise<{ Id: number; User: string; Command: string; Info: string | null }[]> {
  const conn = await lab.connect(name, 'baton');
  try {
    return await query(conn, 'SHOW PROCESSLIST');
  } finally {
    conn.destroy();
  }
}

beforeAll(async () => {
  lab = await startLab(); // bare databases and etcd: no coordinators interfering
  status = await lab.status();
});

afterAll(async () => {
  for (const database of databases.values()) await database.close();
  await lab?.down();
});

describe('probe', () => {
  it('reports read_only, executed GTIDs, server id, version and replica status', async () => {
    const writer = await db('a1').probe(soon());
    expect(writer.readOnly).toBe(false);
    expect(writer.serverId).toBe(11);
    expect(writer.version).toMatch(/MariaDB/);
    expect(writer.executedGtids).toMatch(/^\d+-\d+-\d+(,\d+-\d+-\d+)*$/);
    // a1 replicates from b1 (circular).
    expect(writer.replication).toHaveLength(1);
    expect(writer.replication[0]?.sourcePort).toBe(node('b1').port);

    const replica = await db('a2').probe(soon());
    expect(replica.readOnly).toBe(true);
    expect(replica.serverId).toBe(12);
    expect(replica.replication[0]).toMatchObject({
      sourcePort: node('a1').port,
      ioRunning: 'yes',
      sqlRunning: true,
    });
    expect(replica.replication[0]?.retrievedGtids).toMatch(/^1-11-\d+/);
  });

  it('measures lag from the heartbeat row, through circular replication too', async () => {
    await db('a1').writeHeartbeat(soon());
    for (const name of ['a2', 'b1', 'b2']) {
      const lag = await eventually(
        async () => (await db(name).probe(soon())).heartbeatLagMs,
        5000,
        `heartbeat on ${name}`,
      );
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThan(5000);
    }
    // A fresh heartbeat lowers the lag seen downstream.
    await clock.sleep(600);
    const before = (await db('b2').probe(soon())).heartbeatLagMs ?? 0;
    await db('a1').writeHeartbeat(soon());
    const after = await eventually(
      async () => {
        const lag = (await db('b2').probe(soon())).heartbeatLagMs ?? Infinity;
        return lag < before ? lag : undefined;
      },
      5000,
      'fresher heartbeat on b2',
    );
    expect(after).toBeLessThan(before);
  });

  it('never writes a heartbeat on a read-only node (no errant GTID)', async () => {
    const before = (await db('b1').probe(soon())).executedGtids;
    await db('b1').writeHeartbeat(soon());
    await clock.sleep(200);
    expect((await db('b1').probe(soon())).executedGtids).toBe(before);
  });
});

describe('fence and open writes', () => {
  it('sets read_only, kills app connections but not replication or coordinator threads', async () => {
    const dumpsBefore = (await processlist('a1')).filter((p) => p.Command.startsWith('Binlog Dump'));
    expect(dumpsBefore.length).toBe(2); // a2 and b1 read a1's binlog
    const app = await lab.connect('a1', 'app');
    await query(app, 'BEGIN');
    await query(app, 'INSERT INTO writes (client, seq) VALUES (?, ?)', ['fence-test', 1]);
    const otherCoordinator = await lab.connect('a1', 'baton');

    // read_only=ON and the final set in one round trip, on the fence's own connection.
    const ours = async () =>
      (await processlist('a1')).filter((p) => p.User === status.users.baton.user).length;
    const oursBefore = await ours();
    const fencing = newAdapter('a1');
    const { executedGtids } = await fencing.fence(soon());
    // The final set is known before the clients are killed (they only need sending elsewhere).
    expect(await fencing.clientsKilled).toBe(1);
    // Closing leaves no connection of its own behind (one kept a stopped coordinator alive).
    expect(await ours()).toBeGreaterThan(oursBefore);
    await fencing.close();
    await eventually(
      async () => ((await ours()) === oursBefore ? true : undefined),
      2000,
      'connections closed',
    );

    const probe = await db('a1').probe(soon());
    expect(probe.readOnly).toBe(true);
    expect(executedGtids).toBe(probe.executedGtids);
    await expect(query(app, 'COMMIT')).rejects.toThrow();
    app.destroy();
    await expect(query(otherCoordinator, 'SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
    otherCoordinator.destroy();
    const dumpsAfter = (await processlist('a1')).filter((p) => p.Command.startsWith('Binlog Dump'));
    expect(dumpsAfter.map((p) => p.Id).sort()).toEqual(dumpsBefore.map((p) => p.Id).sort());
    for (const name of ['a2', 'b1']) {
      expect((await db(name).probe(soon())).replication[0]).toMatchObject({
        ioRunning: 'yes',
        sqlRunning: true,
      });
    }
    // A new app connection cannot write either.
    const late = await lab.connect('a1', 'app');
    await expect(
      query(late, 'INSERT INTO writes (client, seq) VALUES (?, ?)', ['fence-test', 2]),
    ).rejects.toThrow(/read-only|read_only/i);
    late.destroy();

    await db('a1').openWrites(soon());
    expect((await db('a1').probe(soon())).readOnly).toBe(false);
  });

  it('does not wait on a running write: kills it so read_only takes effect within a 1 s deadline', async () => {
    const app = await lab.connect('a1', 'app');
    const slow = query(app, 'INSERT INTO writes (client, seq) SELECT ?, SLEEP(20)', ['slow-write']);
    slow.catch(() => undefined);
    await clock.sleep(300);
    const startedAt = clock.now();
    await db('a1').fence(soon(1000));
    const took = clock.now() - startedAt;
    console.log(`fence with a running 20 s write took ${Math.round(took)} ms`);
    expect(took).toBeLessThan(1000);
    await expect(slow).rejects.toThrow();
    app.destroy();
    expect((await db('a1').probe(soon())).readOnly).toBe(true);
    await db('a1').openWrites(soon());
  });

  it('kills server-side a statement whose client deadline passed', async () => {
    await db('a1').writeHeartbeat(soon()); // the table exists
    // A coordinator-user connection (never killed by fence) holds a table lock read_only waits for.
    // baton's account has no LOCK TABLES (it never locks): this test lends it, outside the binlog.
    const lockTables = (verb: 'GRANT' | 'REVOKE', to: 'TO' | 'FROM') =>
      asRoot(lab, 'a1', `SET SESSION sql_log_bin = 0; ${verb} LOCK TABLES ON baton.* ${to} 'baton'@'%'`);
    await lockTables('GRANT', 'TO');
    const holder = await lab.connect('a1', 'baton');
    await query(holder, 'LOCK TABLES baton.heartbeat WRITE');
    try {
      const startedAt = clock.now();
      await expect(db('a1').fence(soon(500))).rejects.toBeInstanceOf(DeadlineExceededError);
      // The server would end the statement itself only after lock_wait_timeout (1 s).
      const goneAfter = await eventually(
        async () => {
          // The fence's own statement: the watchdog event's runs mention read_only too, and wait on
          // the same table lock.
          const waiting = (await processlist('a1')).some((p) => p.Info === 'SET GLOBAL read_only=ON');
          return waiting ? undefined : clock.now() - startedAt;
        },
        350,
        'the timed-out SET GLOBAL read_only to be killed on the server',
      );
      console.log(
        `timed-out statement gone from the server ${Math.round(goneAfter)} ms after the call began`,
      );
      expect(goneAfter).toBeLessThan(1000);
    } finally {
      holder.destroy();
      await lockTables('REVOKE', 'FROM');
    }
    expect((await db('a1').probe(soon())).readOnly).toBe(false); // the fence did not happen
  });
});

describe('waitForGtids', () => {
  it('is true once a replica has executed the writer position, false at the deadline otherwise', async () => {
    const app = await lab.connect('a1', 'app');
    await query(app, 'INSERT INTO writes (client, seq) VALUES (?, ?)', ['wait-test', 1]);
    app.destroy();
    const writerPos = (await db('a1').probe(soon())).executedGtids;
    expect(await db('a2').waitForGtids(writerPos, soon(5000))).toBe(true);
    expect(await db('b2').waitForGtids(writerPos, soon(5000))).toBe(true);

    const domain1 = /(?:^|,)1-11-(\d+)/.exec(writerPos);
    const future = `1-11-${Number(domain1?.[1]) + 1000}`;
    const startedAt = clock.now();
    expect(await db('a2').waitForGtids(future, soon(700))).toBe(false);
    const took = clock.now() - startedAt;
    expect(took).toBeGreaterThan(400);
    expect(took).toBeLessThan(2000);
  });

  it('counts the transactions a node wrote itself (switch the writer to b1 and back)', async () => {
    const { executedGtids: a1Final } = await db('a1').fence(soon());
    expect(await db('b1').waitForGtids(a1Final, soon(5000))).toBe(true);
    await db('b1').openWrites(soon());
    await db('b1').writeHeartbeat(soon()); // a transaction in b1's own domain
    const { executedGtids: b1Final } = await db('b1').fence(soon());
    expect(b1Final).toMatch(/(^|,)2-21-\d+/);
    // a1 gets domain 2 through replication; b1's own domain is only in its binlog position.
    expect(await db('a1').waitForGtids(b1Final, soon(5000))).toBe(true);
    expect(await db('b1').waitForGtids(b1Final, soon(1000))).toBe(true);
    await db('a1').openWrites(soon());
  });
});

describe('deadlines', () => {
  it('destroys a connection stuck on a hung server and reconnects afterwards', async () => {
    await db('a2').probe(soon()); // an idle connection is now cached
    await lab.fault('stop', 'a2');
    try {
      const startedAt = clock.now();
      await expect(db('a2').probe(soon(500))).rejects.toBeInstanceOf(DeadlineExceededError);
      const took = clock.now() - startedAt;
      console.log(`probe of a SIGSTOPped server rejected after ${Math.round(took)} ms (deadline 500 ms)`);
      expect(took).toBeLessThan(1500);
      // A new connection attempt is bounded too.
      await expect(db('a2').probe(soon(300))).rejects.toBeInstanceOf(DeadlineExceededError);
    } finally {
      await lab.fault('cont', 'a2');
    }
    expect((await db('a2').probe(soon())).readOnly).toBe(true);
  });

  it('gives up on a long statement at the deadline and never reuses the connection', async () => {
    const conn = await coordinatorConnection('a1');
    const startedAt = clock.now();
    await expect(conn.query('SELECT SLEEP(10) AS s', soon(300), 'sleep')).rejects.toBeInstanceOf(
      DeadlineExceededError,
    );
    expect(clock.now() - startedAt).toBeLessThan(1500);
    expect(conn.broken).toBe(true);
    await expect(conn.query('SELECT 1', soon(), 'after')).rejects.toThrow(/broken/);
  });

  it('never sends a statement whose deadline has passed (a stamp must not act later than counted)', async () => {
    const conn = await coordinatorConnection('a1');
    try {
      await expect(conn.query('SET @late = 1', clock.now() - 1, 'late')).rejects.toBeInstanceOf(
        DeadlineExceededError,
      );
      const [row] = await conn.query('SELECT @late AS late', soon(), 'read');
      expect(row?.late).toBeNull();
    } finally {
      conn.destroy();
    }
  });
});

describe('replication control', () => {
  it('stops and starts replication on a node', async () => {
    await db('a2').stopReplication(soon());
    expect((await db('a2').probe(soon())).replication[0]).toMatchObject({
      ioRunning: 'no',
      sqlRunning: false,
    });
    await db('a2').startReplication(soon());
    await eventually(
      async () => ((await db('a2').probe(soon())).replication[0]?.ioRunning === 'yes' ? true : undefined),
      5000,
      'a2 replicating again',
    );
  });

  it('repoints a replica to another source with GTID positioning, without losing or repeating writes', async () => {
    const a1 = node('a1');
    await db('b2').repoint({ host: a1.host, port: a1.port }, soon());
    const probe = await eventually(
      async () => {
        const p = await db('b2').probe(soon());
        return p.replication[0]?.ioRunning === 'yes' ? p : undefined;
      },
      5000,
      'b2 replicating from a1',
    );
    expect(probe.replication[0]?.sourcePort).toBe(a1.port);
    const app = await lab.connect('a1', 'app');
    await query(app, 'INSERT INTO writes (client, seq) VALUES (?, ?)', ['repoint-test', 1]);
    app.destroy();
    const writerPos = (await db('a1').probe(soon())).executedGtids;
    expect(await db('b2').waitForGtids(writerPos, soon(5000))).toBe(true);
    expect((await db('b2').probe(soon())).replication[0]).toMatchObject({
      sqlRunning: true,
      ioRunning: 'yes',
    });
    expect((await db('b2').probe(soon())).replication[0]?.lastError).toBeUndefined();

    const b1 = node('b1');
    await db('b2').repoint({ host: b1.host, port: b1.port }, soon());
    await eventually(
      async () => ((await db('b2').probe(soon())).replication[0]?.sourcePort === b1.port ? true : undefined),
      5000,
      'b2 back on b1',
    );
  });
});

describe('replication errors', () => {
  it('a channel stopped while reconnecting is stopped, not broken, though the server keeps the IO error', async () => {
    const a1 = node('a1');
    const b1 = node('b1');
    // Nothing listens one port below a1's: the IO thread reconnects with error 2003.
    await db('b2').repoint({ host: a1.host, port: a1.port - 1 }, soon());
    try {
      const reconnecting = await eventually(
        async () => {
          const channel = (await db('b2').probe(soon())).replication[0];
          return channel?.lastError ? channel : undefined;
        },
        10_000,
        'b2 reconnecting with an error',
      );
      expect(reconnecting.ioRunning).toBe('connecting');
      expect(reconnecting.error).toBeUndefined();
      await db('b2').stopReplication(soon());
      const stopped = (await db('b2').probe(soon())).replication[0];
      // MariaDB keeps the reconnect error after STOP SLAVE: reading it as "stopped on an error"
      // left a channel baton had stopped itself for ever stopped (secure lab).
      expect(stopped).toMatchObject({ ioRunning: 'no', sqlRunning: false });
      expect(stopped?.lastError).toMatch(/connect/i);
      expect(stopped?.error).toBeUndefined();
    } finally {
      await db('b2').repoint({ host: b1.host, port: b1.port }, soon());
    }
    await eventually(
      async () => ((await db('b2').probe(soon())).replication[0]?.ioRunning === 'yes' ? true : undefined),
      10_000,
      'b2 back on b1',
    );
  });
});

describe('a crash-truncated tail (truncated-tail.ts)', () => {
  it("moves a master's gtid_slave_pos back to its binlog in its own domain before it replicates again", async () => {
    // b1 writes in its own domain 2 (as a writer would), then its slave position is pushed past
    // its binlog there, as a crash recovery truncation leaves it; a1 stays the writer.
    const a1 = node('a1');
    await asRoot(
      lab,
      'b1',
      'SET SESSION gtid_domain_id=2; SET SESSION server_id=21; CREATE DATABASE IF NOT EXISTS tail_test',
    );
    const [binlogPos, slavePos] = (await asRoot(lab, 'b1', 'SELECT @@gtid_binlog_pos, @@gtid_slave_pos'))
      .trim()
      .split('\t');
    const own = /(?:^|,)2-21-(\d+)/.exec(binlogPos ?? '');
    expect(own, `b1 binlog ${binlogPos}`).not.toBeNull();
    const ahead = [
      ...(slavePos ?? '').split(',').filter((p) => p && !p.startsWith('2-')),
      `2-21-${Number(own![1]) + 5}`,
    ].join(',');
    await asRoot(lab, 'b1', `STOP SLAVE; SET GLOBAL gtid_slave_pos='${ahead}'`);
    // Its executed set now claims the tail its binlog lacks; the probe tells both apart (upkeep
    // must not send a replica to it for that tail: error 1236).
    const claimed = await db('b1').probe(soon());
    expect(claimed.executedGtids).toContain(`2-21-${Number(own![1]) + 5}`);
    expect(claimed.binlogGtids).toContain(`2-21-${own![1]}`);
    expect(claimed.binlogGtids).not.toContain(`2-21-${Number(own![1]) + 5}`);

    await db('b1').repoint({ host: a1.host, port: a1.port }, soon());
    const after = (
      await asRoot(lab, 'b1', 'SELECT @@gtid_slave_pos, @@global.rpl_semi_sync_slave_enabled')
    ).trim();
    expect(after).not.toContain(`2-21-${Number(own![1]) + 5}`);
    expect(after.split('\t')[1]).toBe('1');
    await eventually(
      async () => ((await db('b1').probe(soon())).replication[0]?.ioRunning === 'yes' ? true : undefined),
      5000,
      'b1 replicating from a1 again',
    );
    expect((await db('b1').probe(soon())).replication[0]?.lastError).toBeUndefined();
  });
});

describe('server down', () => {
  it('tells a server that is not running (refused) from one that does not answer', async () => {
    await lab.fault('kill', 'a2');
    try {
      // SIGKILL is sent when the command returns; the port closes once the process is gone.
      await eventually(
        async () =>
          (await lab.status()).nodes.find((n) => n.name === 'a2')?.alive === false ? true : undefined,
        5_000,
        'a2 gone',
      );
      await expect(db('a2').probe(soon(1000))).rejects.toBeInstanceOf(ServerDownError);
    } finally {
      await lab.fault('start', 'a2');
    }
    const back = await eventually(
      async () =>
        db('a2')
          .probe(soon())
          .catch(() => undefined),
      20_000,
      'a2 back',
    );
    expect(back.readOnly).toBe(true); // read_only=ON from its config: it cannot come back as a writer
  });

  it('does not report a restarted server as failing because of a stale idle connection', async () => {
    await db('b2').probe(soon()); // leaves an idle connection to the old process
    await lab.fault('kill', 'b2');
    await lab.fault('start', 'b2');
    await eventually(
      async () => {
        const conn = await lab.connect('b2', 'baton');
        conn.destroy();
        return true;
      },
      20_000,
      'b2 accepting connections',
    );
    expect((await db('b2').probe(soon())).readOnly).toBe(true);
  });
});

describe('watchdog', () => {
  /** a1's own deadline in its heartbeat row, as microseconds from its clock's now (null: unset). */
  async function fenceAfterUs(name: string): Promise<number | null> {
    const conn = await lab.connect(name, 'baton');
    try {
      const [row] = await query<{ us: number | null }>(
        conn,
        'SELECT TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), fence_after) AS us FROM baton.heartbeat WHERE server_id = @@server_id',
      );
      return row === undefined ? null : row.us === null ? null : Number(row.us);
    } finally {
      conn.destroy();
    }
  }

  it('is armed on every node the lab set up (event installed, scheduler on)', async () => {
    for (const name of ['a1', 'a2', 'b1', 'b2'])
      expect((await db(name).probe(soon())).watchdog).toBe('armed');
  });

  it('adds its column to a heartbeat table from before the watchdog', async () => {
    const conn = await lab.connect('a1', 'baton');
    try {
      await query(conn, 'ALTER TABLE baton.heartbeat DROP COLUMN fence_after');
    } finally {
      conn.destroy();
    }
    await db('a1').writeHeartbeat(soon(), { holdMs: 60_000 });
    const left = await fenceAfterUs('a1');
    expect(left).toBeGreaterThan(55_000_000);
  });

  it('a guarded stamp on a read-only server writes nothing (no GTID, no deadline)', async () => {
    // The previous test's column changes on a1 (dropped, then added back) reach b1 by replication,
    // across the lab's WAN: wait for all of a1's transactions, not for the column to be there (it
    // was there before the drop arrived, once in a run).
    const a1Executed = (await db('a1').probe(soon())).executedGtids;
    expect(await db('b1').waitForGtids(a1Executed, soon(10_000))).toBe(true);
    const before = await db('b1').probe(soon());
    expect(before.readOnly).toBe(true);
    // Only b1's own transactions: a1's keep arriving through replication meanwhile.
    const own = (gtids: string) =>
      gtids.split(',').filter((g) => g.split('-')[1] === String(before.serverId));
    await db('b1').writeHeartbeat(soon(), { holdMs: 1000 });
    expect(own((await db('b1').probe(soon())).executedGtids)).toEqual(own(before.executedGtids));
    expect(await fenceAfterUs('b1')).toBeNull();
  });

  it('the deadline only moves later; once it passes, the event closes the writer within a tick', async () => {
    await db('a1').writeHeartbeat(soon(), { holdMs: 200 }); // earlier than the 60 s already there
    expect(await fenceAfterUs('a1')).toBeGreaterThan(50_000_000);

    // A server whose deadline has passed, opened with a fresh stamp: the stamp goes first.
    await db('a1').fence(soon());
    const conn = await lab.connect('a1', 'baton');
    try {
      await query(
        conn,
        'UPDATE baton.heartbeat SET fence_after = UTC_TIMESTAMP(6) WHERE server_id = @@server_id',
      );
    } finally {
      conn.destroy();
    }
    await db('a1').openWrites(soon(), { holdMs: 400 });
    const openedAt = clock.now();
    expect((await db('a1').probe(soon())).readOnly).toBe(false);
    const closedAfter = await eventually(
      async () => ((await db('a1').probe(soon())).readOnly ? clock.now() - openedAt : undefined),
      5_000,
      'the watchdog to close a1',
    );
    console.log(`[watchdog] a1 closed ${Math.round(closedAfter)} ms after a 400 ms hold began`);
    expect(closedAfter).toBeGreaterThanOrEqual(350); // the hold began just before openedAt
    expect(closedAfter).toBeLessThan(400 + 1000 + 250 + 100);
    // Put back the writer the other tests expect, vouched for long enough.
    await db('a1').openWrites(soon(), { holdMs: 600_000 });
    expect((await db('a1').probe(soon())).readOnly).toBe(false);
  });
});
