import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type mysql from 'mysql2/promise';
import { LabError } from './errors.js';
import { checkBinaries, checkPortsFree, findExecutable } from './preflight.js';
import {
  reserveSubnet,
  createBridge,
  createSites,
  installRedirects,
  netnsName,
  proxyAddress,
  siteAddress,
  wanRoutes,
  type LabNetwork,
  type WanRoute,
  type NetworkMode,
} from './network.js';
import { labWan, readLabState, writeLabState, type LabProcess, type LabState } from './lab-state.js';
import { createLabEtcdPasswords, createLabUsers, type LabUsers } from './secrets.js';
import {
  createLabCertificates,
  isSecureLab,
  labEtcdTls,
  labTlsFiles,
  mariadbTlsConfigLines,
} from './lab-security.js';
import { setUpLabEtcdAuth } from './lab-etcd-auth.js';
import {
  connectAsRoot,
  mariadbPaths,
  mariadbdArgv,
  waitForMariadb,
  writeMariadbConfig,
} from './mariadb-instance.js';
import { initializeDatadirs } from './datadir-cache.js';
import { etcdArgv, labEtcdUrls, placeRaftLeader, waitForEtcd } from './etcd-member.js';
import { spawnDetached, processState } from './processes.js';
import { labPorts, logPath } from './lab-layout.js';
import { wanAppliedPath, wanConfigPath, writeWanConfig } from './wan-config.js';
import { applyWan, waitForWanApplied } from './wan-control.js';
import {
  DEFAULT_JITTER_PERCENT,
  DEFAULT_WAN_PROFILE,
  etcdTimingsFor,
  type WanProfileName,
} from './wan-profile.js';
import {
  INITIAL_WRITER,
  LAB_NODES,
  SITES,
  WITNESS_SITE,
  findNode,
  mysqlPort,
  type LabNodeSpec,
  type SiteName,
} from './topology.js';
import { stopLab } from './lab-down.js';
import {
  checkCoordinatorConfigs,
  readLabHooks,
  startCoordinators,
  type FailoverPolicy,
} from './lab-coordinators.js';
import { startHaproxy } from './haproxy.js';
import { writeFenceScript } from './fence-script.js';
import { watchdogInstallSql } from '../mysql/watchdog.js';
import { batonPrivileges } from '../mysql/privileges.js';

export interface LabUpOptions {
  dir: string;
  basePort: number;
  network?: NetworkMode;
  /** Start a coordinator per site (default); false keeps the bare databases for tests. */
  coordinators: boolean;
  policy: FailoverPolicy;
  /** The WAN profile; unset means DEFAULT_WAN_PROFILE (`lan` on a flat network, which has no WAN). */
  wan?: WanProfileName;
  /** Per-chunk jitter, up to this percentage of a link's delay (default DEFAULT_JITTER_PERCENT). */
  jitterPercent?: number;
  /** Semi-synchronous replication inside each colo (mariadb-instance.ts, semiSyncConfig). */
  semiSync?: boolean;
  /** Start HAProxy with a write and a read frontend checked against the coordinators (haproxy.ts). */
  haproxy?: boolean;
  /** `--hooks FILE`: hooks for the lab cluster (lab-coordinators.ts readLabHooks). */
  hooksFile?: string;
  /** `--session-ttl MS`: the coordinators' timings.sessionTtlMs (the blip/failover trade-off). */
  sessionTtlMs?: number;
  /** `--secure`: TLS for etcd (clients and peers, client certificates) and MariaDB, etcd auth (lab-security.ts). */
  secure?: boolean;
  log: (line: string) => void;
}

export type LabUpResult =
  { status: 'started'; state: LabState; seconds: number } | { status: 'already-running'; state: LabState };

