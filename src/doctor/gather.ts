/**
 * The gather step: reads every server of the chosen clusters and etcd, in parallel, each call
 * under its own deadline, into one DoctorSnapshot for the pure checks. Whatever cannot be read
 * is recorded with why; nothing here decides anything.
 */
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import type { BatonConfigFile } from '../config/schema.js';
import type { Clock } from '../coordinator/ports.js';
import { clusterKeys } from '../coordinator/keys.js';
import type { EtcdClientSettings } from '../etcd/client.js';
import type { EndpointFailover } from '../ops/endpoint-failover.js';
import { readClusterState } from '../ops/cluster-state.js';
import { readEtcd } from './read-etcd.js';
import type { MysqlTls } from '../mysql/tls.js';
import { readServer, type ServerRead } from './read-server.js';
import type { ClusterFacts, DoctorSnapshot, NodeSpec, ServerFacts } from './snapshot.js';

export interface Credential {
  user: string;
  password: string;
}

export interface GatherInputs {
  config: BatonConfigFile;
  /** The clusters to check, by name (all of them are in the config). */
  clusters: readonly string[];
  /** baton's MySQL account, with the password read from its file or variable. */
  baton: Credential;
  /** The application accounts to log in as. */
  apps: readonly Credential[];
  /** Each cluster's TLS to its servers (config/load-config.ts readClusterTls); absent: plaintext. */
  tls: ReadonlyMap<string, MysqlTls>;
  etcdSettings: EtcdClientSettings;
  /** For the clusters' state (writer record, quarantine): each endpoint in turn. */
  etcd: EndpointFailover;
  clock: Clock;
}

const STATE_READ_MS = 2_000;
const DNS_MS = 1_000;

/** Every address a host name resolves to from here (an address resolves to itself). */
async function resolveAll(hosts: Iterable<string>): Promise<Record<string, string[]>> {
  const unique = [...new Set(hosts)].filter((h) => h !== '');
  const resolved = await Promise.all(
    unique.map(async (host): Promise<[string, string[]]> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('dns timeout')), DNS_MS);
      });
      try {
        const found = await Promise.race([lookup(host, { all: true }), timeout]);
        return [host, found.map((a) => a.address)];
      } catch {
        return [host, []];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(resolved);
}

interface ClusterRead {
  facts: ClusterFacts;
  servers: ServerRead[];
}

async function readCluster(inputs: GatherInputs, name: string): Promise<ClusterRead> {
  const configIndex = inputs.config.clusters.findIndex((c) => c.name === name);
  const cluster = inputs.config.clusters[configIndex];
  if (!cluster) throw new Error(`cluster ${name} is not in the config`);
  const nodes: NodeSpec[] = cluster.nodes.map((n) => ({
    name: n.name,
    colo: n.colo,
    role: n.role,
    host: n.host,
    port: n.port,
    ...(n.replicatesFrom !== undefined ? { replicatesFrom: n.replicatesFrom } : {}),
  }));
  const [state, servers] = await Promise.all([
    inputs.etcd
      .attempt((store) => readClusterState(store, inputs.clock, name, STATE_READ_MS))
      .then(
        (s) => ({ ok: true as const, s }),
        (error: unknown) => ({ ok: false as const, error: (error as Error).message }),
      ),
    Promise.all(
      nodes.map((n) =>
        readServer(
          { host: n.host, port: n.port, baton: inputs.baton, apps: inputs.apps, tls: inputs.tls.get(name) },
          inputs.clock,
        ),
      ),
    ),
  ]);
  const serverFacts: Record<string, ServerFacts> = Object.fromEntries(
    nodes.map((n, i) => [n.name, (servers[i] as ServerRead).facts]),
  );
  const sourceHosts = Object.values(serverFacts).flatMap((f) =>
    f.reachable ? f.replication.map((c) => c.sourceHost) : [],
  );
  const facts: ClusterFacts = {
    name,
    configIndex,
    policy: cluster.policy,
    watchdog: cluster.watchdog,
    nodes,
    quarantined: [],
    appUsers: inputs.apps.map((a) => a.user),
    addresses: await resolveAll([...nodes.map((n) => n.host), ...sourceHosts]),
    servers: serverFacts,
  };
  if (state.ok) {
    if (state.s.writer) facts.writer = { node: state.s.writer.node, epoch: state.s.writer.epoch };
    facts.quarantined = Object.keys((state.s.quarantine ?? {}) as Record<string, unknown>);
  } else {
    facts.stateError = state.error;
  }
  return { facts, servers };
}

/**
 * Reads first, everything in parallel; then the timed round trips and clock samples, all at
 * once but with nothing else in flight in this process (see ServerRead).
 */
export async function gatherSnapshot(inputs: GatherInputs): Promise<DoctorSnapshot> {
  const { config } = inputs;
  const probeKey = clusterKeys(inputs.clusters[0] ?? 'baton').writer;
  const [etcd, clusters] = await Promise.all([
    readEtcd(inputs.etcdSettings, probeKey, inputs.clock),
    Promise.all(inputs.clusters.map((name) => readCluster(inputs, name))),
  ]);
  const servers = clusters.flatMap((c) => c.servers);
  try {
    await Promise.all(servers.map((s) => s.measure()));
    await etcd.measure();
  } finally {
    etcd.close();
    await Promise.all(servers.map((s) => s.close()));
  }
  const t = config.timings;
  return {
    deployment: {
      host: hostname(),
      takenAt: new Date(inputs.clock.wallNow()).toISOString(),
      timings: {
        probeTimeoutMs: t.probeTimeoutMs,
        cycleIntervalMs: t.cycleIntervalMs,
        sessionTtlMs: t.sessionTtlMs,
        reportFreshMs: t.reportFreshMs,
      },
      colos: [...new Set(config.coordinators.map((c) => c.colo))],
      ...(config.etcd.preferredLeader !== undefined ? { preferredLeader: config.etcd.preferredLeader } : {}),
      memberSites: config.etcd.memberSites ?? {},
      etcd: etcd.facts,
    },
    clusters: clusters.map((c) => c.facts),
  };
}
