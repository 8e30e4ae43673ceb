import { describe, expect, it } from 'vitest';
import { CHECKS, runChecks } from '../../../src/doctor/checks/index.js';
import { AREAS, areaOf, type CheckId, type Severity } from '../../../src/doctor/finding.js';
import { parseShowGrants } from '../../../src/doctor/grants.js';
import type { DoctorSnapshot, ServerReading } from '../../../src/doctor/snapshot.js';
import { cluster, healthySnapshot, member, server } from './fixtures.js';

type Expected = [CheckId, Severity, string?];

function findingsOf(snapshot: DoctorSnapshot): Expected[] {
  return runChecks(snapshot)
    .flatMap((r) => r.findings)
    .map((f): Expected => (f.node === undefined ? [f.check, f.severity] : [f.check, f.severity, f.node]));
}

function fixesOf(snapshot: DoctorSnapshot, check: CheckId): string[] {
  return runChecks(snapshot)
    .flatMap((r) => r.findings)
    .filter((f) => f.check === check)
    .map((f) => f.fix);
}

const sort = (xs: Expected[]) => [...xs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

function semiSyncEverywhere(s: DoctorSnapshot): void {
  for (const name of ['a1', 'b1'])
    server(s, name).semiSync = {
      masterEnabled: true,
      masterOn: true,
      clients: 1,
      unackedCommits: 0,
      fallbacks: 0,
      waitPoint: 'AFTER_SYNC',
      timeoutMs: 1000,
      replicaEnabled: false,
    };
  for (const name of ['a2', 'b2'])
    server(s, name).semiSync = {
      masterEnabled: false,
      masterOn: false,
      clients: 0,
      unackedCommits: 0,
      fallbacks: 0,
      waitPoint: '',
      timeoutMs: 0,
      replicaEnabled: true,
    };
}

function appGrants(s: DoctorSnapshot, node: string, login: string[], roles: string[] = []): void {
  const app = server(s, node).apps[0];
  if (!app?.grants) throw new Error('fixture has no app grants');
  app.grants.grants = parseShowGrants(login, 'mariadb');
  app.grants.roleGrants = parseShowGrants(roles, 'mariadb');
}

function batonGrantLines(s: DoctorSnapshot, node: string, lines: string[]): void {
  const baton = server(s, node).baton;
  if (!baton) throw new Error('fixture has no baton grants');
  baton.grants = parseShowGrants(lines, 'mariadb');
}

const channel = (s: DoctorSnapshot, node: string) =>
  server(s, node).replication[0] as ServerReading['replication'][number];

describe('the checks', () => {
  it('cover every area, one check per id', () => {
    const ids = CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map(areaOf))).toEqual(new Set(AREAS));
  });

  it('find nothing on a healthy deployment', () => {
    expect(findingsOf(healthySnapshot())).toEqual([]);
  });

  it('say so when etcd records no writer yet, and judge the others against the writable master', () => {
    const s = healthySnapshot();
    delete cluster(s).writer;
    expect(findingsOf(s)).toEqual([['replication.single-writer', 'info']]);
  });
});

