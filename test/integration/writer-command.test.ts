import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openTarget, type ClusterTarget } from '../../src/cli/cluster-target.js';
import { systemClock } from '../../src/clock.js';
import { clusterKeys } from '../../src/coordinator/keys.js';
import { LAB_CLUSTER } from '../../src/lab/topology.js';
import { readClusterState, type ClusterState } from '../../src/ops/cluster-state.js';
import { baton, eventually, isRoot, startLab, type Lab } from './support/lab.js';
import { stopProcess } from './support/signals.js';

const CLI = path.resolve(import.meta.dirname, '../../bin/baton.js');

interface WriterLine {
  cluster: string;
  node: string;
  host: string | null;
  port: number | null;
  epoch: number;
  since: number;
  reason: string;
}

/** `baton writer --watch` as a daemon runs it: every stdout line with the time it arrived. */
class WatchingCli {
  readonly lines: { at: number; line: WriterLine }[] = [];
  stderr = '';
  private readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: string | null; at: number }>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, 'writer', '--watch', '--json', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (text) =>
      this.lines.push({ at: Date.now(), line: JSON.parse(text) as WriterLine }),
    );
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
  }

  lineFor(node: string): Promise<{ at: number; line: WriterLine }> {
    return eventually(
      async () => this.lines.find((l) => l.line.node === node),
      30_000,
      `a line naming ${node} (stderr: ${this.stderr})`,
    );
  }

  firstLine(): Promise<{ at: number; line: WriterLine }> {
    return eventually(async () => this.lines[0], 30_000, `a first line (stderr: ${this.stderr})`);
  }

  stop(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

describe('baton writer against the lab', () => {
  let lab: Lab;
  let target: ClusterTarget;
  const clusterState = (): Promise<ClusterState> =>
    target.etcd.attempt((store) => readClusterState(store, systemClock, LAB_CLUSTER, 1_500));

  beforeAll(async () => {
    lab = await startLab({ coordinators: true });
    target = await openTarget({ lab: lab.dir });
    // A switchover needs a leader, and the leader moves out of the writer's colo once after
    // bootstrap (coordinator/leader-placement.ts): wait for both, as the scenarios do.
    await eventually(
      async () => {
        const state = await clusterState();
        return state.writer?.node === 'a1' && state.leader && state.leader.coordinator !== 'a'
          ? true
          : undefined;
      },
      90_000,
      'a1 recorded as the writer and a leader outside colo a',
    );
  });

  afterAll(async () => {
    target?.close();
    await lab?.down();
  });

  test('prints the writer with its host:port and epoch, as text and as JSON', async () => {
    const a1 = (await lab.status()).nodes.find((n) => n.name === 'a1');
    const epoch = (await clusterState()).writer?.epoch;
    expect(a1).toBeDefined();

    const text = await baton(['writer', '--lab', lab.dir]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toBe(`a1 ${a1?.host}:${a1?.port} epoch ${epoch}\n`);

    const json = await baton(['writer', '--lab', lab.dir, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      cluster: 'lab',
      node: 'a1',
      host: a1?.host,
      port: a1?.port,
      epoch,
      since: expect.any(Number),
      reason: expect.any(String),
    });
  });

  test('switchover --dry-run evaluates the gates on the live state and changes nothing', async () => {
    // Refused by a gate, with the gate's reason and exit 1.
    const refused = await baton(['switchover', '--lab', lab.dir, '--to', 'a2', '--dry-run']);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stdout).toMatch(/gates: REFUSED \(intent-invalid\): a2 is not a candidate master/);

    // Nothing else may write meanwhile: the coordinators are paused for the comparison (well
    // within their lease and the watchdog's hold, so nothing is fenced when they resume).
    const coordinators = (await lab.status()).processes.filter((p) => p.kind === 'coordinator');
    const serversNow = async () =>
      (await lab.status()).nodes.map((n) => ({
        name: n.name,
        readOnly: n.readOnly,
        gtid: n.gtidCurrentPos,
        io: n.replication?.ioRunning,
        sql: n.replication?.sqlRunning,
      }));
    // a1's watchdog closes it once its deadline passes with nobody stamping: a comparison that
    // outlasted the deadline (a slow host) proves nothing about read_only, and is made again.
    const watchdogDeadlinePassed = async (): Promise<boolean> => {
      const conn = await lab.connect('a1', 'baton');
      try {
        const [rows] = await conn.query(
          'SELECT fence_after IS NOT NULL AND fence_after <= UTC_TIMESTAMP(6) AS passed FROM baton.heartbeat WHERE server_id = @@server_id',
        );
        return Number((rows as { passed: number | string }[])[0]?.passed) === 1;
      } finally {
        conn.destroy();
      }
    };
    let plan;
    let revisions: number[] = [];
    let servers: Awaited<ReturnType<typeof serversNow>>[] = [];
    for (let attempt = 1; ; attempt++) {
      await Promise.all(coordinators.map((c) => stopProcess(c.pid)));
      let outlasted: boolean;
      try {
        const revisionBefore = (await clusterState()).revision;
        const serversBefore = await serversNow();
        plan = await baton(['switchover', '--lab', lab.dir, '--to', 'b1', '--dry-run']);
        revisions = [revisionBefore, (await clusterState()).revision];
        servers = [serversBefore, await serversNow()];
        outlasted = await watchdogDeadlinePassed();
      } finally {
        for (const c of coordinators) process.kill(c.pid, 'SIGCONT');
      }
      if (!outlasted) break;
      console.log(`[dry-run] attempt ${attempt} outlasted a1's watchdog deadline; again`);
      expect(attempt).toBeLessThan(3);
      await eventually(
        async () => ((await lab.status()).writable.join() === 'a1' ? true : undefined),
        20_000,
        'a1 open again',
      );
    }
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/gates: all passed; the leader would start switchover a1 → b1/);
    expect(plan.stdout).toMatch(/^ {4}1\. fence a1: read_only=ON/m);
    expect(plan.stdout).toMatch(/commit: writer b1 at epoch \d+ \(from a1 at \d+\)/);
    expect(revisions[1]).toBe(revisions[0]);
    expect(servers[1]).toEqual(servers[0]);
    expect((await clusterState()).intents.filter((i) => i.kind === 'switchover')).toEqual([]);
  });

  test('with bare --endpoints there is no node spec: host:port unknown, said on stderr', async () => {
    const endpoints = (await lab.status()).etcd.endpoints.join(',');
    const json = await baton(['writer', '--endpoints', endpoints, '--cluster', 'lab', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ node: 'a1', host: null, port: null });
    expect(json.stderr).toBe(
      'baton: host:port of a1 unknown: no node spec names it (give --config FILE or --lab)\n',
    );
    const text = await baton(['writer', '--endpoints', endpoints, '--cluster', 'lab']);
    expect(text.stdout).toMatch(/^a1 unknown epoch \d+\n$/);
  });

  test('a cluster without a writer record: exit 2 and says so', async () => {
    const result = await baton(['writer', '--lab', lab.dir, '--cluster', 'nosuch']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'baton: no writer recorded for cluster nosuch (no coordinator has bootstrapped it yet; see `baton status`)\n',
    );
  });

  test('--watch prints the new writer after a switchover, then exits 0 on SIGTERM', async () => {
    const endpoints = (await lab.status()).etcd.endpoints;
    // The reference for the CLI's own delay: a watch in this process on the member the CLI
    // watches first (the lab's first endpoint), both standing on the host.
    const direct = new Etcd3({ hosts: endpoints[0] as string });
    const directEvents: { at: number; modRevision: number; node: string }[] = [];
    const directWatch = await direct.watch().key(clusterKeys(LAB_CLUSTER).writer).create();
    directWatch.on('put', (kv) =>
      directEvents.push({
        at: Date.now(),
        modRevision: Number(kv.mod_revision),
        node: (JSON.parse(kv.value.toString()) as WriterLine).node,
      }),
    );
    const cli = new WatchingCli(['--lab', lab.dir]);
    try {
      const first = await cli.lineFor('a1');
      const before = first.line.epoch;

      const switchover = await baton(['switchover', '--lab', lab.dir, '--to', 'b1', '--timeout', '30']);
      const switchoverReturnedAt = Date.now();
      expect(switchover.code, switchover.stderr).toBe(0);

      const b1 = await cli.lineFor('b1');
      const b1Spec = (await lab.status()).nodes.find((n) => n.name === 'b1');
      expect(b1.line).toMatchObject({ cluster: 'lab', node: 'b1', host: b1Spec?.host, port: b1Spec?.port });
      expect(b1.line.epoch).toBeGreaterThan(before);
      // Exactly one line per change: the first writer, then the new one.
      expect(cli.lines.map((l) => l.line.node)).toEqual(['a1', 'b1']);

      const directB1 = await eventually(
        async () => directEvents.find((e) => e.node === 'b1'),
        5_000,
        'the direct watch to see b1',
      );
      console.log(
        `[baton writer --watch] b1 line ${b1.at - directB1.at} ms after a direct watch on the same member saw the commit, ` +
          `${b1.at - b1.line.since} ms after the promote's record was stamped (since, before its commit), ` +
          `${b1.at - switchoverReturnedAt} ms after \`baton switchover\` returned`,
      );

      const stoppedAt = Date.now();
      cli.stop('SIGTERM');
      const exit = await cli.exited;
      console.log(`[baton writer --watch] exited ${exit.at - stoppedAt} ms after SIGTERM`);
      expect(exit.code, cli.stderr).toBe(0);
      expect(cli.stderr).toBe('');
    } finally {
      cli.stop('SIGKILL');
      await directWatch.cancel();
      direct.close();
    }
  });
});

