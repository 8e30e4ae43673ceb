import mysql from 'mysql2/promise';
import { LabError } from './errors.js';
import { labWan, readLabState, type LabState } from './lab-state.js';
import { runningSpike } from './wan-config.js';
import { readApplied } from './wan-control.js';
import {
  delaysInEffect,
  directedLinks,
  linkKey,
  maxJitterMs,
  profileDelays,
  spikedDelays,
  type WanProfileName,
} from './wan-profile.js';
import { processState, type ProcessState } from './processes.js';
import { readLabUsers, type LabUsers } from './secrets.js';
import { etcdClientUrl } from './etcd-member.js';
import { isSecureLab, labMysqlSsl } from './lab-security.js';
import { hostAddress, siteAddress } from './network.js';
import {
  LAB_CLUSTER,
  LAB_NODES,
  SITES,
  coordinatorHttpPort,
  mysqlPort,
  type NodeRole,
  type SiteName,
} from './topology.js';
import { haproxyAddress } from './haproxy.js';

/** Replication as seen on a node: its source and the state of its two threads. */
export interface NodeReplication {
  source: string;
  ioRunning: string;
  sqlRunning: string;
  secondsBehind: number | null;
  lastError: string;
}

export interface NodeStatus {
  name: string;
  site: SiteName;
  role: NodeRole;
  host: string;
  port: number;
  pid: number;
  alive: boolean;
  state: ProcessState;
  /** null when the server did not answer within the probe deadline. */
  readOnly: boolean | null;
  gtidCurrentPos: string | null;
  replication: NodeReplication | null;
  error?: string;
}

/** The stable, documented JSON of `baton lab status --json` (tests and benchmarks read it). */
export interface LabStatus {
  dir: string;
  cluster: string;
  network: { mode: string; hostAddress: string };
  etcd: {
    endpoints: string[];
    members: {
      name: string;
      site: SiteName;
      endpoint: string;
      pid: number;
      alive: boolean;
      state: ProcessState;
    }[];
    /** What the members run with, derived from the WAN profile. */
    heartbeatMs: number;
    electionTimeoutMs: number;
  };
  /** The one node with read_only OFF; null when none (or more than one: see `writable`). */
  writer: string | null;
  writable: string[];
  nodes: NodeStatus[];
  processes: {
    name: string;
    kind: string;
    site?: SiteName;
    pid: number;
    alive: boolean;
    state: ProcessState;
  }[];
  users: LabUsers;
  /** A secure lab (`lab up --secure`): baton's and the replication user require TLS (labMysqlSsl). */
  secure: boolean;
  /** `faults.delays` holds the `fault delay` overrides; `wan.links` what is in effect. */
  faults: LabState['faults'];
  wan: WanStatus;
  /** `lab up --semi-sync`: every master waits for a replica's ACK (AFTER_SYNC, up to 1 s). */
  semiSync: boolean;
  /** Each site's coordinator and the base URL of its HTTP listener (health checks, /metrics). */
  coordinators: { name: string; site: SiteName; http: string }[];
  /** `lab up --haproxy`: where applications connect for writes and for reads; null without it. */
  haproxy: { write: { host: string; port: number }; read: { host: string; port: number } } | null;
}

export interface WanStatus {
  profile: WanProfileName;
  /** Each chunk is held up to this percentage of its link's delay longer (never shorter). */
  jitterPercent: number;
  /** Every directed link, keyed `from>to`. */
  links: Record<string, LinkStatus>;
  /** A running `fault spike`; null when none. */
  spike: { factor: number; startedAt: string; endsAt: string } | null;
}

export interface LinkStatus {
  /** One-way delay in effect now: the profile's or an override, times a running spike's factor. */
  delayMs: number;
  /** The most jitter adds to delayMs. */
  jitterMs: number;
  /** The profile's delay on this link, what `fault heal` returns it to. */
  profileMs: number;
  /** A `fault delay` override is in effect. */
  overridden: boolean;
}

/** The WAN as the proxy applies it: profile, overrides and a running spike. */
export function wanStatus(state: LabState, now: number): WanStatus {
  const { profile, jitterPercent } = labWan(state);
  const spike = state.network.mode === 'netns' ? runningSpike(readApplied(state.dir), now) : null;
  const baseline = profileDelays(profile);
  const inEffect = spikedDelays(delaysInEffect(profile, state.faults.delays), spike?.factor ?? 1);
  const links: Record<string, LinkStatus> = {};
  for (const [from, to] of directedLinks()) {
    const key = linkKey(from, to);
    const delayMs = inEffect[key] ?? 0;
    links[key] = {
      delayMs,
      jitterMs: maxJitterMs(delayMs, jitterPercent),
      profileMs: baseline[key] ?? 0,
      overridden: key in state.faults.delays,
    };
  }
  return {
    profile,
    jitterPercent,
    links,
    spike: spike ? { factor: spike.factor, startedAt: spike.startedAt, endsAt: spike.endsAt } : null,
  };
}

