/**
 * etcd RBAC (issue 15), against real etcd 3.4 and the lab's MariaDB.
 *
 * deploy/etcd/setup-rbac.sh sets up a fresh 3-member etcd; then, as its users: every etcd call
 * baton makes, tried as the prefix-limited coordinator user (the measured table in DESIGN.md
 * "etcd RBAC", kept here so that a change cannot go unnoticed); the CLI as operator, viewer, a
 * user of another deployment and with a wrong password (one line each); and three coordinators
 * logging in as the coordinator user, with raft leader placement configured, in front of which
 * a proxy refuses MoveLeader as etcd 3.6 and 3.5.28 do to a user without root (etcd 3.4.23,
 * Debian's, checks no permission there: support/maintenance-deny-proxy.ts). The leader says so
 * once, keeps leading, fences nothing; doctor names the fix.
 *
 * What the store itself makes of a wrong password and a key outside the role is
 * etcd-adapter.test.ts ("errors from a real server"); the script's argument checks are unit tests.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Etcd3, type IOptions } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { systemClock } from '../../src/clock.js';
import type { DoctorReport } from '../../src/doctor/format.js';
import { createEtcdClient } from '../../src/etcd/client.js';
import { RaftLeaderKeeper } from '../../src/etcd/raft-leader.js';
import { coordinatorConfig } from '../../src/lab/lab-coordinators.js';
import { readLabState, type LabState } from '../../src/lab/lab-state.js';
import { SITES, WITNESS_SITE, type SiteName } from '../../src/lab/topology.js';
import { baton, eventually, startLab, type Lab } from './support/lab.js';
import { MOVE_LEADER, STATUS, startDenyProxy, type DenyProxy } from './support/maintenance-deny-proxy.js';
import { startEtcdCluster, type EtcdCluster } from './support/standalone-etcd.js';
import { makeTestCa, type TestCa } from './support/test-ca.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const SCRIPT = path.join(REPO, 'deploy/etcd/setup-rbac.sh');
const CLI = path.join(REPO, 'bin/baton.js');
const CLUSTER = 'lab';
const PASSWORDS = {
  root: 'root-pw-1',
  coordinator: 'coordinator-pw-1',
  operator: 'operator-pw-1',
  viewer: 'viewer-pw-1',
};

let dir: string;
let ca: TestCa;
let lab: Lab;
let labState: LabState;
let etcd: EtcdCluster;
let proxies: DenyProxy[] = [];
const clients: Etcd3[] = [];
let otherDeployment: ReturnType<typeof setupRbac> | undefined;
const coordinators: { site: SiteName; child: ChildProcess; lines: Record<string, unknown>[] }[] = [];

/** The members' own URLs: the script and the measurements talk to etcd itself. */
const direct = () => etcd.members.map((m) => m.listenUrl);
/** What the members advertise, and the configs name: the proxies in front of them. */
const fronted = () => proxies.map((p) => p.url);

function client(user: string | undefined, password = '', hosts = direct()): Etcd3 {
  const options: IOptions = { hosts, defaultCallOptions: () => ({ deadline: Date.now() + 3000 }) };
  if (user) options.auth = { username: user, password };
  const c = new Etcd3(options);
  clients.push(c);
  return c;
}
const root = () => client('root', PASSWORDS.root);

function secretFile(name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `${content}\n`, { mode: 0o600 });
  return file;
}

function setupRbac(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const passwordArgs = Object.entries(PASSWORDS).flatMap(([who, pw]) => [
    `--${who}-password-file`,
    secretFile(`${who}.password`, pw),
  ]);
  return new Promise((resolve) =>
    execFile(
      SCRIPT,
      ['--endpoints', direct().join(','), ...passwordArgs, ...args],
      { timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? Number(error.code ?? 1) : 0,
          stdout: String(stdout),
          stderr: String(stderr),
        }),
    ),
  );
}