// Each row breaks one fact of the healthy deployment and names every finding that must follow.
const BROKEN: [string, (s: DoctorSnapshot) => void, Expected[]][] = [
  // Reachability
  [
    'a server that does not answer is one error, and its own checks are skipped',
    (s) => (cluster(s).servers.b2 = { reachable: false, error: 'connect ECONNREFUSED' }),
    [['reach.mysql', 'error', 'b2']],
  ],
  [
    'an etcd endpoint that does not answer',
    (s) => s.deployment.etcd.unreachable.push({ endpoint: 'http://10.0.b.9:2379', error: 'unavailable' }),
    [['reach.etcd', 'error']],
  ],
  [
    'a member whose status does not answer (the others still agree on the leader)',
    (s) => {
      const b = s.deployment.etcd.members[1];
      if (b) {
        delete b.status;
        b.statusError = 'deadline exceeded';
      }
    },
    [['reach.etcd', 'error']],
  ],
  [
    "a cluster's state that cannot be read (a role without its prefix): no writer to judge by",
    (s) => {
      delete cluster(s).writer;
      cluster(s).stateError = 'permission denied';
    },
    [['reach.etcd', 'error']],
  ],
  [
    'no member list: the etcd checks are skipped',
    (s) => {
      s.deployment.etcd.members = [];
      s.deployment.etcd.membersError = 'no endpoint answered';
    },
    [['reach.etcd', 'error']],
  ],
  // Masters
  [
    'a master with auto_increment_increment 1',
    (s) => (server(s, 'b1').settings.autoIncrementIncrement = 1),
    [['masters.auto-increment', 'error', 'b1']],
  ],
  [
    'masters with the same offset',
    (s) => (server(s, 'b1').settings.autoIncrementOffset = 1),
    [['masters.auto-increment', 'error', 'b1']],
  ],
  [
    'masters with different increments',
    (s) => (server(s, 'b1').settings.autoIncrementIncrement = 3),
    [['masters.auto-increment', 'error', 'b1']],
  ],
  [
    'an offset above the increment, which the server reads as 1 (a1’s)',
    (s) => (server(s, 'b1').settings.autoIncrementOffset = 5),
    [['masters.auto-increment', 'error', 'b1']],
  ],
  [
    'replicas’ auto-increment settings do not matter',
    (s) => (server(s, 'a2').settings.autoIncrementIncrement = 1),
    [],
  ],
  // Identity
  [
    'two servers with one server_id',
    (s) => (server(s, 'b2').settings.serverId = 11),
    [['identity.server-id', 'error', 'b2']],
  ],
  ['server_id 0', (s) => (server(s, 'a2').settings.serverId = 0), [['identity.server-id', 'error', 'a2']]],
  [
    'masters sharing a GTID domain',
    (s) => (server(s, 'b1').settings.gtidDomainId = 1),
    [['identity.gtid-domain', 'error', 'b1']],
  ],
  [
    "a replica in a master's GTID domain",
    (s) => (server(s, 'a2').settings.gtidDomainId = 1),
    [['identity.gtid-domain', 'warning', 'a2']],
  ],
  [
    'gtid_strict_mode OFF',
    (s) => (server(s, 'a2').settings.gtidStrictMode = false),
    [['identity.gtid-strict-mode', 'error', 'a2']],
  ],
  // Replication settings
  [
    'a master without a binary log (its format no longer matters)',
    (s) => {
      server(s, 'b1').settings.logBin = false;
      server(s, 'b1').settings.binlogFormat = 'STATEMENT';
    },
    [['settings.binlog', 'error', 'b1']],
  ],
  [
    'a replica without log_slave_updates',
    (s) => (server(s, 'a2').settings.logReplicaUpdates = false),
    [['settings.binlog', 'warning', 'a2']],
  ],
  [
    'binlog_format STATEMENT',
    (s) => (server(s, 'b1').settings.binlogFormat = 'STATEMENT'),
    [['settings.binlog-format', 'error', 'b1']],
  ],
  [
    'read_only set at runtime on a non-writer: what a restart brings is unknown',
    (s) => (server(s, 'b2').settings.readOnly = { value: true, origin: 'runtime' }),
    [['settings.read-only-config', 'info', 'b2']],
  ],
  [
    'a non-writer whose option file says read_only OFF (and is writable now)',
    (s) => (server(s, 'b2').settings.readOnly = { value: false, origin: 'config' }),
    [
      ['settings.read-only-config', 'error', 'b2'],
      ['replication.single-writer', 'error', 'b2'],
    ],
  ],
  [
    'a non-writer with nothing setting read_only',
    (s) => (server(s, 'b1').settings.readOnly = { value: false, origin: 'default' }),
    [
      ['settings.read-only-config', 'error', 'b1'],
      ['replication.single-writer', 'error', 'b1'],
    ],
  ],
  [
    "the writer's option file opening writes",
    (s) => (server(s, 'a1').settings.readOnly = { value: false, origin: 'config' }),
    [['settings.read-only-config', 'error', 'a1']],
  ],
  [
    'a slave_net_timeout of a minute',
    (s) => (server(s, 'a2').settings.netTimeoutS = 60),
    [['settings.slave-net-timeout', 'warning', 'a2']],
  ],
  [
    'a heartbeat period not below slave_net_timeout',
    (s) => (channel(s, 'b2').heartbeatPeriodS = 4),
    [['settings.slave-net-timeout', 'warning', 'b2']],
  ],
  [
    'consistency without semi-sync',
    (s) => (cluster(s).policy = 'consistency'),
    [['settings.semi-sync', 'info']],
  ],
  ['semi-sync set up as the lab does it', semiSyncEverywhere, []],
  [
    'semi-sync on one master only',
    (s) => {
      semiSyncEverywhere(s);
      delete server(s, 'b1').semiSync;
    },
    [['settings.semi-sync', 'warning', 'b1']],
  ],
  [
    'semi-sync waiting AFTER_COMMIT',
    (s) => {
      semiSyncEverywhere(s);
      (server(s, 'a1').semiSync as { waitPoint: string }).waitPoint = 'AFTER_COMMIT';
    },
    [['settings.semi-sync', 'warning', 'a1']],
  ],
  [
    'a semi-sync timeout the watchdog cannot wait out (limit 4000 − 1400 − 1000 ms)',
    (s) => {
      semiSyncEverywhere(s);
      (server(s, 'b1').semiSync as { timeoutMs: number }).timeoutMs = 1600;
    },
    [['settings.semi-sync', 'error', 'b1']],
  ],
  [
    'no replica of a master ACKs',
    (s) => {
      semiSyncEverywhere(s);
      (server(s, 'b2').semiSync as { replicaEnabled: boolean }).replicaEnabled = false;
    },
    [['settings.semi-sync', 'warning', 'b2']],
  ],
  [
    "the writer's semi-sync fell back to async",
    (s) => {
      semiSyncEverywhere(s);
      (server(s, 'a1').semiSync as { masterOn: boolean }).masterOn = false;
    },
    [['settings.semi-sync', 'warning', 'a1']],
  ],
  // Users
  [
    'the application account enables a role holding READ_ONLY ADMIN',
    (s) =>
      appGrants(
        s,
        'b2',
        ['GRANT `ro_admin` TO `app`@`%`', 'GRANT SELECT, INSERT ON `app`.* TO `app`@`%`'],
        ['GRANT `ro_admin` TO `app`@`%`', 'GRANT READ_ONLY ADMIN ON *.* TO `ro_admin`'],
      ),
    [['users.app-read-only-bypass', 'error', 'b2']],
  ],
  [
    'the application account with ALL PRIVILEGES on *.*',
    (s) => appGrants(s, 'a1', ["GRANT ALL PRIVILEGES ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*AB'"]),
    [['users.app-read-only-bypass', 'error', 'a1']],
  ],
  [
    'SUPER on MariaDB 10.11 does not write through read_only (measured)',
    (s) => appGrants(s, 'a1', ['GRANT SUPER ON *.* TO `app`@`%`']),
    [],
  ],
  [
    'SUPER on MariaDB 10.6 does',
    (s) => {
      server(s, 'a1').version = '10.6.18-MariaDB';
      appGrants(s, 'a1', ['GRANT SUPER ON *.* TO `app`@`%`']);
    },
    [['users.app-read-only-bypass', 'error', 'a1']],
  ],
  [
    'an application account that cannot log in from here',
    (s) => (server(s, 'a2').apps = [{ user: 'app', error: "Access denied for user 'app'@'10.0.9.9'" }]),
    [['users.app-read-only-bypass', 'warning', 'a2']],
  ],
  [
    'no application account given',
    (s) => {
      cluster(s).appUsers = [];
      for (const n of ['a1', 'a2', 'b1', 'b2']) server(s, n).apps = [];
    },
    [['users.app-read-only-bypass', 'info']],
  ],
  [
    'baton without PROCESS',
    (s) =>
      batonGrantLines(s, 'a2', [
        'GRANT CONNECTION ADMIN, READ_ONLY ADMIN, REPLICATION SLAVE ADMIN, SLAVE MONITOR ON *.* TO `baton`@`%`',
        'GRANT ALL PRIVILEGES ON `baton`.* TO `baton`@`%`',
      ]),
    [['users.baton-grants', 'error', 'a2']],
  ],
  [
    'baton without its schema',
    (s) => batonGrantLines(s, 'a2', [BATON_GLOBAL]),
    [['users.baton-grants', 'error', 'a2']],
  ],
  [
    'baton with more than it needs, and the right to pass it on',
    (s) =>
      batonGrantLines(s, 'b1', [
        `${BATON_GLOBAL} WITH GRANT OPTION`,
        'GRANT ALL PRIVILEGES ON `baton`.* TO `baton`@`%`',
        'GRANT SELECT ON `app`.* TO `baton`@`%`',
      ]),
    [
      ['users.baton-grants', 'warning', 'b1'],
      ['users.baton-grants', 'warning', 'b1'],
    ],
  ],
  [
    'baton with ALL PRIVILEGES has what it needs, and much more',
    (s) => batonGrantLines(s, 'b1', ['GRANT ALL PRIVILEGES ON *.* TO `baton`@`%`']),
    [['users.baton-grants', 'warning', 'b1']],
  ],
  // Watchdog
  [
    'a master without the watchdog event',
    (s) => delete server(s, 'b1').watchdogEvent,
    [['watchdog.event', 'error', 'b1']],
  ],
  ['replicas need no event', (s) => delete server(s, 'b2').watchdogEvent, []],
  [
    'baton without EVENT on its schema cannot see the event (and the server will not run it)',
    (s) => {
      batonGrantLines(s, 'b1', [
        BATON_GLOBAL,
        'GRANT SELECT, INSERT, UPDATE, CREATE, ALTER ON `baton`.* TO `baton`@`%`',
      ]);
      delete server(s, 'b1').watchdogEvent;
    },
    [
      ['users.baton-grants', 'error', 'b1'],
      ['watchdog.event', 'error', 'b1'],
    ],
  ],
  [
    'an event that arrived through replication',
    (s) => (server(s, 'b1').watchdogEvent = { status: 'SLAVESIDE_DISABLED', definer: 'baton@%' }),
    [['watchdog.event', 'error', 'b1']],
  ],
  [
    'an event defined as another account',
    (s) => (server(s, 'a1').watchdogEvent = { status: 'ENABLED', definer: 'root@localhost' }),
    [['watchdog.event', 'warning', 'a1']],
  ],
  [
    'the event scheduler OFF on a master',
    (s) => (server(s, 'a1').settings.eventScheduler = 'OFF'),
    [['watchdog.scheduler', 'error', 'a1']],
  ],
  [
    'the watchdog turned off for the cluster: one note, nothing checked',
    (s) => {
      cluster(s).watchdog = false;
      delete server(s, 'a1').watchdogEvent;
      server(s, 'b1').settings.eventScheduler = 'OFF';
    },
    [['watchdog.event', 'info']],
  ],
  // Replication state
  [
    'an SQL thread stopped on an error',
    (s) => {
      channel(s, 'a2').sqlRunning = false;
      channel(s, 'a2').error = { thread: 'sql', errno: 1062, message: 'Duplicate entry' };
    },
    [['replication.running', 'error', 'a2']],
  ],
  [
    'an IO thread that cannot reach its source',
    (s) => (channel(s, 'b2').ioRunning = 'connecting'),
    [['replication.running', 'error', 'b2']],
  ],
  [
    'replication stopped (STOP SLAVE)',
    (s) => {
      channel(s, 'b2').ioRunning = 'no';
      channel(s, 'b2').sqlRunning = false;
    },
    [['replication.running', 'error', 'b2']],
  ],
  [
    'a master that does not replicate at all',
    (s) => (server(s, 'a1').replication = []),
    [['replication.running', 'error', 'a1']],
  ],
  [
    'the writer not replicating from a quarantined co-master, as baton leaves it',
    (s) => {
      cluster(s).quarantined = ['b1'];
      server(s, 'a1').replication = [];
      channel(s, 'b1').ioRunning = 'no';
      channel(s, 'b1').sqlRunning = false;
    },
    [['replication.running', 'info', 'b1']],
  ],
  [
    'a master replicating from a replica',
    (s) => (channel(s, 'b1').sourceHost = '10.0.1.2'),
    [['replication.topology', 'error', 'b1']],
  ],
  [
    'a replica moved to the writer',
    (s) => (channel(s, 'b2').sourceHost = '10.0.1.1'),
    [['replication.topology', 'warning', 'b2']],
  ],
  [
    'a source that is no node of the cluster',
    (s) => (channel(s, 'b2').sourcePort = 3307),
    [['replication.topology', 'error', 'b2']],
  ],
  [
    'a source named by host name, which resolves to the node',
    (s) => {
      channel(s, 'b2').sourceHost = 'db-b1';
      cluster(s).addresses['db-b1'] = ['10.0.2.1'];
    },
    [],
  ],
  [
    'replication by file and position',
    (s) => {
      channel(s, 'a2').usesGtid = false;
      channel(s, 'a2').gtidMode = 'No';
    },
    [['replication.topology', 'error', 'a2']],
  ],
  [
    'MASTER_USE_GTID=current_pos',
    (s) => (channel(s, 'a2').gtidMode = 'Current_Pos'),
    [['replication.topology', 'warning', 'a2']],
  ],
  [
    'two channels',
    (s) => server(s, 'a2').replication.push({ ...channel(s, 'a2'), name: 'extra' }),
    [['replication.topology', 'warning', 'a2']],
  ],
  [
    'two writable masters (and read_only set at runtime on the stray one)',
    (s) => (server(s, 'b1').settings.readOnly = { value: false, origin: 'runtime' }),
    [
      ['replication.single-writer', 'error', 'b1'],
      ['settings.read-only-config', 'info', 'b1'],
    ],
  ],
  [
    'the recorded writer read-only',
    (s) => (server(s, 'a1').settings.readOnly = { value: true, origin: 'runtime' }),
    [['replication.single-writer', 'warning', 'a1']],
  ],
  [
    'two writable masters and no writer recorded: the other master is the stray one',
    (s) => {
      delete cluster(s).writer;
      server(s, 'b1').settings.readOnly = { value: false, origin: 'runtime' };
    },
    [
      ['replication.single-writer', 'info'],
      ['replication.single-writer', 'error', 'b1'],
      // With two writable and none recorded, neither is known to be the writer.
      ['settings.read-only-config', 'info', 'a1'],
      ['settings.read-only-config', 'info', 'b1'],
    ],
  ],
  [
    'server clocks 400 ms apart',
    (s) => (server(s, 'b2').clock = { offsetMs: 400, uncertaintyMs: 1, samples: 5 }),
    [['replication.clock-skew', 'warning', 'b2']],
  ],
  [
    'server clocks apart by no more than the measurement can tell',
    (s) => (server(s, 'b2').clock = { offsetMs: 150, uncertaintyMs: 60, samples: 5 }),
    [],
  ],
  // etcd
  [
    'etcd in two sites (and the preferred leader gone with the third)',
    (s) => (s.deployment.etcd.members = [member('a', '1', '1'), member('b', '2', '1')]),
    [
      ['etcd.sites', 'error'],
      ['etcd.raft-leader', 'error'],
    ],
  ],
  [
    'five members, three of them in colo a',
    (s) => {
      s.deployment.etcd.members.push(member('a-2', '4'), member('etcd-a-3', '5'));
    },
    [['etcd.sites', 'error']],
  ],
  [
    'a member whose site nothing says (it is named in etcd.memberSites: no finding)',
    (s) => {
      const w = s.deployment.etcd.members[2];
      if (w) w.name = 'tiebreaker';
      s.deployment.preferredLeader = 'tiebreaker';
      s.deployment.memberSites = { tiebreaker: 'w' };
    },
    [],
  ],
  [
    'a member whose site nothing says',
    (s) => {
      const w = s.deployment.etcd.members[2];
      if (w) w.name = 'tiebreaker';
      s.deployment.preferredLeader = 'tiebreaker';
    },
    [
      ['etcd.sites', 'warning'],
      ['etcd.sites', 'error'],
    ],
  ],
  [
    'the raft leader in a colo',
    (s) => {
      for (const m of s.deployment.etcd.members) if (m.status) m.status.leaderId = '1';
    },
    [['etcd.raft-leader', 'warning']],
  ],
  [
    'no preferred leader configured',
    (s) => delete s.deployment.preferredLeader,
    [['etcd.raft-leader', 'info']],
  ],
  [
    'statuses refused (etcd auth without root)',
    (s) => {
      for (const m of s.deployment.etcd.members) {
        delete m.status;
        m.statusError = 'permission denied';
        m.statusDenied = true;
      }
    },
    [['etcd.raft-leader', 'warning']],
  ],
  [
    'the member list refused (etcd 3.5.28 without root): a warning, not an outage',
    (s) => {
      s.deployment.etcd.members = [];
      s.deployment.etcd.membersDenied = true;
      s.deployment.etcd.membersError = 'etcd refused the member list to etcd user baton-coordinator';
    },
    [
      ['reach.etcd', 'warning'],
      ['etcd.raft-leader', 'warning'],
    ],
  ],
  [
    'MoveLeader refused with the raft leader in place: the next election leaves it wherever it lands',
    (s) => (s.deployment.etcd.moveLeaderPermitted = false),
    [['etcd.raft-leader', 'warning']],
  ],
  ['MoveLeader permitted, raft leader in place', (s) => (s.deployment.etcd.moveLeaderPermitted = true), []],
  [
    'MoveLeader refused with the raft leader in a colo',
    (s) => {
      s.deployment.etcd.moveLeaderPermitted = false;
      for (const m of s.deployment.etcd.members) if (m.status) m.status.leaderId = '1';
    },
    [['etcd.raft-leader', 'warning']],
  ],
  [
    'no raft leader',
    (s) => {
      for (const m of s.deployment.etcd.members) if (m.status) m.status.leaderId = '0';
    },
    [['etcd.raft-leader', 'error']],
  ],
  [
    "an etcd host's clock certainly over a tenth of reportFreshMs away",
    (s) => {
      const a = s.deployment.etcd.members[0];
      if (a) a.clock = { offsetMs: 300, uncertaintyMs: 20, samples: 30 };
    },
    [['etcd.clock-skew', 'error']],
  ],
  [
    "an etcd host's clock not synchronised",
    (s) => {
      const a = s.deployment.etcd.members[0];
      if (a) a.clock = { offsetMs: -150, uncertaintyMs: 20, samples: 30 };
    },
    [['etcd.clock-skew', 'warning']],
  ],
  [
    'a clock that could not be read',
    (s) => {
      const b = s.deployment.etcd.members[1];
      if (b) {
        delete b.clock;
        b.clockError = 'no answer';
      }
    },
    [['etcd.clock-skew', 'warning']],
  ],
  // Timings
  [
    'a keepalive round trip above its hedge (200 ms at TTL 4 s)',
    (s) => {
      const w = s.deployment.etcd.members[2];
      if (w) w.keepaliveRoundTripsMs = [210, 230, 215];
    },
    [['timings.etcd-round-trip', 'warning']],
  ],
  [
    'one keepalive under its hedge: the path is not too long, this host was busy',
    (s) => {
      const w = s.deployment.etcd.members[2];
      if (w) w.keepaliveRoundTripsMs = [210, 150, 215];
    },
    [],
  ],
  [
    'a state read of a third of the TTL, the cap on an etcd call',
    (s) => {
      const w = s.deployment.etcd.members[2];
      if (w) w.roundTripsMs = [1400, 1400, 1450];
    },
    [['timings.etcd-round-trip', 'error']],
  ],
  [
    'only the first endpoint that answers counts: a slow far member does not',
    (s) => {
      const b = s.deployment.etcd.members[1];
      if (b) {
        b.roundTripsMs = [1500, 1500, 1500];
        b.keepaliveRoundTripsMs = [900, 900, 900];
      }
    },
    [],
  ],
  [
    'the first endpoint not answering: the next in the config’s order counts',
    (s) => {
      const [a, , w] = s.deployment.etcd.members;
      if (a && w) {
        w.roundTripsMs = [];
        w.keepaliveRoundTripsMs = [];
        a.keepaliveRoundTripsMs = [250, 260, 255];
      }
    },
    [['timings.etcd-round-trip', 'warning']],
  ],
  [
    'a master so far that a stand-in hold is under two cycles (and a probe is mostly round trip)',
    (s) => (server(s, 'b1').roundTripsMs = [600, 610, 605, 600, 620]),
    [
      ['timings.stand-in-hold', 'warning', 'b1'],
      ['timings.probe-round-trip', 'info', 'b1'],
    ],
  ],
  [
    'a replica whose round trip exceeds the probe timeout',
    (s) => (server(s, 'a2').roundTripsMs = [200, 210, 205]),
    [['timings.probe-round-trip', 'info', 'a2']],
  ],
];