/**
 * A lab without coordinators, where this test writes the writer records itself: the watch's
 * failure paths, which a coordinated lab would turn into failovers.
 */
describe('baton writer --watch when etcd fails', () => {
  let lab: Lab;
  let etcd: Etcd3;
  const writerKey = clusterKeys(LAB_CLUSTER).writer;
  const putWriter = (node: string, epoch: number) =>
    etcd.put(writerKey).value(JSON.stringify({ node, epoch, since: Date.now(), reason: 'test' }));

  beforeAll(async () => {
    lab = await startLab();
    // Never through etcd-a, which one test cuts off.
    const endpoints = (await lab.status()).etcd.endpoints.slice(1);
    etcd = new Etcd3({ hosts: endpoints, defaultCallOptions: () => ({ deadline: Date.now() + 3_000 }) });
    await putWriter('a1', 1);
  });

  afterAll(async () => {
    etcd?.close();
    await lab?.down();
  });

  test.skipIf(!isRoot())(
    'a member cut off from the majority ends the watch, and another member serves it',
    async () => {
      const cli = new WatchingCli(['--lab', lab.dir]);
      try {
        await cli.lineFor('a1');
        await lab.fault('cut', 'a');
        const putAt = Date.now();
        await putWriter('b1', 2);
        const b1 = await cli.lineFor('b1');
        // etcd ends a require-leader watch a few election timeouts after its member lost the
        // leader; the figure is for the reader, the assertion is that the line comes at all.
        console.log(
          `[baton writer --watch] with the watched member cut off: b1 line ${b1.at - putAt} ms after the put`,
        );
        expect(cli.lines.map((l) => l.line.node)).toEqual(['a1', 'b1']);
      } finally {
        cli.stop('SIGKILL');
        await lab.fault('heal');
      }
    },
  );

  test('every member gone: exits 1 once no member served the watch for --give-up-after', async () => {
    const cli = new WatchingCli(['--lab', lab.dir, '--give-up-after', '3']);
    try {
      await cli.firstLine();
      const killedAt = Date.now();
      for (const member of ['etcd-a', 'etcd-b', 'etcd-w']) await lab.fault('kill', member);
      const exit = await cli.exited;
      console.log(`[baton writer --watch] gave up ${exit.at - killedAt} ms after etcd was killed`);
      expect(exit.code).toBe(1);
      expect(exit.at - killedAt).toBeLessThan(10_000);
      expect(cli.stderr).toMatch(
        /^baton: lost the watch on \/baton\/lab\/writer: no etcd member served it for 3 s \(last error: [^\n]+\)\n$/,
      );
    } finally {
      cli.stop('SIGKILL');
    }
  });
});

describe('baton writer without etcd', () => {
  for (const mode of [[], ['--watch']]) {
    test(`${['writer', ...mode].join(' ')}: unreachable endpoint, one line and a non-zero exit within seconds`, async () => {
      const startedAt = Date.now();
      const result = await baton(
        ['writer', ...mode, '--endpoints', 'http://127.0.0.1:1', '--cluster', 'lab'],
        process.env,
        20_000,
      );
      const tookMs = Date.now() - startedAt;
      expect([1, 2]).toContain(result.code);
      expect(tookMs).toBeLessThan(5_000);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^baton: no etcd endpoint answered: http:\/\/127\.0\.0\.1:1: [^\n]+\n$/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  }
});
