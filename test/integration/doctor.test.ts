import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import type { DoctorReport } from '../../src/doctor/format.js';
import { etcdClientUrl, placeRaftLeader } from '../../src/lab/etcd-member.js';
import { coordinatorConfig } from '../../src/lab/lab-coordinators.js';
import { readLabState } from '../../src/lab/lab-state.js';
import { netnsName } from '../../src/lab/network.js';
import { SITES } from '../../src/lab/topology.js';
import { asRoot, baton, eventually, isRoot, startLab, type Lab } from './support/lab.js';

/**
 * `baton doctor` against a real lab (no coordinators: nothing repairs what the test breaks, and
 * none of the checks needs one: `lab up` installs the watchdog event and turns the scheduler on).
 * It must pass on the fresh lab. Then items are broken, each aimed at its own check and server,
 * so that one doctor run per round attributes every finding (one run per item would not fit the
 * file's time budget): a round of runtime changes, restored after, and doctor passes again; the
 * timings from inside a colo; last, what only a restart shows (option files), not undone.
 *
 * Not broken here, because the lab cannot be at runtime: etcd members in fewer than three sites
 * (membership), clock skew (every lab process shares this host's clock), a MySQL 8 server (none
 * on Debian): unit tests over snapshots cover those (test/unit/doctor).
 */
type Finding = DoctorReport['findings'][number];
const REPO = path.resolve(import.meta.dirname, '../..');

const key = (f: Pick<Finding, 'check' | 'severity' | 'node'>) =>
  `${f.check} ${f.severity}${f.node ? ` ${f.node}` : ''}`;

/** With no coordinator ever run, etcd records no writer: the one note a fresh lab gives. */
const FRESH = ['replication.single-writer info'];
/**
 * Once b1's read_only has been set with SET GLOBAL (to break and restore it), its origin is SQL:
 * what b1's option file says is no longer visible, and doctor says so (verified on 10.11.19).
 */
const B1_READ_ONLY_SET_AT_RUNTIME = 'settings.read-only-config info b1';