export async function labUp(options: LabUpOptions): Promise<LabUpResult> {
  const started = Date.now();
  const existing = readLabState(options.dir);
  if (existing) {
    const states = Object.values(existing.processes).map((p) => ({ name: p.name, state: processState(p) }));
    const dead = states.filter((s) => s.state === 'dead').map((s) => s.name);
    if (states.length > 0 && dead.length === 0) return { status: 'already-running', state: existing };
    if (dead.length < states.length) {
      throw new LabError(
        `the lab in ${options.dir} is partly running (not running: ${dead.join(', ')}); ` +
          `start them with \`baton lab fault start NAME\` or stop it with \`baton lab down --dir ${options.dir}\``,
      );
    }
    // Nothing of it is alive (e.g. after a reboot): clear what is left and start afresh.
    await stopLab(existing, { keep: false });
  }

  const isRoot = process.getuid?.() === 0;
  const mode: NetworkMode = options.network ?? (isRoot && findExecutable('ip') ? 'netns' : 'flat');
  if (mode === 'netns' && !isRoot) {
    throw new LabError(
      '--network netns needs root (network namespaces); use --network flat as an ordinary user',
    );
  }
  const profile = options.wan ?? (mode === 'flat' ? 'lan' : DEFAULT_WAN_PROFILE);
  if (mode === 'flat' && profile !== 'lan') {
    throw new LabError(
      `--wan ${profile} needs the netns network (root): a flat lab has no WAN proxy, so only --wan lan`,
    );
  }
  checkBinaries(mode === 'netns', options.haproxy === true);
  const hooks = options.hooksFile !== undefined ? readLabHooks(options.hooksFile) : {};
  if (mode === 'flat')
    await checkPortsFree(
      '127.0.0.1',
      labPorts(options.basePort, { coordinators: options.coordinators, haproxy: options.haproxy === true }),
    );
  const jitterPercent = options.jitterPercent ?? DEFAULT_JITTER_PERCENT;
  const net: LabNetwork = { mode, subnet: mode === 'netns' ? reserveSubnet(options.dir) : 0 };

  mkdirSync(options.dir, { recursive: true });
  mkdirSync(`${options.dir}/logs`, { recursive: true });
  const state: LabState = {
    version: 1,
    dir: options.dir,
    basePort: options.basePort,
    network: net,
    processes: {},
    faults: { cut: [], delays: {} },
    wan: { profile, jitterPercent, etcd: etcdTimingsFor(profile, jitterPercent) },
    ...(options.semiSync ? { semiSync: true } : {}),
    ...(options.secure ? { secure: true } : {}),
    createdAt: new Date().toISOString(),
  };
  if (options.coordinators) checkCoordinatorConfigs(state, options.policy, hooks, options.sessionTtlMs);
  writeLabState(state);
  writeFenceScript(options.dir);

  try {
    const users = createLabUsers(options.dir);
    if (options.secure) {
      createLabCertificates(options.dir, net);
      createLabEtcdPasswords(options.dir);
    }
    // etcd elects its leader while MariaDB's datadirs are initialized: the two halves share
    // nothing until the coordinators start, and each waits only for what it needs.
    const installed = installServers(state, isRoot);
    const wan = mode === 'netns' ? startWan(state) : Promise.resolve();
    await settleAll([
      (async () => {
        await wan;
        await startEtcd(state);
      })(),
      (async () => {
        await installed;
        await wan;
        await startMariadbs(state);
        await bootstrapReplication(state, users);
      })(),
    ]);
    // The WAN gets its profile before anything baton runs sees it (see startWanProxy).
    if (mode === 'netns') await applyWan(state, { kind: 'keep' });
    if (options.coordinators) await startCoordinators(state, options.policy, hooks, options.sessionTtlMs);
    if (options.haproxy) await startHaproxy(state);
    const seconds = (Date.now() - started) / 1000;
    return { status: 'started', state, seconds };
  } catch (error) {
    // Leave nothing running behind a failed start; keep the logs for the post-mortem.
    await stopLab(state, { keep: true }).catch(() => undefined);
    if (error instanceof LabError) throw error;
    throw new LabError(`lab up failed: ${(error as Error).message} (logs kept in ${options.dir}/logs)`);
  }
}

function recordProcess(state: LabState, process: LabProcess): void {
  state.processes[process.name] = process;
  writeLabState(state);
}

async function startWan(state: LabState): Promise<void> {
  const net = state.network;
  await createBridge(net);
  const routes = wanRoutes(net, state.basePort);
  // The proxy listens on the bridge and starts (a Node process) while the sites are wired.
  await settleAll([
    // Every port the lab may listen on, whether or not this start runs coordinators or HAProxy:
    // a site's outgoing connections otherwise take them as ephemeral ports (a coordinator once
    // failed to listen with EADDRINUSE on its site address, its port held by a connection).
    createSites(
      net,
      labPorts(state.basePort, { coordinators: true, haproxy: true }).map((p) => p.port),
    ),
    startWanProxy(state, routes),
  ]);
  // The proxy listens before any traffic is redirected to it.
  await installRedirects(net, routes);
}

