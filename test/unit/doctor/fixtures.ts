/**
 * A lab-like deployment as doctor would read it when all is well: two masters (a1, b1) in colos
 * a and b replicating from each other, a replica behind each, etcd members a, b, w with the raft
 * leader at w. Tests break one fact at a time and expect the matching finding.
 */
import { parseShowGrants } from '../../../src/doctor/grants.js';
import type {
  ClusterFacts,
  DoctorSnapshot,
  EtcdMemberFacts,
  NodeSpec,
  ServerReading,
} from '../../../src/doctor/snapshot.js';

export const NODES: NodeSpec[] = [
  { name: 'a1', colo: 'a', role: 'candidate', host: '10.0.1.1', port: 3306 },
  { name: 'a2', colo: 'a', role: 'replica', host: '10.0.1.2', port: 3306, replicatesFrom: 'a1' },
  { name: 'b1', colo: 'b', role: 'candidate', host: '10.0.2.1', port: 3306 },
  { name: 'b2', colo: 'b', role: 'replica', host: '10.0.2.2', port: 3306, replicatesFrom: 'b1' },
];

const IDENTITY: Record<string, { serverId: number; domain: number; offset: number; source: string }> = {
  a1: { serverId: 11, domain: 1, offset: 1, source: 'b1' },
  a2: { serverId: 12, domain: 11, offset: 1, source: 'a1' },
  b1: { serverId: 21, domain: 2, offset: 2, source: 'a1' },
  b2: { serverId: 22, domain: 21, offset: 2, source: 'b1' },
};

/** SHOW GRANTS as MariaDB 10.11.19 printed it for the lab's accounts (hash shortened). */
export const BATON_GRANT_LINES = [
  "GRANT PROCESS, CONNECTION ADMIN, READ_ONLY ADMIN, REPLICATION SLAVE ADMIN, SLAVE MONITOR ON *.* TO `baton`@`%` IDENTIFIED BY PASSWORD '*244B00F676B1468FF3775633D2F72EC44C60D200'",
  'GRANT SELECT, INSERT, UPDATE, CREATE, ALTER, EVENT ON `baton`.* TO `baton`@`%`',
];
export const APP_GRANT_LINES = [
  "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*89EDAF96749359FA98B0236BE52859DBB695BF95'",
  'GRANT SELECT, INSERT, UPDATE, DELETE ON `app`.* TO `app`@`%`',
];

export function serverFor(node: NodeSpec, writer: string): ServerReading {
  const id = IDENTITY[node.name] as (typeof IDENTITY)[string];
  const source = NODES.find((n) => n.name === id.source) as NodeSpec;
  const isWriter = node.name === writer;
  return {
    reachable: true,
    version: '10.11.19-MariaDB-0+deb12u1-log',
    flavor: 'mariadb',
    settings: {
      serverId: id.serverId,
      gtidDomainId: id.domain,
      gtidStrictMode: true,
      logBin: true,
      logReplicaUpdates: true,
      binlogFormat: 'ROW',
      readOnly: isWriter ? { value: false, origin: 'runtime' } : { value: true, origin: 'config' },
      autoIncrementIncrement: 2,
      autoIncrementOffset: id.offset,
      netTimeoutS: 4,
      eventScheduler: 'ON',
    },
    replication: [
      {
        name: '',
        sourceHost: source.host,
        sourcePort: source.port,
        ioRunning: 'yes',
        sqlRunning: true,
        usesGtid: true,
        gtidMode: 'Slave_Pos',
        heartbeatPeriodS: 1,
      },
    ],
    watchdogEvent: { status: 'ENABLED', definer: 'baton@%' },
    baton: {
      account: 'baton@%',
      grants: parseShowGrants(BATON_GRANT_LINES, 'mariadb'),
      roleGrants: parseShowGrants([], 'mariadb'),
      unreadRoles: [],
    },
    apps: [
      {
        user: 'app',
        grants: {
          account: 'app@%',
          grants: parseShowGrants(APP_GRANT_LINES, 'mariadb'),
          roleGrants: parseShowGrants([], 'mariadb'),
          unreadRoles: [],
        },
      },
    ],
    clock: { offsetMs: 0.4, uncertaintyMs: 0.6, samples: 5 },
    roundTripsMs: [0.4, 0.5, 0.3, 0.4, 0.6],
  };
}

export function member(name: string, id: string, leaderId = '3'): EtcdMemberFacts {
  return {
    name,
    id,
    clientUrls: [`http://10.0.${name}.9:2379`],
    status: { leaderId },
    roundTripsMs: [1.1, 1.0, 1.2, 0.9, 1.0],
    keepaliveRoundTripsMs: [0.6, 0.5, 0.7],
    clock: { offsetMs: -2, uncertaintyMs: 6, samples: 30 },
  };
}

export function healthyCluster(): ClusterFacts {
  return {
    name: 'lab',
    configIndex: 0,
    policy: 'availability',
    watchdog: true,
    nodes: NODES.map((n) => ({ ...n })),
    writer: { node: 'a1', epoch: 1 },
    quarantined: [],
    appUsers: ['app'],
    addresses: Object.fromEntries(NODES.map((n) => [n.host, [n.host]])),
    servers: Object.fromEntries(NODES.map((n) => [n.name, serverFor(n, 'a1')])),
  };
}

export function healthySnapshot(): DoctorSnapshot {
  const members = [member('a', '1'), member('b', '2'), member('w', '3')];
  return {
    deployment: {
      host: 'coord-w',
      takenAt: '2026-12-05T06:00:00.000Z',
      timings: {
        probeTimeoutMs: 150,
        cycleIntervalMs: 200,
        sessionTtlMs: 4000,
        reportFreshMs: 2500,
      },
      colos: ['a', 'b', 'w'],
      preferredLeader: 'w',
      memberSites: {},
      etcd: {
        endpoints: ['http://10.0.w.9:2379', 'http://10.0.a.9:2379', 'http://10.0.b.9:2379'],
        members,
        unreachable: [],
      },
    },
    clusters: [healthyCluster()],
  };
}

/** The reading of `node` in the snapshot's first cluster, to break. */
export function server(snapshot: DoctorSnapshot, node: string): ServerReading {
  const facts = snapshot.clusters[0]?.servers[node];
  if (!facts?.reachable) throw new Error(`${node} is not a reachable server in the fixture`);
  return facts;
}

export function cluster(snapshot: DoctorSnapshot): ClusterFacts {
  return snapshot.clusters[0] as ClusterFacts;
}
