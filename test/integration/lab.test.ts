import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Etcd3 } from 'etcd3';
import type mysql from 'mysql2/promise';
import { labPorts } from '../../src/lab/lab-layout.js';
import { readLabState } from '../../src/lab/lab-state.js';
import { netnsName } from '../../src/lab/network.js';
import { SITES } from '../../src/lab/topology.js';
import { eventually, faultEffectiveAt, isRoot, raftLeaderName, startLab, type Lab } from './support/lab.js';

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 10_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Rows with this client tag, as seen on one node. */
async function seqsOn(lab: Lab, node: string, client: string): Promise<number[]> {
  const conn = await lab.connect(node);
  try {
    const [rows] = await conn.query('SELECT seq FROM writes WHERE client = ? ORDER BY seq', [client]);
    return (rows as { seq: number }[]).map((r) => Number(r.seq));
  } finally {
    conn.destroy();
  }
}

async function insert(lab: Lab, node: string, client: string, seq: number): Promise<void> {
  const conn = await lab.connect(node);
  try {
    await conn.query('INSERT INTO writes (client, seq) VALUES (?, ?)', [client, seq]);
  } finally {
    conn.destroy();
  }
}

async function etcdPut(endpoint: string, key: string, timeoutMs: number): Promise<'ok' | string> {
  const client = new Etcd3({
    hosts: endpoint,
    defaultCallOptions: () => ({ deadline: Date.now() + timeoutMs }),
  });
  try {
    await client.put(key).value('v');
    return 'ok';
  } catch (error) {
    return (error as Error).message;
  } finally {
    client.close();
  }
}