describe('baton doctor on the lab', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab();
  });

  afterAll(async () => {
    await lab?.down();
  });

  async function doctor(): Promise<{ code: number; report: DoctorReport }> {
    const result = await baton(['doctor', '--lab', lab.dir, '--json']);
    expect(result.stderr).toBe('');
    return { code: result.code, report: JSON.parse(result.stdout) as DoctorReport };
  }

  const keys = (report: DoctorReport) => report.findings.map(key).sort();

  /** Both replication threads of `node` running again (asked of that server alone). */
  async function replicating(node: string): Promise<void> {
    await eventually(
      async () => {
        const conn = await lab.connect(node, 'baton');
        try {
          const [rows] = await conn.query('SHOW SLAVE STATUS');
          const row = (rows as Record<string, unknown>[])[0];
          return row?.Slave_IO_Running === 'Yes' && row.Slave_SQL_Running === 'Yes' ? true : undefined;
        } finally {
          conn.destroy();
        }
      },
      20_000,
      `${node} replicating`,
    );
  }

  test('passes on a fresh lab', async () => {
    const { code, report } = await doctor();
    expect(keys(report)).toEqual(FRESH);
    expect(code).toBe(0);
    expect(report.checks.filter((c) => c.status === 'pass')).toHaveLength(report.checks.length - 1);
    expect(report.measured.servers.every((s) => s.queryMs !== null && s.clockOffsetMs !== null)).toBe(true);
    expect(
      report.measured.etcd.every(
        (m) => m.readMs !== null && m.keepaliveMs !== null && m.clockOffsetMs !== null,
      ),
    ).toBe(true);
  });

  test('finds each item broken at runtime, on the server it was broken on', async () => {
    const { nodes } = await lab.status();
    const [a1, b1] = [nodes.find((n) => n.name === 'a1'), nodes.find((n) => n.name === 'b1')];
    if (!a1 || !b1) throw new Error('no a1 or b1 in the lab');
    // Grants and events are changed outside the binlog, as lab up made them on each server.
    const noBinlog = 'SET SESSION sql_log_bin = 0';
    const breaks: Record<string, string> = {
      a1: [
        'SET GLOBAL event_scheduler = OFF', // watchdog.scheduler
        "SET GLOBAL binlog_format = 'STATEMENT'", // settings.binlog-format
        // settings.semi-sync: on one master only, with no replica to ACK, and a timeout the
        // watchdog cannot wait out (nothing writes in this lab, so nothing waits for it).
        'SET GLOBAL rpl_semi_sync_master_timeout = 5000',
        'SET GLOBAL rpl_semi_sync_master_enabled = ON',
      ].join('; '),
      a2: [
        'SET GLOBAL gtid_strict_mode = OFF', // identity.gtid-strict-mode
        `${noBinlog}; REVOKE PROCESS ON *.* FROM 'baton'@'%'`, // users.baton-grants
        // replication.topology: a replica replicating from the other colo's master.
        `STOP SLAVE; CHANGE MASTER TO MASTER_HOST='${b1.host}', MASTER_PORT=${b1.port}, MASTER_USE_GTID=slave_pos; START SLAVE`,
      ].join('; '),
      b1: [
        'SET GLOBAL auto_increment_offset = 1', // masters.auto-increment
        'SET GLOBAL gtid_domain_id = 1', // identity.gtid-domain
        `${noBinlog}; ALTER DEFINER = 'baton'@'%' EVENT baton.watchdog DISABLE`, // watchdog.event
        'SET GLOBAL read_only = OFF', // replication.single-writer
      ].join('; '),
      b2: [
        'SET GLOBAL server_id = 12', // identity.server-id (a2's)
        'SET GLOBAL slave_net_timeout = 60', // settings.slave-net-timeout
        'STOP SLAVE', // replication.running
        `${noBinlog}; GRANT READ_ONLY ADMIN ON *.* TO 'app'@'%'`, // users.app-read-only-bypass
      ].join('; '),
    };
    const restores: Record<string, string> = {
      a1: [
        'SET GLOBAL event_scheduler = ON',
        "SET GLOBAL binlog_format = 'ROW'",
        'SET GLOBAL rpl_semi_sync_master_enabled = OFF',
        'SET GLOBAL rpl_semi_sync_master_timeout = 10000',
      ].join('; '),
      a2: [
        'SET GLOBAL gtid_strict_mode = ON',
        `${noBinlog}; GRANT PROCESS ON *.* TO 'baton'@'%'`,
        `STOP SLAVE; CHANGE MASTER TO MASTER_HOST='${a1.host}', MASTER_PORT=${a1.port}, MASTER_USE_GTID=slave_pos; START SLAVE`,
      ].join('; '),
      b1: [
        'SET GLOBAL read_only = ON',
        'SET GLOBAL auto_increment_offset = 2',
        'SET GLOBAL gtid_domain_id = 2',
        `${noBinlog}; ALTER DEFINER = 'baton'@'%' EVENT baton.watchdog ENABLE`,
      ].join('; '),
      b2: [
        'SET GLOBAL server_id = 22',
        'SET GLOBAL slave_net_timeout = 4',
        `${noBinlog}; REVOKE READ_ONLY ADMIN ON *.* FROM 'app'@'%'`,
        'START SLAVE',
      ].join('; '),
    };
    for (const [node, sql] of Object.entries(breaks)) await asRoot(lab, node, sql);
    try {
      // Repointed across the WAN, a2's IO thread says Connecting for a few round trips: that
      // would be a finding of its own.
      await replicating('a2');
      const { code, report } = await doctor();
      expect(code).toBe(1);
      expect(keys(report)).toEqual(
        [
          'masters.auto-increment error b1',
          'identity.server-id error b2',
          'identity.gtid-domain error b1',
          'identity.gtid-strict-mode error a2',
          'settings.binlog-format error a1',
          'settings.slave-net-timeout warning b2',
          'settings.semi-sync error a1',
          'settings.semi-sync warning a1', // MariaDB's default wait point, AFTER_COMMIT
          'settings.semi-sync warning a2',
          'settings.semi-sync warning b1',
          'users.app-read-only-bypass error b2',
          'users.baton-grants error a2',
          'watchdog.event error b1',
          'watchdog.scheduler error a1',
          'replication.running error b2',
          'replication.topology error a2',
          'replication.single-writer error b1',
          ...FRESH,
          // Two writable and none recorded: neither is known to be the writer, and both had
          // read_only set at runtime, so what their option files say is not visible.
          'settings.read-only-config info a1',
          'settings.read-only-config info b1',
        ].sort(),
      );
      const fixOf = (check: string, node: string) =>
        report.findings.find((f) => f.check === check && f.node === node)?.fix;
      expect(fixOf('users.app-read-only-bypass', 'b2')).toBe("REVOKE READ_ONLY ADMIN ON *.* FROM 'app'@'%';");
      expect(fixOf('users.baton-grants', 'a2')).toBe("GRANT PROCESS ON *.* TO 'baton'@'%';");
      expect(fixOf('replication.single-writer', 'b1')).toBe('SET GLOBAL read_only=ON;');
      // No secret in what doctor prints: not the lab's passwords, not a hash from SHOW GRANTS.
      const text = JSON.stringify(report);
      const { users } = await lab.status();
      for (const user of ['app', 'baton', 'repl'] as const) expect(text).not.toContain(users[user].password);
      expect(text).not.toMatch(/PASSWORD|\*[0-9A-F]{40}/);
    } finally {
      for (const [node, sql] of Object.entries(restores)) await asRoot(lab, node, sql);
    }
    await replicating('a2');
    await replicating('b2');
    // Restored: the lab passes again.
    const { code, report } = await doctor();
    expect(keys(report)).toEqual([...FRESH, B1_READ_ONLY_SET_AT_RUNTIME].sort());
    expect(code).toBe(0);
  });

  test.skipIf(!isRoot())(
    "timings: from inside colo a, with the other colo's etcd member first, keepalives cannot beat their hedge",
    async () => {
      const state = readLabState(lab.dir);
      if (!state) throw new Error('no lab state');
      // Valid at load (TTL 2 s > 3 × (300 + 200) ms; the watchdog, which needs more, is off)
      // and harmless on a LAN. But colo a's coordinator would call etcd-b first: a keepalive
      // goes a → b → w (the raft leader) and back, at least 70 + 80 ms on `continent` (the WAN
      // proxy never delivers early), against a hedge of max(100 ms, 2000/20).
      const config = coordinatorConfig(state, 'a', 'availability') as {
        etcd: { endpoints: string[] };
        clusters: Record<string, unknown>[];
      } & Record<string, unknown>;
      const [own, far, witness] = [
        etcdClientUrl(state.network, state.basePort, 'a'),
        etcdClientUrl(state.network, state.basePort, 'b'),
        etcdClientUrl(state.network, state.basePort, 'w'),
      ];
      config.etcd = { ...config.etcd, endpoints: [far, own, witness] };
      config.timings = { sessionTtlMs: 2000, storeTimeoutMs: 300 };
      config.clusters = config.clusters.map((c) => ({ ...c, watchdog: false }));
      const dir = mkdtempSync(path.join(tmpdir(), 'baton-doctor-'));
      const file = path.join(dir, 'a.yaml');
      writeFileSync(file, stringify(config));
      try {
        const stdout = await new Promise<string>((resolve, reject) =>
          execFile(
            'ip',
            [
              'netns',
              'exec',
              netnsName(state.network, 'a'),
              process.execPath,
              path.join(REPO, 'bin/baton.js'),
              'doctor',
              '--config',
              file,
              '--json',
            ],
            { timeout: 30_000 },
            (error, out, stderr) =>
              error && (error as { code?: unknown }).code !== 1
                ? reject(new Error(`${error.message} ${stderr}`))
                : resolve(String(out)),
          ),
        );
        const report = JSON.parse(stdout) as DoctorReport;
        expect(report.findings.filter((f) => f.check.startsWith('timings.')).map(key)).toEqual([
          'timings.etcd-round-trip warning',
        ]);
        const finding = report.findings.find((f) => f.check === 'timings.etcd-round-trip');
        expect(finding?.message).toMatch(
          /^a keepalive's round trip through b \(the first endpoint that answers\)/,
        );
        expect(finding?.fix).toMatch(
          /^config: timings\.sessionTtlMs: \d+000, or list a nearer etcd member first/,
        );
        expect(report.measured.etcd.find((m) => m.member === 'b')?.keepaliveMs).toBeGreaterThanOrEqual(150);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test('usage errors exit 2 with one line', async () => {
    // Three processes at once: each is mostly Node's start-up.
    const [neither, unknownCluster, badOption] = await Promise.all([
      baton(['doctor'], { ...process.env, BATON_CONFIG: '' }),
      baton(['doctor', '--lab', lab.dir, '--cluster', 'nope']),
      baton(['doctor', '--lab', lab.dir, '--bogus']),
    ]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toBe(
      'baton: which deployment? give --config FILE (or BATON_CONFIG) or --lab [DIR]\n',
    );
    expect(unknownCluster.code).toBe(2);
    expect(unknownCluster.stderr).toMatch(/^baton: no cluster nope in .*\(it has lab\)\n$/);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/^error: unknown option '--bogus'/);
  });

  test('finds what only a restart shows: option files without read_only or log_slave_updates; the raft leader moved', async () => {
    const state = readLabState(lab.dir);
    if (!state) throw new Error('no lab state');
    const cnf = path.join(lab.dir, 'a2', 'my.cnf');
    const original = readFileSync(cnf, 'utf8');
    const urls = SITES.map((site) => etcdClientUrl(state.network, state.basePort, site));
    writeFileSync(
      cnf,
      original
        .replace('read_only=ON', 'read_only=OFF')
        .replace('log_slave_updates=ON', 'log_slave_updates=OFF'),
    );
    await lab.fault('kill', 'a2');
    await lab.fault('start', 'a2');
    await replicating('a2');
    await placeRaftLeader(urls, 'a', 10_000);
    const { code, report } = await doctor();
    expect(code).toBe(1);
    expect(keys(report)).toEqual(
      [
        'settings.read-only-config error a2',
        'settings.binlog warning a2',
        'replication.single-writer error a2',
        'etcd.raft-leader warning',
        ...FRESH,
        B1_READ_ONLY_SET_AT_RUNTIME,
        // a1 and a2 writable, none recorded: a1 is not known to be the writer either.
        'settings.read-only-config info a1',
      ].sort(),
    );
    expect(report.findings.find((f) => f.check === 'settings.read-only-config' && f.node === 'a2')?.fix).toBe(
      'SET GLOBAL read_only = ON; and my.cnf [mariadbd]: read_only = ON',
    );
    // Last: the lab goes down after this test, so nothing is undone (it would take a restart).
  });
});