/** A coordinator config for `site` that logs in to etcd as `user` (password from `passwordFile`). */
function configFile(name: string, site: SiteName, user: string, password: string): string {
  const config = coordinatorConfig(labState, site, 'availability');
  delete config.http; // the site's address is not this host's
  config.etcd = {
    endpoints: fronted(),
    tls: { caFile: ca.caFile },
    preferredLeader: WITNESS_SITE,
    auth: { user, passwordFile: secretFile(`${name}.etcd-password`, password) },
  };
  // No watchdog, so no leader hands over to stay out of the writer's colo: whoever leads, leads.
  const clusters = config.clusters as Record<string, unknown>[];
  clusters[0] = { ...clusters[0], watchdog: false };
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(config));
  return file;
}

/** The auth store's revision, from a member's metrics: it moves with every auth change. */
async function authRevision(): Promise<number> {
  const text = await (await fetch(`${direct()[0]}/metrics`)).text();
  return Number(/^etcd_debugging_auth_revision (\d+)/m.exec(text)?.[1]);
}

async function raftLeader(): Promise<string> {
  const admin = root();
  const [{ members }, status] = await Promise.all([admin.cluster.memberList({}), admin.maintenance.status()]);
  return members.find((m) => m.ID === status.leader)?.name ?? 'none';
}

beforeAll(async () => {
  const t0 = Date.now();
  dir = mkdtempSync(path.join(tmpdir(), 'baton-rbac-'));
  ca = makeTestCa(dir, 'ca', '127.0.0.1');
  const tls = { cert: readFileSync(ca.serverCertFile), key: readFileSync(ca.serverKeyFile) };
  // Members named like the lab's sites, so that etcd.preferredLeader: w means the witness. They
  // advertise their proxies, which serve TLS: baton refuses etcd.auth over http://.
  proxies = await Promise.all(SITES.map(() => startDenyProxy([], tls)));
  [etcd, lab] = await Promise.all([
    // bcrypt at its lowest cost: every login (each etcdctl call, each CLI process, each
    // coordinator's first call) is a bcrypt check, 100-350 ms apiece at the default cost on this
    // busy machine, which is not what this file is about (it is measured apart, DESIGN.md).
    startEtcdCluster(
      [...SITES],
      ['--bcrypt-cost=4'],
      proxies.map((p) => p.url),
    ),
    startLab({ network: 'flat' }),
  ]);
  etcd.members.forEach((m, i) => proxies[i]?.connect(new URL(m.listenUrl).host));
  labState = readLabState(lab.dir) as LabState;
  console.log(`[rbac] lab and etcd up in ${Date.now() - t0} ms`);
  const anyone = client(undefined);
  await eventually(async () => (await anyone.put('/ready').value('1').exec()) && true, 10_000, 'etcd quorum');
}, 60_000);

afterAll(async () => {
  for (const { child } of coordinators) child.kill('SIGKILL');
  for (const c of clients) c.close();
  await Promise.all(proxies.map((p) => p.close()));
  await etcd?.stop();
  await lab?.down();
  rmSync(dir, { recursive: true, force: true });
});