const BATON_GLOBAL =
  'GRANT PROCESS, CONNECTION ADMIN, READ_ONLY ADMIN, REPLICATION SLAVE ADMIN, SLAVE MONITOR ON *.* TO `baton`@`%`';

describe.each(BROKEN)('%s', (_name, breakIt, expected) => {
  it('gives exactly the matching findings', () => {
    const s = healthySnapshot();
    breakIt(s);
    expect(sort(findingsOf(s))).toEqual(sort(expected));
  });
});

describe('fixes', () => {
  it('name a free offset, server_id and GTID domain', () => {
    const s = healthySnapshot();
    server(s, 'b1').settings.autoIncrementOffset = 1;
    server(s, 'b2').settings.serverId = 11;
    server(s, 'b1').settings.gtidDomainId = 1;
    expect(fixesOf(s, 'masters.auto-increment')).toEqual([
      'SET GLOBAL auto_increment_offset = 2; and my.cnf [mariadbd]: auto_increment_offset = 2',
    ]);
    expect(fixesOf(s, 'identity.server-id')).toEqual([
      'SET GLOBAL server_id = 13; and my.cnf [mariadbd]: server_id = 13',
    ]);
    expect(fixesOf(s, 'identity.gtid-domain')).toEqual([
      // b1's own domain 2 is free again.
      'SET GLOBAL gtid_domain_id = 2; and my.cnf [mariadbd]: gtid_domain_id = 2',
    ]);
  });

  it('revoke a bypass from the role it came through, never print a password hash', () => {
    const s = healthySnapshot();
    appGrants(
      s,
      'b2',
      ["GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*89EDAF96749359FA98B0236BE52859DBB695BF95'"],
      ['GRANT `ro_admin` TO `app`@`%`', 'GRANT READ_ONLY ADMIN ON *.* TO `ro_admin`'],
    );
    const [finding] = runChecks(s).flatMap((r) => r.findings);
    expect(finding?.fix).toBe('REVOKE READ_ONLY ADMIN ON *.* FROM `ro_admin`;');
    expect(finding?.message).toContain('READ_ONLY ADMIN on *.* (through role `ro_admin`)');
    expect(JSON.stringify(runChecks(s))).not.toContain('89EDAF');
  });

  it('grant what baton lacks, to the account the server matched', () => {
    const s = healthySnapshot();
    batonGrantLines(s, 'a2', [
      'GRANT READ_ONLY ADMIN, SLAVE MONITOR ON *.* TO `baton`@`%`',
      'GRANT ALL PRIVILEGES ON `baton`.* TO `baton`@`%`',
    ]);
    expect(fixesOf(s, 'users.baton-grants')).toEqual([
      "GRANT CONNECTION ADMIN, PROCESS, REPLICATION SLAVE ADMIN ON *.* TO 'baton'@'%';",
    ]);
  });

  it('grant EVENT to see and run the watchdog event, not install it again', () => {
    const s = healthySnapshot();
    batonGrantLines(s, 'b1', [
      BATON_GLOBAL,
      'GRANT SELECT, INSERT, UPDATE, CREATE, ALTER ON `baton`.* TO `baton`@`%`',
    ]);
    delete server(s, 'b1').watchdogEvent;
    expect(fixesOf(s, 'watchdog.event')).toEqual(["GRANT EVENT ON `baton`.* TO 'baton'@'%';"]);
    expect(fixesOf(s, 'users.baton-grants')).toEqual(["GRANT EVENT ON `baton`.* TO 'baton'@'%';"]);
  });

  it('repoint with the statement baton itself would run', () => {
    const s = healthySnapshot();
    channel(s, 'b1').sourceHost = '10.0.1.2';
    expect(fixesOf(s, 'replication.topology')).toEqual([
      "STOP SLAVE; CHANGE MASTER TO MASTER_HOST='10.0.1.1', MASTER_PORT=3306, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, DO_DOMAIN_IDS=(), IGNORE_DOMAIN_IDS=(); START SLAVE;",
    ]);
  });

  it('drop an extra replication channel by name', () => {
    const s = healthySnapshot();
    server(s, 'a2').replication.push({ ...channel(s, 'a2'), name: 'extra' });
    expect(fixesOf(s, 'replication.topology')).toEqual([
      "remove the others: STOP SLAVE 'extra'; RESET SLAVE 'extra' ALL;",
    ]);
  });

  it('install a missing watchdog with a script the mysql client accepts', () => {
    const s = healthySnapshot();
    delete server(s, 'b1').watchdogEvent;
    const [fix] = fixesOf(s, 'watchdog.event');
    expect(fix).toMatch(/^as an administrator:\nSET SESSION sql_log_bin = 0;\n/);
    expect(fix).toContain("DELIMITER //\nCREATE DEFINER = 'baton'@'%' EVENT IF NOT EXISTS baton.watchdog");
    expect(fix).toContain("END //\nDELIMITER ;\nALTER DEFINER = 'baton'@'%' EVENT baton.watchdog ENABLE;");
  });

  it('move the raft leader with etcdctl, by hex member id', () => {
    const s = healthySnapshot();
    const w = s.deployment.etcd.members[2];
    if (w) w.id = '11250873408290218192';
    for (const m of s.deployment.etcd.members) if (m.status) m.status.leaderId = '1';
    expect(fixesOf(s, 'etcd.raft-leader')).toEqual([
      'etcdctl --endpoints=http://10.0.a.9:2379 move-leader 9c2321c15206e0d0',
    ]);
  });

  it('say that raft leader placement needs root, and the ways out, when etcd refuses MoveLeader', () => {
    const s = healthySnapshot();
    s.deployment.etcd.user = 'baton-coordinator';
    s.deployment.etcd.moveLeaderPermitted = false;
    for (const m of s.deployment.etcd.members) if (m.status) m.status.leaderId = '1';
    const [finding] = runChecks(s)
      .flatMap((r) => r.findings)
      .filter((f) => f.check === 'etcd.raft-leader');
    expect(finding?.message).toContain(
      "raft leader placement (etcd.preferredLeader: w) needs etcd's root role here: etcd refused MoveLeader to etcd user baton-coordinator",
    );
    expect(finding?.fix).toMatch(
      /^now: etcdctl --user root --endpoints=http:\/\/10\.0\.a\.9:2379 move-leader /,
    );
    expect(finding?.fix).toContain('etcdctl user grant-role baton-coordinator root');
    expect(finding?.fix).toContain('remove etcd.preferredLeader');
  });

  it('suggest the witness member as preferred leader', () => {
    const s = healthySnapshot();
    delete s.deployment.preferredLeader;
    expect(fixesOf(s, 'etcd.raft-leader')).toEqual(['config: etcd.preferredLeader: w']);
  });

  it('suggest a TTL that puts the stand-in hold back over two cycles', () => {
    const s = healthySnapshot();
    server(s, 'b1').roundTripsMs = [600, 610, 605, 600, 620];
    // Stamp deadline 150 + ~1,010 ms allowance; floor(2/3 × 4,500) − (1,160 + 1,250) = 590 ≥ 400.
    expect(fixesOf(s, 'timings.stand-in-hold')).toEqual(['config: timings.sessionTtlMs: 4500']);
  });
});