async function startWanProxy(state: LabState, routes: WanRoute[]): Promise<void> {
  const wan = labWan(state);
  rmSync(wanAppliedPath(state.dir), { force: true });
  writeWanConfig(wanConfigPath(state.dir), {
    routes,
    sourceAddress: proxyAddress(state.network),
    generation: 0,
    // Built without delays: a replication connection's handshake alone is about eleven round
    // trips (a second on continent), and etcd's election and first writes several more. The
    // proxy applies delays per chunk, so once the profile is applied (before the coordinators
    // start) every connection, old or new, has it.
    delays: {},
    jitterPercent: wan.jitterPercent,
    spike: null,
  });
  const proxyMain = fileURLToPath(new URL('./wan-proxy-main.js', import.meta.url));
  const record = await spawnDetached({
    argv: [process.execPath, proxyMain, wanConfigPath(state.dir)],
    logFile: logPath(state.dir, 'wan-proxy'),
  });
  recordProcess(state, { ...record, name: 'wan-proxy', kind: 'wan-proxy' });
  await waitForWanApplied(state.dir, 0, 10_000);
}

/**
 * Waits for every task, then throws the first failure: a failed start is cleaned up only once
 * nothing is still spawning processes behind it.
 */
async function settleAll(tasks: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function siteNetns(state: LabState, site: SiteName): string | undefined {
  return state.network.mode === 'netns' ? netnsName(state.network, site) : undefined;
}

async function installServers(state: LabState, isRoot: boolean): Promise<void> {
  const all = LAB_NODES.map((node) => {
    const paths = mariadbPaths(state.dir, node.name);
    writeMariadbConfig(
      node,
      paths,
      siteAddress(state.network, node.site),
      mysqlPort(state.basePort, node),
      isRoot,
      state.semiSync === true,
      isSecureLab(state) ? mariadbTlsConfigLines(state.dir, node.site) : [],
    );
    return paths;
  });
  await initializeDatadirs(all, isRoot);
}

/** Spawns the members, waits for a healthy cluster and puts its raft leader on the witness. */
async function startEtcd(state: LabState): Promise<void> {
  const token = `baton-lab-${randomBytes(4).toString('hex')}`;
  for (const site of SITES) {
    const record = await spawnDetached({
      argv: etcdArgv(
        state.network,
        state.basePort,
        site,
        state.dir,
        token,
        labWan(state).etcd,
        isSecureLab(state),
      ),
      logFile: logPath(state.dir, `etcd-${site}`),
      netns: siteNetns(state, site),
    });
    recordProcess(state, { ...record, name: `etcd-${site}`, kind: 'etcd', site });
  }
  // Before auth is on (secure lab): etcd's own root does the first placement, then the setup.
  const rootAccess = {
    endpoints: labEtcdUrls(state),
    ...(isSecureLab(state) ? { tls: labEtcdTls(state.dir) } : {}),
  };
  await waitForEtcd(rootAccess.endpoints, 20_000, rootAccess.tls);
  await placeRaftLeader(rootAccess, WITNESS_SITE, 10_000);
  if (isSecureLab(state)) await setUpLabEtcdAuth(state);
}

async function startMariadbs(state: LabState): Promise<void> {
  for (const node of LAB_NODES) {
    const paths = mariadbPaths(state.dir, node.name);
    const record = await spawnDetached({
      argv: mariadbdArgv(paths),
      logFile: paths.log,
      netns: siteNetns(state, node.site),
    });
    recordProcess(state, { ...record, name: node.name, kind: 'mariadb', site: node.site });
  }
  await Promise.all(LAB_NODES.map((node) => waitForMariadb(mariadbPaths(state.dir, node.name), 30_000)));
}

/** baton's account holds what it needs and nothing more (mysql/privileges.ts). */
const BATON_GRANTS = batonPrivileges('mariadb', '*.*').join(', ');
const BATON_SCHEMA_GRANTS = batonPrivileges('mariadb', 'baton.*').join(', ');

async function withRoot<T>(
  state: LabState,
  node: LabNodeSpec,
  fn: (conn: mysql.Connection) => Promise<T>,
): Promise<T> {
  const conn = await connectAsRoot(mariadbPaths(state.dir, node.name));
  try {
    return await fn(conn);
  } finally {
    conn.destroy();
  }
}

/**
 * Replication over TLS, the source's certificate checked against the lab CA and its address.
 * baton's own CHANGE MASTER later names only host, port and GTID mode, which MariaDB applies on
 * top of these settings (DESIGN.md "TLS").
 */
function replicationTlsClause(conn: mysql.Connection, labDir: string): string {
  const ca = conn.escape(labTlsFiles(labDir).caFile);
  return `, MASTER_SSL=1, MASTER_SSL_CA=${ca}, MASTER_SSL_VERIFY_SERVER_CERT=1`;
}

async function bootstrapReplication(state: LabState, users: LabUsers): Promise<void> {
  // Users are created outside the binlog and every GTID position is cleared, so no server
  // starts with local transactions that gtid_strict_mode would later reject as out of order.
  await Promise.all(
    LAB_NODES.map((node) =>
      withRoot(state, node, async (conn) => {
        await conn.query('SET SESSION sql_log_bin=0');
        // A secure lab's baton and replication accounts refuse any connection without TLS.
        const requireTls = isSecureLab(state) ? ' REQUIRE SSL' : '';
        await conn.query(`CREATE USER ?@? IDENTIFIED BY ?${requireTls}`, [
          users.repl.user,
          '%',
          users.repl.password,
        ]);
        await conn.query('GRANT REPLICATION SLAVE ON *.* TO ?@?', [users.repl.user, '%']);
        await conn.query(`CREATE USER ?@? IDENTIFIED BY ?${requireTls}`, [
          users.baton.user,
          '%',
          users.baton.password,
        ]);
        await conn.query(`GRANT ${BATON_GRANTS} ON *.* TO ?@?`, [users.baton.user, '%']);
        await conn.query(`GRANT ${BATON_SCHEMA_GRANTS} ON baton.* TO ?@?`, [users.baton.user, '%']);
        await conn.query('CREATE USER ?@? IDENTIFIED BY ?', [users.app.user, '%', users.app.password]);
        await conn.query('GRANT SELECT, INSERT, UPDATE, DELETE ON app.* TO ?@?', [users.app.user, '%']);
        // On every node, so whichever becomes the writer closes itself once nobody vouches for it.
        for (const sql of watchdogInstallSql('mariadb', `${conn.escape(users.baton.user)}@'%'`)) {
          await conn.query(sql);
        }
        await conn.query('RESET MASTER');
        await conn.query("SET GLOBAL gtid_slave_pos=''");
      }),
    ),
  );

  await Promise.all(
    LAB_NODES.map((node) => {
      const source = findNode(node.source) as LabNodeSpec;
      return withRoot(state, node, async (conn) => {
        await conn.query(
          'CHANGE MASTER TO MASTER_HOST=?, MASTER_PORT=?, MASTER_USER=?, MASTER_PASSWORD=?, ' +
            'MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=1' +
            (isSecureLab(state) ? replicationTlsClause(conn, state.dir) : ''),
          [
            siteAddress(state.network, source.site),
            mysqlPort(state.basePort, source),
            users.repl.user,
            users.repl.password,
          ],
        );
        await conn.query('START SLAVE');
      });
    }),
  );

  const writer = findNode(INITIAL_WRITER) as LabNodeSpec;
  await withRoot(state, writer, async (conn) => {
    await conn.query('SET GLOBAL read_only=OFF');
    await conn.query('CREATE DATABASE app');
    await conn.query(
      'CREATE TABLE app.writes (id BIGINT AUTO_INCREMENT PRIMARY KEY, client VARCHAR(64), seq BIGINT, ' +
        'created_at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))',
    );
  });

  // The lab is only "up" once replication demonstrably carries the schema everywhere.
  const deadline = Date.now() + 20_000;
  for (const node of LAB_NODES) {
    await withRoot(state, node, async (conn) => {
      for (;;) {
        const [rows] = await conn.query(
          "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema='app' AND table_name='writes'",
        );
        if ((rows as { n: number }[])[0]?.n === 1) return;
        if (Date.now() > deadline) {
          const [status] = await conn.query('SHOW SLAVE STATUS');
          throw new LabError(`replication did not reach ${node.name} within 20 s: ${JSON.stringify(status)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });
  }
}