describe('deploy/etcd/setup-rbac.sh', () => {
  it('sets up roles and users on a fresh etcd and enables auth; a second run changes nothing', async () => {
    const first = await setupRbac(['--cluster', CLUSTER]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('root: created');
    expect(first.stdout).toContain('role baton-rw: readwrite /baton/lab/ (granted)');
    expect(first.stdout).toContain('user baton-viewer: granted role baton-ro');
    expect(first.stdout).toContain('auth: enabled');

    const admin = root();
    const perms = async (role: string) =>
      (await admin.role(role).permissions()).map(
        (p) => `${p.permission} ${p.range.start.toString()}..${p.range.end.toString()}`,
      );
    expect(await perms('baton-rw')).toEqual(['Readwrite /baton/lab/../baton/lab0']);
    expect(await perms('baton-ro')).toEqual(['Read /baton/lab/../baton/lab0']);
    const roles = async (user: string) => (await admin.user(user).roles()).map((r) => r.name);
    expect(await roles('baton-coordinator')).toEqual(['baton-rw']);
    expect(await roles('baton-operator')).toEqual(['baton-rw']);
    expect(await roles('baton-viewer')).toEqual(['baton-ro']);
    // Auth is on: no login, no read.
    await expect(client(undefined).get('/baton/lab/writer')).rejects.toThrow(/user name is empty/);

    const revision = await authRevision();
    const second = await setupRbac(['--cluster', CLUSTER]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('root: logs in (auth already on)');
    expect(second.stdout).toContain('role baton-rw: readwrite /baton/lab/ (already)');
    expect(second.stdout).toContain('user baton-operator: exists, logs in');
    expect(second.stdout).toContain('auth: already on');
    expect(await authRevision()).toBe(revision);
  });
});

describe('what a user without root may do on etcd 3.4.23', () => {
  /** "permitted", or what etcd answered instead. */
  async function outcome(call: () => Promise<unknown>): Promise<string> {
    try {
      await call();
      return 'permitted';
    } catch (error) {
      return /permission denied/.test(String(error)) ? 'refused' : `failed: ${(error as Error).message}`;
    }
  }

  it('measures every etcd call baton makes as the coordinator user: none needs root', async () => {
    const c = client('baton-coordinator', PASSWORDS.coordinator);
    const key = '/baton/lab/probe';
    const lease = await c.leaseClient.leaseGrant({ TTL: 10 });
    const { members } = await c.cluster.memberList({});
    const leaderBefore = await raftLeader();
    const leader = members.find((m) => m.name === leaderBefore);
    const follower = members.find((m) => m.name !== leaderBefore);
    if (!leader || !follower) throw new Error('no raft leader');
    /** A client of that member alone (Status and MoveLeader answer for the member asked). */
    const memberClient = (m: { name: string }) =>
      client('baton-coordinator', PASSWORDS.coordinator, [
        etcd.members.find((e) => e.name === m.name)?.listenUrl as string,
      ]);
    const table: Record<string, string> = {
      'KV.Put with a lease (reports, guardian records)': await outcome(() =>
        c.kv.put({ key: Buffer.from(key), value: Buffer.from('v'), lease: lease.ID }),
      ),
      'KV.Range (get, prefix, at a revision, keys only)': await outcome(async () => {
        const { header } = await c.kv.range({ key: Buffer.from(key) });
        await c.kv.range({
          key: Buffer.from('/baton/lab/'),
          range_end: Buffer.from('/baton/lab0'),
          keys_only: true,
          limit: '5',
        });
        await c.kv.range({ key: Buffer.from(key), revision: header.revision });
      }),
      'KV.Txn of ranges (the state read)': await outcome(() =>
        c.kv.txn({ compare: [], success: [{ request_range: { key: Buffer.from(key) } }], failure: [] }),
      ),
      'KV.Txn compare + put (election, guarded writes, intents)': await outcome(() =>
        c.kv.txn({
          compare: [
            { key: Buffer.from(`${key}/x`), target: 'Create', result: 'Equal', create_revision: '0' },
          ],
          success: [
            { request_put: { key: Buffer.from(`${key}/x`), value: Buffer.from('v'), lease: lease.ID } },
          ],
          failure: [],
        }),
      ),
      'KV.DeleteRange': await outcome(() => c.kv.deleteRange({ key: Buffer.from(`${key}/x`) })),
      'Watch (prefix, from a revision)': await outcome(async () => {
        const watcher = await c.watch().prefix('/baton/lab/').create();
        const event = new Promise((resolve) => watcher.once('put', resolve));
        await c.put(`${key}/w`).value('1').exec();
        await event;
        await watcher.cancel();
      }),
      'Lease.LeaseGrant / LeaseKeepAlive': await outcome(async () => {
        const keepalive = c.lease(10, { autoKeepAlive: false });
        await keepalive.grant();
        await keepalive.keepaliveOnce();
        await keepalive.revoke();
      }),
      'Lease.LeaseTimeToLive (doctor: of a lease that does not exist)': await outcome(() =>
        c.leaseClient.leaseTimeToLive({ ID: '1' }),
      ),
      'Lease.LeaseRevoke (its keys under the prefix)': await outcome(() =>
        c.leaseClient.leaseRevoke({ ID: lease.ID }),
      ),
      'Cluster.MemberList': await outcome(() => c.cluster.memberList({})),
      'Maintenance.Status': await outcome(() => memberClient(follower).maintenance.status()),
      'Maintenance.MoveLeader (a real move)': await outcome(() =>
        memberClient(leader).maintenance.moveLeader({ targetID: follower.ID }),
      ),
      'KV.Compact (baton never calls it: etcd compacts itself)': await outcome(async () => {
        const { header } = await c.kv.range({ key: Buffer.from(key) });
        await c.kv.compact({ revision: header.revision });
      }),
      'KV.Range outside /baton/lab/': await outcome(() => c.get('/baton/other/writer').string()),
    };
    console.log(
      `[rbac] etcd calls as baton-coordinator (readwrite on /baton/lab/ only), etcd 3.4.23:\n${Object.entries(
        table,
      )
        .map(([call, result]) => `  ${call.padEnd(62)} ${result}`)
        .join('\n')}`,
    );
    expect(Object.entries(table).filter(([, result]) => result !== 'permitted')).toEqual([
      ['KV.Range outside /baton/lab/', 'refused'],
    ]);
    expect(await raftLeader()).toBe(follower.name);

    // The viewer reads and watches; it may not write.
    const viewer = client('baton-viewer', PASSWORDS.viewer);
    expect(await outcome(() => viewer.getAll().prefix('/baton/lab/').keys())).toBe('permitted');
    expect(await outcome(() => viewer.put('/baton/lab/pin').value('{}').exec())).toBe('refused');
  });
});

describe('a coordinator, the CLI and doctor as the least-privilege users', () => {
  type Run = Awaited<ReturnType<typeof baton>>;
  /** Started while the coordinators run, checked in their own tests below. */
  let cliRuns: Promise<Record<'operator' | 'viewerStatus' | 'viewerPin' | 'otherCluster' | 'wrong', Run>>;
  let doctorRun: Promise<Run>;

  const cli = (args: string[]) => baton(args, process.env, 30_000);
  const as = (user: string, password: string) => configFile(`cli-${user}`, 'w', user, password);

  /** Every CLI case at once (each is a Node start-up): the operator's waits for the leader. */
  async function runCli() {
    const viewerConfig = as('baton-viewer', PASSWORDS.viewer);
    const [operator, viewerStatus, viewerPin, wrong, otherCluster] = await Promise.all([
      cli(['unpin', '--config', as('baton-operator', PASSWORDS.operator)]),
      cli(['status', '--config', viewerConfig]),
      cli(['pin', '--no-wait', '--config', viewerConfig]),
      cli([
        'status',
        '--config',
        configFile('cli-wrong-password', 'w', 'baton-operator', 'not-the-password'),
      ]),
      otherDeployment?.then(() => cli(['status', '--config', as('other-viewer', PASSWORDS.viewer)])),
    ]);
    return { operator, viewerStatus, viewerPin, wrong, otherCluster: otherCluster as Run };
  }

  async function writerRecord(): Promise<unknown> {
    return JSON.parse((await root().get('/baton/lab/writer').string()) ?? 'null');
  }

  async function historyEntries(): Promise<Record<string, { reason: string }>> {
    return (await root().getAll().prefix('/baton/lab/history/').json()) as Record<string, { reason: string }>;
  }

  /** The leader key with the lowest create revision: who leads, and since when. */
  async function leaderKey(): Promise<string | undefined> {
    const { kvs } = await root().kv.range({
      key: Buffer.from('/baton/lab/leader/'),
      range_end: Buffer.from('/baton/lab/leader0'),
      sort_target: 'Create',
      sort_order: 'Ascend',
      limit: '1',
    });
    return kvs[0] ? `${kvs[0].key.toString()}@${kvs[0].create_revision}` : undefined;
  }

  it('leads as the coordinator user; etcd refusing MoveLeader is said once, and nothing fails over', async () => {
    const since = Date.now();
    // As etcd 3.6 answers a user without root; Status stays allowed, as etcd's latest patch
    // releases allow it again (PR 21666).
    for (const proxy of proxies) proxy.denied.add(MOVE_LEADER);
    // Raft leadership away from the preferred member, so the leader has something to ask for.
    const { members } = await root().cluster.memberList({});
    const away = members.find((m) => m.name === 'a');
    if ((await raftLeader()) === WITNESS_SITE && away) {
      const w = etcd.members.find((m) => m.name === WITNESS_SITE)?.listenUrl as string;
      await client('root', PASSWORDS.root, [w]).maintenance.moveLeader({ targetID: away.ID });
    }
    expect(await raftLeader()).not.toBe(WITNESS_SITE);

    for (const site of SITES) {
      const file = configFile(`coordinator-${site}`, site, 'baton-coordinator', PASSWORDS.coordinator);
      const child = spawn(process.execPath, [CLI, 'run', '--config', file], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const entry = { site, child, lines: [] as Record<string, unknown>[] };
      let rest = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        const parts = (rest + chunk.toString()).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts)
          if (line.trim()) entry.lines.push(JSON.parse(line) as Record<string, unknown>);
      });
      coordinators.push(entry);
    }
    // A second deployment meanwhile, for the CLI's user of another cluster: auth changes under
    // live sessions.
    otherDeployment = setupRbac(['--name', 'other', '--cluster', 'other']);
    const refusals = () =>
      coordinators.flatMap(({ site, lines }) =>
        lines
          .filter((l) => l.event === 'raft-leader' && l.notPermitted !== undefined)
          .map((l): Record<string, unknown> => ({ site, ...l })),
      );
    const first = await eventually(
      async () => refusals()[0],
      30_000,
      'the leader to report the refused MoveLeader',
    ).catch((error: unknown) => {
      for (const { site, lines } of coordinators)
        console.log(
          `[rbac] coordinator ${site}, last lines:\n${lines
            .slice(-12)
            .map((l) => `  ${JSON.stringify(l)}`)
            .join('\n')}`,
        );
      throw error;
    });
    const leaderAt = await leaderKey();
    const writerAt = await writerRecord();
    const historyAt = Object.keys(await historyEntries());
    console.log(
      `[rbac] ${Date.now() - since} ms after the start, ${String(first.site)} led and said: ${String(first.msg)}`,
    );
    expect(first.notPermitted).toBe('MoveLeader');
    expect(String(first.msg)).toContain('etcd refused MoveLeader to etcd user baton-coordinator');
    expect(String(first.fix)).toContain('remove etcd.preferredLeader');

    // One more raft-leader check interval (5 s), used for the CLI and doctor: not said again,
    // still leading, nothing moved, nothing fenced.
    cliRuns = runCli();
    // After the CLI: each process's first etcd call carries a login, a bcrypt check on etcd's
    // side, and five Node start-ups at once on two busy cores left doctor's 2 s calls too little.
    doctorRun = cliRuns.then(() =>
      cli(['doctor', '--json', '--config', as('baton-coordinator', PASSWORDS.coordinator)]),
    );
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(refusals()).toHaveLength(1);
    expect(await leaderKey()).toBe(leaderAt);
    // Whichever master the start-up made the writer (not this test's subject), from the refusal
    // on nothing changes hands: the same writer at the same epoch, no new history.
    expect(await writerRecord()).toEqual(writerAt);
    // The operator's unpin (the CLI test) is the one entry expected meanwhile.
    expect(
      Object.entries(await historyEntries())
        .filter(([key, entry]) => !historyAt.includes(key) && entry.reason !== 'unpin-requested')
        .map(([, entry]) => entry.reason),
    ).toEqual([]);
    const fencesAfter = coordinators.flatMap(({ lines }) =>
      lines.filter(
        (l) => l.action === 'fence' && Date.parse(String(l.time)) >= Date.parse(String(first.time)),
      ),
    );
    expect(fencesAfter).toEqual([]);
    expect(proxies.reduce((n, p) => n + (p.refusals.get(MOVE_LEADER) ?? 0), 0)).toBeGreaterThanOrEqual(1);
    for (const { child } of coordinators) expect(child.exitCode).toBeNull();
  });

  it('lets the operator write intents and the viewer read; each refusal is one line', async () => {
    const { operator, viewerStatus, viewerPin, otherCluster, wrong } = await cliRuns;
    expect(operator.stderr).toBe('');
    expect(operator.stdout).toMatch(/^unpin requested for cluster lab \(intent \S+\)\nunpin done/);
    expect(viewerStatus.stderr).toBe('');
    expect(viewerStatus.stdout).toMatch(/writer: +(a1|b1) epoch \d+/);

    expect(viewerPin.code).toBe(1);
    expect(viewerPin.stderr).toMatch(
      /^baton: txn on \/baton\/lab\/intents\/\S+: etcd permission denied: no role of etcd user baton-viewer grants this key range\n$/,
    );
    expect(otherCluster.code).toBe(1);
    expect(otherCluster.stderr).toMatch(
      /^baton: [^\n]*\/baton\/lab\/[^\n]*: etcd permission denied: no role of etcd user other-viewer grants this key range\n$/,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /^baton: [^\n]*: etcd authentication failed: wrong password for etcd user baton-operator, or no such user\n$/,
    );
    console.log(
      `[rbac] one line each:\n  ${[viewerPin, otherCluster, wrong].map((r) => r.stderr.trim()).join('\n  ')}`,
    );
  });

  it('doctor, run as the coordinator user, names what root would give and the ways out', async () => {
    const result = await doctorRun;
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as DoctorReport;
    const finding = report.findings.find((f) => f.check === 'etcd.raft-leader');
    if (!finding) console.log(`[rbac] doctor said:\n${result.stdout}`);
    console.log(`[rbac] doctor: ${finding?.message}\n  fix: ${finding?.fix}`);
    expect(finding?.severity).toBe('warning');
    expect(finding?.message).toContain(
      "raft leader placement (etcd.preferredLeader: w) needs etcd's root role here: etcd refused MoveLeader to etcd user baton-coordinator",
    );
    expect(finding?.fix).toMatch(
      /^now: etcdctl --user root --endpoints=\S+ move-leader [0-9a-f]+; for good: grant it/,
    );
    expect(report.findings.filter((f) => f.check === 'reach.etcd')).toEqual([]);
  });

  it('the keeper says which call etcd refused when Status is kept to root too (etcd 3.6)', async () => {
    for (const proxy of proxies) proxy.denied.add(STATUS);
    const settings = {
      endpoints: fronted(),
      tls: { ca: readFileSync(ca.caFile) },
      auth: { username: 'baton-coordinator', password: PASSWORDS.coordinator },
    };
    const pool = createEtcdClient(settings);
    const keeper = new RaftLeaderKeeper(pool, settings, WITNESS_SITE, systemClock);
    try {
      const outcome = await keeper.ensure(systemClock.now() + 3_000);
      expect(outcome).toMatchObject({ kind: 'not-permitted', call: 'Status' });
    } finally {
      keeper.close();
      pool.close();
    }
    for (const proxy of proxies) proxy.denied.clear();
  });
});
