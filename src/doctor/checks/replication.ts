/**
 * Replication as it runs now: every server replicating, from where the config says (the masters
 * from each other, each replica from its master), one writer, and server clocks that agree (lag
 * is read as one server's clock minus another's heartbeat stamp).
 */
import { formatStatement, mariadbDialect, mysqlDialect, type Dialect } from '../../mysql/dialect.js';
import { sqlFix } from '../finding.js';
import type { ClusterFacts, NodeSpec, ReplicaChannel, ServerReading } from '../snapshot.js';
import {
  clusterCheck,
  effectiveWriter,
  expectedSource,
  isWritable,
  ms,
  readNodes,
  type Issue,
  type ReadNode,
} from './check.js';

function dialectOf(server: ServerReading): Dialect {
  return server.flavor === 'mariadb' ? mariadbDialect : mysqlDialect;
}

/** The node a channel reads from: same port, and the same host or an address in common. */
export function channelSource(cluster: ClusterFacts, channel: ReplicaChannel): NodeSpec | undefined {
  const addressesOf = (host: string) => new Set([host, ...(cluster.addresses[host] ?? [])]);
  const source = addressesOf(channel.sourceHost);
  return cluster.nodes.find(
    (n) => n.port === channel.sourcePort && [...addressesOf(n.host)].some((a) => source.has(a)),
  );
}

/** Points a server at `source` the way baton does (GTID, connect retry 1 s). */
function repointFix(server: ServerReading, source: NodeSpec, newChannel: boolean): string {
  const d = dialectOf(server);
  const change = formatStatement(d.changeSource({ host: source.host, port: source.port }));
  const credentials = newChannel
    ? ' (a new channel also needs the replication account: MASTER_USER and MASTER_PASSWORD from config replication)'
    : '';
  return `${sqlFix(d.stopReplication(), change, d.startReplication())}${credentials}`;
}

/** Stops and forgets a named channel. */
function dropChannel(server: ServerReading, name: string): string[] {
  const quoted = `'${name.replace(/'/g, "''")}'`;
  return server.flavor === 'mariadb'
    ? [`STOP SLAVE ${quoted}`, `RESET SLAVE ${quoted} ALL`]
    : [`STOP REPLICA FOR CHANNEL ${quoted}`, `RESET REPLICA ALL FOR CHANNEL ${quoted}`];
}

function channelLabel(channel: ReplicaChannel): string {
  return channel.name ? ` (channel ${channel.name})` : '';
}

/**
 * Whether baton itself may have stopped or moved this replication: quarantine stops what a
 * quarantined node feeds into the writer, and keeps the quarantined node apart.
 */
function quarantineExplains(cluster: ClusterFacts, node: string, source: string | undefined): boolean {
  return cluster.quarantined.includes(node) || (source !== undefined && cluster.quarantined.includes(source));
}