const PROBE_DEADLINE_MS = 1_500;

async function probeNode(host: string, port: number, users: LabUsers, ssl: ReturnType<typeof labMysqlSsl>) {
  let conn: mysql.Connection | undefined;
  const work = (async () => {
    conn = await mysql.createConnection({
      host,
      port,
      user: users.baton.user,
      password: users.baton.password,
      connectTimeout: PROBE_DEADLINE_MS,
      ...(ssl ? { ssl } : {}),
    });
    const [vars] = await conn.query('SELECT @@global.read_only AS ro, @@global.gtid_current_pos AS gtid');
    const [replica] = await conn.query('SHOW SLAVE STATUS');
    return {
      vars: (vars as { ro: number; gtid: string }[])[0],
      replica: (replica as Record<string, unknown>[])[0],
    };
  })();
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error(`no answer within ${PROBE_DEADLINE_MS} ms`)),
      PROBE_DEADLINE_MS,
    ).unref(),
  );
  try {
    return await Promise.race([work, timeout]);
  } finally {
    // A timed-out connection is destroyed, never reused.
    (conn as mysql.Connection | undefined)?.destroy();
    work.catch(() => undefined);
  }
}

export async function labStatus(dir: string): Promise<LabStatus> {
  const state = readLabState(dir);
  const users = readLabUsers(dir);
  if (!state || !users) throw new LabError(`no lab in ${dir} (start one with \`baton lab up --dir ${dir}\`)`);
  const net = state.network;
  const proc = (name: string) => state.processes[name];

  const nodes = await Promise.all(
    LAB_NODES.map(async (node): Promise<NodeStatus> => {
      const record = proc(node.name);
      const pstate = record ? processState(record) : 'dead';
      const base = {
        name: node.name,
        site: node.site,
        role: node.role,
        host: siteAddress(net, node.site),
        port: mysqlPort(state.basePort, node),
        pid: record?.pid ?? 0,
        alive: pstate !== 'dead',
        state: pstate,
      };
      if (pstate !== 'running') return { ...base, readOnly: null, gtidCurrentPos: null, replication: null };
      try {
        const { vars, replica } = await probeNode(base.host, base.port, users, labMysqlSsl(state));
        return {
          ...base,
          readOnly: vars ? vars.ro === 1 : null,
          gtidCurrentPos: vars?.gtid ?? null,
          replication: replica
            ? {
                source: `${String(replica.Master_Host)}:${String(replica.Master_Port)}`,
                ioRunning: String(replica.Slave_IO_Running),
                sqlRunning: String(replica.Slave_SQL_Running),
                secondsBehind:
                  replica.Seconds_Behind_Master == null ? null : Number(replica.Seconds_Behind_Master),
                lastError: String(replica.Last_IO_Error || replica.Last_SQL_Error || ''),
              }
            : null,
        };
      } catch (error) {
        return {
          ...base,
          readOnly: null,
          gtidCurrentPos: null,
          replication: null,
          error: (error as Error).message,
        };
      }
    }),
  );

  const members = SITES.map((site) => {
    const record = proc(`etcd-${site}`);
    const pstate = record ? processState(record) : 'dead';
    return {
      name: `etcd-${site}`,
      site,
      endpoint: etcdClientUrl(net, state.basePort, site, isSecureLab(state)),
      pid: record?.pid ?? 0,
      alive: pstate !== 'dead',
      state: pstate,
    };
  });
  const writable = nodes.filter((n) => n.readOnly === false).map((n) => n.name);
  return {
    dir: state.dir,
    cluster: LAB_CLUSTER,
    network: { mode: net.mode, hostAddress: hostAddress(net) },
    etcd: {
      endpoints: members.map((m) => m.endpoint),
      members,
      heartbeatMs: labWan(state).etcd.heartbeatMs,
      electionTimeoutMs: labWan(state).etcd.electionTimeoutMs,
    },
    writer: writable.length === 1 ? (writable[0] as string) : null,
    writable,
    nodes,
    processes: Object.values(state.processes).map((p) => {
      const pstate = processState(p);
      return {
        name: p.name,
        kind: p.kind,
        site: p.site,
        pid: p.pid,
        alive: pstate !== 'dead',
        state: pstate,
      };
    }),
    users,
    secure: isSecureLab(state),
    faults: state.faults,
    wan: wanStatus(state, Date.now()),
    semiSync: state.semiSync === true,
    coordinators: SITES.filter((site) => state.processes[`coord-${site}`] !== undefined).map((site) => ({
      name: site,
      site,
      http: `http://${siteAddress(state.network, site)}:${coordinatorHttpPort(state.basePort, site)}`,
    })),
    haproxy: state.haproxy
      ? { write: haproxyAddress(state, 'write'), read: haproxyAddress(state, 'read') }
      : null,
  };
}