describe('MySQL 8 (the manual’s behaviour; not run against a server)', () => {
  function mysqlSnapshot(): DoctorSnapshot {
    const s = healthySnapshot();
    for (const [i, name] of ['a1', 'a2', 'b1', 'b2'].entries()) {
      const r = server(s, name);
      r.flavor = 'mysql';
      r.version = '8.0.36';
      const writer = name === 'a1';
      r.settings = {
        ...r.settings,
        serverUuid: `3e11fa47-71ca-11e1-9e33-c80aa9429${String(i).padStart(3, '0')}`,
        gtidMode: 'ON',
        enforceGtidConsistency: 'ON',
        readOnly: writer ? { value: false, origin: 'runtime' } : { value: true, origin: 'config' },
        superReadOnly: writer ? { value: false, origin: 'runtime' } : { value: true, origin: 'config' },
      };
      delete r.settings.gtidDomainId;
      delete r.settings.gtidStrictMode;
      for (const c of r.replication) {
        c.gtidMode = 'auto-position';
        delete c.heartbeatPeriodS;
      }
      r.baton = {
        account: 'baton@%',
        grants: parseShowGrants(
          [
            'GRANT PROCESS, REPLICATION CLIENT ON *.* TO `baton`@`%`',
            'GRANT CONNECTION_ADMIN,REPLICATION_SLAVE_ADMIN,SYSTEM_VARIABLES_ADMIN ON *.* TO `baton`@`%`',
            'GRANT ALL PRIVILEGES ON `baton`.* TO `baton`@`%`',
          ],
          'mysql',
        ),
        roleGrants: parseShowGrants([], 'mysql'),
        unreadRoles: [],
      };
    }
    return s;
  }

  it('a healthy MySQL deployment passes', () => {
    expect(findingsOf(mysqlSnapshot())).toEqual([]);
  });

  it.each<[string, (s: DoctorSnapshot) => void, Expected[]]>([
    [
      'a cloned server_uuid',
      (s) => (server(s, 'b2').settings.serverUuid = server(s, 'a1').settings.serverUuid as string),
      [['identity.gtid-domain', 'error', 'b2']],
    ],
    [
      'gtid_mode not ON',
      (s) => (server(s, 'a2').settings.gtidMode = 'ON_PERMISSIVE'),
      [['identity.gtid-strict-mode', 'error', 'a2']],
    ],
    [
      'an application account with CONNECTION_ADMIN',
      (s) => {
        const app = server(s, 'a1').apps[0];
        if (app?.grants)
          app.grants.grants = parseShowGrants(['GRANT CONNECTION_ADMIN ON *.* TO `app`@`%`'], 'mysql');
      },
      [['users.app-read-only-bypass', 'error', 'a1']],
    ],
    [
      'super_read_only missing from a non-writer’s option file (read_only there is not enough)',
      (s) => (server(s, 'b2').settings.superReadOnly = { value: false, origin: 'default' }),
      [['settings.read-only-config', 'error', 'b2']],
    ],
  ])('%s', (_name, breakIt, expected) => {
    const s = mysqlSnapshot();
    breakIt(s);
    expect(sort(findingsOf(s))).toEqual(sort(expected));
  });

  it('fixes use MySQL’s own names', () => {
    const s = mysqlSnapshot();
    server(s, 'b2').settings.superReadOnly = { value: false, origin: 'default' };
    channel(s, 'a2').usesGtid = false;
    expect(fixesOf(s, 'settings.read-only-config')).toEqual([
      'SET GLOBAL super_read_only = ON; and my.cnf [mysqld]: super_read_only = ON',
    ]);
    expect(fixesOf(s, 'replication.topology')).toEqual([
      'STOP REPLICA; CHANGE REPLICATION SOURCE TO SOURCE_AUTO_POSITION = 1; START REPLICA;',
    ]);
  });
});