export const replicationRunning = clusterCheck(
  'replication.running',
  'every server replicates, both threads running',
  (cluster) =>
    readNodes(cluster).flatMap(({ spec, server }): Issue[] => {
      const expected = expectedSource(cluster, spec);
      const expectedSpec = cluster.nodes.find((n) => n.name === expected);
      if (server.replication.length === 0) {
        if (quarantineExplains(cluster, spec.name, expected)) return [];
        return [
          {
            severity: 'error',
            node: spec.name,
            message: `${spec.name} does not replicate at all${expected ? ` (it should from ${expected})` : ''}`,
            fix: expectedSpec ? repointFix(server, expectedSpec, true) : 'configure its replication source',
          },
        ];
      }
      return server.replication.flatMap((channel): Issue[] => {
        const source = channelSource(cluster, channel);
        const from = source?.name ?? `${channel.sourceHost}:${channel.sourcePort}`;
        if (quarantineExplains(cluster, spec.name, source?.name)) {
          if (channel.ioRunning === 'yes' && channel.sqlRunning) return [];
          return [
            {
              severity: 'info',
              node: spec.name,
              message: `replication from ${from}${channelLabel(channel)} is stopped, and ${cluster.quarantined.includes(spec.name) ? spec.name : from} is quarantined: baton keeps it so until \`baton rejoin\``,
              fix: 'none while quarantined (see `baton status`)',
            },
          ];
        }
        const d = dialectOf(server);
        if (channel.error) {
          return [
            {
              severity: 'error',
              node: spec.name,
              message: `replication from ${from}${channelLabel(channel)} stopped: ${channel.error.thread.toUpperCase()} thread error ${channel.error.errno}: ${channel.error.message}`,
              fix: `deal with the error first (DESIGN.md "Broken replication"), then ${sqlFix(d.startReplication())}`,
            },
          ];
        }
        if (channel.ioRunning === 'connecting') {
          return [
            {
              severity: 'error',
              node: spec.name,
              message: `the IO thread cannot reach ${from} (${channel.sourceHost}:${channel.sourcePort}): it is connecting`,
              fix: `make ${channel.sourceHost}:${channel.sourcePort} reachable from ${spec.name}, with the replication account able to log in`,
            },
          ];
        }
        if (channel.ioRunning === 'no' || !channel.sqlRunning) {
          const stopped = [channel.ioRunning === 'no' ? 'IO' : '', channel.sqlRunning ? '' : 'SQL']
            .filter(Boolean)
            .join(' and ');
          return [
            {
              severity: 'error',
              node: spec.name,
              message: `replication from ${from}${channelLabel(channel)} is stopped (${stopped} thread)`,
              fix: sqlFix(d.startReplication()),
            },
          ];
        }
        return [];
      });
    }),
);

export const replicationTopology = clusterCheck(
  'replication.topology',
  'the masters replicate from each other (circular) and each replica from its master, by GTID',
  (cluster) => {
    const writer = effectiveWriter(cluster);
    return readNodes(cluster).flatMap(({ spec, server }): Issue[] => {
      const issues: Issue[] = [];
      const expected = expectedSource(cluster, spec);
      const expectedSpec = cluster.nodes.find((n) => n.name === expected);
      if (server.replication.length > 1) {
        issues.push({
          severity: 'warning',
          node: spec.name,
          message: `${server.replication.length} replication channels: baton manages only one`,
          fix: `remove the others: ${sqlFix(...server.replication.slice(1).flatMap((c) => dropChannel(server, c.name)))}`,
        });
      }
      const channel = server.replication[0];
      if (!channel || quarantineExplains(cluster, spec.name, undefined)) return issues;
      const source = channelSource(cluster, channel);
      if (!source) {
        issues.push({
          severity: 'error',
          node: spec.name,
          message: `replicates from ${channel.sourceHost}:${channel.sourcePort}, which is no node of cluster ${cluster.name}`,
          fix: expectedSpec ? repointFix(server, expectedSpec, false) : 'point it at a node of the cluster',
        });
      } else if (source.name !== expected && !quarantineExplains(cluster, spec.name, source.name)) {
        const toWriter = spec.role === 'replica' && source.name === writer;
        issues.push({
          severity: toWriter ? 'warning' : 'error',
          node: spec.name,
          message: toWriter
            ? `replicates from the writer ${source.name}, not its configured source ${expected}: baton moves a replica there while its source cannot serve it, and back once it can`
            : spec.role === 'candidate'
              ? `replicates from ${source.name}: the masters must replicate from each other (circular), so this one from ${expected}`
              : `replicates from ${source.name}, not from its configured source ${expected}`,
          fix: expectedSpec ? repointFix(server, expectedSpec, false) : 'point it at its configured source',
        });
      }
      if (!channel.usesGtid) {
        const d = dialectOf(server);
        const gtid =
          server.flavor === 'mariadb'
            ? 'CHANGE MASTER TO MASTER_USE_GTID = slave_pos'
            : 'CHANGE REPLICATION SOURCE TO SOURCE_AUTO_POSITION = 1';
        issues.push({
          severity: 'error',
          node: spec.name,
          message: 'replicates by binary log file and position: baton repoints and catches up by GTID',
          fix: sqlFix(d.stopReplication(), gtid, d.startReplication()),
        });
      } else if (server.flavor === 'mariadb' && channel.gtidMode.toLowerCase() === 'current_pos') {
        issues.push({
          severity: 'warning',
          node: spec.name,
          message:
            'replicates with MASTER_USE_GTID=current_pos: a server with writes of its own then asks its source for them and stops (baton uses slave_pos)',
          fix: sqlFix('STOP SLAVE', 'CHANGE MASTER TO MASTER_USE_GTID = slave_pos', 'START SLAVE'),
        });
      }
      return issues;
    });
  },
);

