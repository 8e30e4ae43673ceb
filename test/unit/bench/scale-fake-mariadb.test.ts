import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import { ServerDownError } from '../../../src/coordinator/ports.js';
import { MysqlDatabase } from '../../../src/mysql/database.js';
import { fakeNodeSpecs } from '../../../bench/scale/coordinator-configs.js';
import { FakeFleet } from '../../../bench/scale/fake-mariadb.js';

/** baton's own MySQL adapter against the fakes: every statement it sends must be modelled. */
describe('fake MariaDB fleet', () => {
  let fleet: FakeFleet;
  const open: MysqlDatabase[] = [];
  const deadline = () => systemClock.now() + 2_000;
  const db = (node: string): MysqlDatabase => {
    const fake = fleet.find('c1', node);
    if (!fake) throw new Error(`no ${node}`);
    const database = new MysqlDatabase(
      {
        name: node,
        host: '127.0.0.1',
        port: fake.port,
        user: 'baton',
        password: 'x',
        replication: { user: 'repl', password: 'y' },
      },
      systemClock,
    );
    open.push(database);
    return database;
  };

  beforeEach(async () => {
    fleet = new FakeFleet();
    await fleet.start(new Map([['c1', fakeNodeSpecs('c1')]]));
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.close()));
    await fleet.stop();
  });

  it('answers probes like a dual-master pair with replicas in step', async () => {
    const a1 = await db('a1').probe(deadline());
    expect(a1).toMatchObject({
      readOnly: false,
      executedGtids: '1-11-100',
      serverId: 11,
      gtidSource: '1',
      watchdog: 'armed',
    });
    expect(a1.replication[0]).toMatchObject({
      ioRunning: 'yes',
      sqlRunning: true,
      sourcePort: fleet.find('c1', 'b1')?.port,
    });
    await db('a1').writeHeartbeat(deadline(), { holdMs: 1_000 } as never);
    const a2 = await db('a2').probe(deadline());
    expect(a2).toMatchObject({ readOnly: true, executedGtids: '1-11-101', gtidSource: '11' });
    expect(a2.replication[0]?.retrievedGtids).toBe('1-11-101');
    expect(a2.heartbeatLagMs).toBeGreaterThanOrEqual(0);
    expect(fleet.unmodelled.size).toBe(0);
  });

  it('fences, waits for GTIDs, repoints and opens writes; a killed server refuses connections', async () => {
    expect(await db('a1').fence(deadline())).toEqual({ executedGtids: '1-11-100' });
    expect(fleet.find('c1', 'a1')?.readOnly).toBe(true);
    expect(await db('b1').waitForGtids('1-11-100', deadline())).toBe(true);
    expect(await db('b1').waitForGtids('1-11-200', systemClock.now() + 300)).toBe(false);

    await fleet.find('c1', 'a1')?.kill();
    await expect(db('a1').probe(deadline())).rejects.toBeInstanceOf(ServerDownError);
    expect((await db('b1').probe(deadline())).replication[0]?.ioRunning).toBe('connecting');

    await db('b1').stopReplication(deadline());
    await db('b1').openWrites(deadline(), { holdMs: 1_000 } as never);
    expect(fleet.find('c1', 'b1')?.opened).toHaveLength(1);
    await db('a2').repoint({ host: '127.0.0.1', port: fleet.find('c1', 'b1')?.port ?? 0 }, deadline());
    await db('b1').writeHeartbeat(deadline());
    const a2 = await db('a2').probe(deadline());
    expect(a2.executedGtids).toBe('1-11-100,2-21-2');
    expect(a2.replication[0]).toMatchObject({ ioRunning: 'yes', sourcePort: fleet.find('c1', 'b1')?.port });
    expect(fleet.unmodelled.size).toBe(0);
  });
});