export function formatLabStatus(status: LabStatus): string {
  const lines: string[] = [];
  lines.push(`lab ${status.dir} (network ${status.network.mode}, host ${status.network.hostAddress})`);
  lines.push(
    `writer: ${status.writer ?? (status.writable.length > 1 ? `SPLIT BRAIN: ${status.writable.join(', ')}` : 'none')}`,
  );
  lines.push('');
  lines.push('etcd members:');
  for (const m of status.etcd.members) {
    lines.push(
      `  ${m.name.padEnd(8)} site ${m.site}  ${m.endpoint.padEnd(28)} pid ${String(m.pid).padEnd(8)} ${m.state}`,
    );
  }
  lines.push('');
  lines.push(
    `MariaDB nodes (${status.semiSync ? 'semi-sync in each colo: AFTER_SYNC, 1 s timeout' : 'asynchronous replication'}):`,
  );
  for (const n of status.nodes) {
    const ro = n.readOnly === null ? 'unknown' : n.readOnly ? 'read-only' : 'WRITABLE';
    const repl = n.replication
      ? `from ${n.replication.source} io=${n.replication.ioRunning} sql=${n.replication.sqlRunning}` +
        (n.replication.secondsBehind != null ? ` lag=${n.replication.secondsBehind}s` : '') +
        (n.replication.lastError ? ` error="${n.replication.lastError}"` : '')
      : (n.error ?? '');
    lines.push(
      `  ${n.name}  site ${n.site} ${n.role.padEnd(7)} ${`${n.host}:${n.port}`.padEnd(22)} pid ${String(n.pid).padEnd(8)} ${n.state.padEnd(8)} ${ro.padEnd(9)} gtid=${n.gtidCurrentPos ?? '?'}  ${repl}`,
    );
  }
  const others = status.processes.filter((p) => p.kind !== 'mariadb' && p.kind !== 'etcd');
  if (others.length > 0) {
    lines.push('');
    lines.push('other processes:');
    for (const p of others) lines.push(`  ${p.name.padEnd(12)} pid ${String(p.pid).padEnd(8)} ${p.state}`);
  }
  if (status.coordinators.length > 0)
    lines.push(
      '',
      `coordinators (http): ${status.coordinators.map((c) => `${c.name} ${c.http}`).join(', ')}`,
    );
  if (status.haproxy)
    lines.push(
      `haproxy: writes ${status.haproxy.write.host}:${status.haproxy.write.port}, reads ${status.haproxy.read.host}:${status.haproxy.read.port}`,
    );
  lines.push('');
  lines.push(...formatWan(status));
  if (status.faults.cut.length > 0) lines.push(`cut off: ${status.faults.cut.join(', ')}`);
  return lines.join('\n');
}

/** The WAN section: the profile, then each directed link with what makes up its delay. */
function formatWan(status: LabStatus): string[] {
  const { wan, etcd } = status;
  const etcdTimings = `etcd heartbeat ${etcd.heartbeatMs} ms, election timeout ${etcd.electionTimeoutMs} ms`;
  if (status.network.mode !== 'netns') return [`WAN: none (flat network); ${etcdTimings}`];
  const lines = [
    `WAN profile ${wan.profile}, jitter up to +${wan.jitterPercent} % per chunk; ${etcdTimings}` +
      (wan.spike ? `; SPIKE x${wan.spike.factor} until ${wan.spike.endsAt}` : ''),
  ];
  for (const [key, link] of Object.entries(wan.links)) {
    const delay =
      link.jitterMs > 0
        ? `${formatMs(link.delayMs)}-${formatMs(link.delayMs + link.jitterMs)} ms`
        : `${formatMs(link.delayMs)} ms`;
    const notes = [
      link.overridden ? `override, profile ${link.profileMs} ms` : '',
      wan.spike ? `spike x${wan.spike.factor}` : '',
    ].filter(Boolean);
    lines.push(
      `  ${key.padEnd(4)} ${delay.padEnd(14)}${notes.length ? ` ${notes.join(', ')}` : ''}`.trimEnd(),
    );
  }
  return lines;
}

function formatMs(ms: number): string {
  return Number.isInteger(ms) ? String(ms) : ms.toFixed(1);
}