describe('baton lab', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab();
  });

  afterAll(async () => {
    await lab?.down();
  });

  test('a row written by app on a1 reaches a2, b1 and b2', async () => {
    await insert(lab, 'a1', 'replication', 1);
    for (const node of ['a2', 'b1', 'b2']) {
      await eventually(
        async () => ((await seqsOn(lab, node, 'replication')).includes(1) ? true : undefined),
        5_000,
        `row on ${node}`,
      );
    }
  });

  test('read_only really stops app on every node but the writer (error 1290)', async () => {
    for (const node of ['a2', 'b1', 'b2']) {
      await expect(insert(lab, node, 'readonly', 1)).rejects.toMatchObject({ errno: 1290 });
    }
  });

  test('status JSON matches what is running', async () => {
    const status = await lab.status();
    expect(status.dir).toBe(lab.dir);
    expect(status.writer).toBe('a1');
    expect(status.writable).toEqual(['a1']);
    expect(status.etcd.endpoints).toHaveLength(3);
    expect(status.nodes.map((n) => n.name)).toEqual(['a1', 'a2', 'b1', 'b2']);
    for (const node of status.nodes) {
      expect(node.alive).toBe(true);
      expect(() => process.kill(node.pid, 0)).not.toThrow();
      const conn: mysql.Connection = await lab.connect(node.name, 'baton');
      const [rows] = await conn.query('SELECT @@read_only AS ro, @@server_id AS id');
      conn.destroy();
      expect((rows as { ro: number }[])[0]?.ro === 1).toBe(node.readOnly);
      expect(node.replication?.ioRunning).toBe('Yes');
      expect(node.replication?.sqlRunning).toBe('Yes');
    }
    for (const endpoint of status.etcd.endpoints)
      expect(await etcdPut(endpoint, '/lab-test/status', 3_000)).toBe('ok');
    expect(status.users.app.user).toBe('app');
    expect(status.users.baton.password.length).toBeGreaterThan(10);
  });

  test('a second up reports the running lab and changes nothing', async () => {
    const before = await lab.status();
    const { baton } = await import('./support/lab.js');
    const result = await baton(['lab', 'up', '--dir', lab.dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/already running/);
    const after = await lab.status();
    expect(after.processes.map((p) => p.pid)).toEqual(before.processes.map((p) => p.pid));
  });

  test('kill and start a node: it returns read-only and replicating', async () => {
    const before = Date.now();
    const killed = await lab.fault('kill', 'a2');
    // Benchmarks time a failover from this moment, not from the start of the command.
    const at = faultEffectiveAt(killed);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
    expect((await lab.status()).nodes.find((n) => n.name === 'a2')?.alive).toBe(false);
    await lab.fault('start', 'a2');
    const a2 = await eventually(
      async () => {
        const node = (await lab.status()).nodes.find((n) => n.name === 'a2');
        return node?.replication?.ioRunning === 'Yes' ? node : undefined;
      },
      15_000,
      'a2 back and replicating',
    );
    expect(a2.readOnly).toBe(true);
    await insert(lab, 'a1', 'restart', 1);
    await eventually(
      async () => ((await seqsOn(lab, 'a2', 'restart')).includes(1) ? true : undefined),
      5_000,
      'row on a2',
    );
  });

  test('the fence script kills a hung mariadbd, and succeeds on a dead one; refuses unknown nodes', async () => {
    const script = path.join(lab.dir, 'fence-node');
    await lab.fault('stop', 'b2');
    const first = await run(script, ['b2']);
    expect(first.code).toBe(0);
    expect((await lab.status()).nodes.find((n) => n.name === 'b2')?.alive).toBe(false);
    expect((await run(script, ['b2'])).code).toBe(0);
    const unknown = await run(script, ['zz']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown node zz');
    await lab.fault('start', 'b2');
    await eventually(
      async () => ((await lab.status()).nodes.find((n) => n.name === 'b2')?.alive ? true : undefined),
      15_000,
      'b2 back',
    );
  });

  test.runIf(isRoot())(
    "each site keeps the lab's ports out of its ephemeral range, coordinators' included",
    async () => {
      const state = readLabState(lab.dir);
      if (!state) throw new Error(`no lab in ${lab.dir}`);
      for (const site of SITES) {
        const { stdout } = await run('ip', [
          'netns',
          'exec',
          netnsName(state.network, site),
          'sysctl',
          '-n',
          'net.ipv4.ip_local_reserved_ports',
        ]);
        // The kernel prints consecutive ports as ranges: "33006-33008,33079-33080,...".
        const ranges = stdout
          .trim()
          .split(',')
          .map((part) => part.split('-').map(Number))
          .map(([from, to]) => [from as number, to ?? (from as number)] as const);
        const reserved = (port: number) => ranges.some(([from, to]) => port >= from && port <= to);
        const wanted = labPorts(state.basePort, { coordinators: true, haproxy: true }).map((p) => p.port);
        expect(
          wanted.filter((port) => !reserved(port)),
          site,
        ).toEqual([]);
      }
    },
  );

  test("etcd's raft leader is the witness member w (where the coordinators keep it)", async () => {
    expect(await raftLeaderName(lab)).toBe('w');
  });

  test('stop and cont hang and resume a process', async () => {
    await lab.fault('stop', 'b2');
    const stopped = (await lab.status()).nodes.find((n) => n.name === 'b2');
    expect(stopped?.state).toBe('stopped');
    expect(stopped?.readOnly).toBeNull();
    await lab.fault('cont', 'b2');
    expect((await lab.status()).nodes.find((n) => n.name === 'b2')?.state).toBe('running');
  });

  test.skipIf(!isRoot())(
    'cut a: replication to site b stops and etcd via a loses quorum; heal restores both',
    async () => {
      const status = await lab.status();
      const [viaA, viaB, viaW] = status.etcd.endpoints as [string, string, string];
      const before = Date.now();
      const cut = await lab.fault('cut', 'a');
      const at = faultEffectiveAt(cut);
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(Date.now());
      try {
        await insert(lab, 'a1', 'cut', 1);
        // a2 shares a1's site, so it still replicates; b1 and b2 must not see the row.
        await eventually(
          async () => ((await seqsOn(lab, 'a2', 'cut')).includes(1) ? true : undefined),
          5_000,
          'row on a2',
        );
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        expect(await seqsOn(lab, 'b1', 'cut')).toEqual([]);
        expect(await seqsOn(lab, 'b2', 'cut')).toEqual([]);
        expect(await etcdPut(viaA, '/lab-test/cut', 2_000)).not.toBe('ok');
        expect(await etcdPut(viaB, '/lab-test/cut', 5_000)).toBe('ok');
        expect(await etcdPut(viaW, '/lab-test/cut', 5_000)).toBe('ok');
      } finally {
        await lab.fault('heal');
      }
      await eventually(
        async () => ((await seqsOn(lab, 'b1', 'cut')).includes(1) ? true : undefined),
        15_000,
        'row on b1 after heal',
      );
      await eventually(
        async () => ((await seqsOn(lab, 'b2', 'cut')).includes(1) ? true : undefined),
        15_000,
        'row on b2 after heal',
      );
      await eventually(
        async () => ((await etcdPut(viaA, '/lab-test/healed', 2_000)) === 'ok' ? true : undefined),
        15_000,
        'etcd put via a',
      );
    },
  );

  test.skipIf(!isRoot())(
    'delay a b adds at least the one-way latency to replication from a to b',
    async () => {
      const delayMs = 300;
      await lab.fault('delay', 'a', 'b', String(delayMs));
      try {
        const started = Date.now();
        await insert(lab, 'a1', 'delay', 1);
        await eventually(
          async () => ((await seqsOn(lab, 'a2', 'delay')).includes(1) ? true : undefined),
          5_000,
          'row on a2',
        );
        const sameSite = Date.now() - started;
        await eventually(
          async () => ((await seqsOn(lab, 'b1', 'delay')).includes(1) ? true : undefined),
          10_000,
          'row on b1',
        );
        const crossSite = Date.now() - started;
        console.log(
          `replication a1 -> a2 ${sameSite} ms, a1 -> b1 ${crossSite} ms with a->b delay ${delayMs} ms`,
        );
        expect(crossSite).toBeGreaterThanOrEqual(delayMs);
        expect(sameSite).toBeLessThan(delayMs);
      } finally {
        await lab.fault('heal');
      }
    },
  );
});