function readOnlyFix(server: ServerReading): string {
  return sqlFix(dialectOf(server).fence()[0] as string);
}

export const singleWriter = clusterCheck(
  'replication.single-writer',
  'exactly one server is writable, the one etcd records',
  (cluster) => {
    const nodes = readNodes(cluster);
    const writable = nodes.filter((n) => isWritable(n.server) === true);
    const recorded = cluster.writer?.node;
    const issues: Issue[] = [];
    if (!recorded) {
      if (cluster.stateError) return issues;
      issues.push({
        severity: 'info',
        message:
          'etcd records no writer yet: the coordinators have not run (their first leader adopts the writable master)',
        fix: 'start the coordinators: baton run --config FILE on each site',
      });
    }
    const keep: ReadNode | undefined =
      writable.find((n) => n.spec.name === recorded) ??
      (recorded ? undefined : writable.find((n) => n.spec.role === 'candidate'));
    for (const n of writable) {
      if (n === keep) continue;
      issues.push({
        severity: 'error',
        node: n.spec.name,
        message: recorded
          ? `writable, but etcd records ${recorded} as the writer (epoch ${cluster.writer?.epoch})`
          : n.spec.role === 'replica'
            ? 'a replica is writable'
            : `writable beside ${keep?.spec.name}: two writers`,
        fix: readOnlyFix(n.server),
      });
    }
    const recordedNode = nodes.find((n) => n.spec.name === recorded);
    if (recordedNode && isWritable(recordedNode.server) === false) {
      issues.push({
        severity: 'warning',
        node: recordedNode.spec.name,
        message: `etcd records ${recordedNode.spec.name} as the writer (epoch ${cluster.writer?.epoch}) but it is read-only: an operation in progress, a fence, or its guardian is down`,
        fix: 'see `baton status` and `baton history`; its guardian reopens it when it may',
      });
    }
    if (writable.length === 0 && !recorded) {
      issues.push({
        severity: 'warning',
        message: 'no server is writable, and etcd records no writer',
        fix: 'start the coordinators: their first leader opens a master (or SET GLOBAL read_only = OFF on one master)',
      });
    }
    return issues;
  },
);

/** NTP keeps hosts within a few milliseconds; this much means one clock is not synchronised. */
export const SERVER_CLOCK_WARNING_MS = 100;

export const serverClocks = clusterCheck(
  'replication.clock-skew',
  `the servers' clocks agree within ${SERVER_CLOCK_WARNING_MS} ms (lag is one server's clock against another's heartbeat stamp)`,
  (cluster) => {
    const timed = readNodes(cluster).flatMap((n) =>
      n.server.clock ? [{ ...n, clock: n.server.clock }] : [],
    );
    if (timed.length < 2) return [];
    const ahead = timed.reduce((a, b) => (b.clock.offsetMs > a.clock.offsetMs ? b : a));
    const behind = timed.reduce((a, b) => (b.clock.offsetMs < a.clock.offsetMs ? b : a));
    const apart = ahead.clock.offsetMs - behind.clock.offsetMs;
    const error = ahead.clock.uncertaintyMs + behind.clock.uncertaintyMs;
    if (apart - error <= SERVER_CLOCK_WARNING_MS) return [];
    return [
      {
        severity: 'warning',
        node: ahead.spec.name,
        message: `${ahead.spec.name}'s clock is ${ms(apart)} (±${ms(error)}) ahead of ${behind.spec.name}'s: replication lag read on one of them is off by that much`,
        fix: `synchronise the clocks of ${ahead.spec.name}'s and ${behind.spec.name}'s hosts (chrony or ntpd)`,
      },
    ];
  },
);
