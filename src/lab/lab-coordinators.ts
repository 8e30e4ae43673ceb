import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { clusterSchema, type ClusterConfig } from '../config/schema.js';
import { ConfigError, parseConfig } from '../config/load-config.js';
import { LabError } from './errors.js';
import { etcdClientUrl } from './etcd-member.js';
import { fenceScriptPath } from './fence-script.js';
import { netnsName, siteAddress } from './network.js';
import { processState, spawnDetached, type ProcessRecord } from './processes.js';
import { etcdPasswordFile, etcdUserName, passwordFile } from './secrets.js';
import { isSecureLab, labTlsFiles } from './lab-security.js';
import { writeLabState, type LabState } from './lab-state.js';
import { coordinatorConfigPath, logPath } from './lab-layout.js';
import {
  LAB_CLUSTER,
  LAB_NODES,
  SITES,
  WITNESS_SITE,
  coordinatorHttpPort,
  mysqlPort,
  type SiteName,
} from './topology.js';

export type FailoverPolicy = 'availability' | 'consistency';

/**
 * V8 flags that shrink an idle one-cluster coordinator from 85-90 MB to about 70 MB RSS: 1 MB
 * young-generation semi-spaces, no optimizing compiler (`--no-opt`, the baseline compiler
 * stays), a heap tuned for size. Not the default any more: docs/scale.md measured their CPU,
 * twice the CPU at 30 clusters (44 % of a core against 22 %) and a coordinator of 50 clusters
 * starved into losing its sessions with them and not without (issue 13: a footprint goal is
 * never met by slowing the product down). An operator with one or a few clusters per
 * coordinator may still choose them (deploy/systemd/baton.service says how).
 */
export const FOOTPRINT_NODE_FLAGS = ['--max-semi-space-size=1', '--no-opt', '--optimize-for-size'];

/** What the lab starts coordinators with: what production ships, V8's defaults. */
export const COORDINATOR_NODE_FLAGS: readonly string[] = [];

export { coordinatorConfigPath };

/**
 * The config a real deployment would write, one per site: the coordinator reaches its own colo
 * directly and every other site across the lab WAN, so cuts and delays apply to it as they
 * would in production. Its own etcd member comes first in the endpoint list.
 */
export function coordinatorConfig(
  state: LabState,
  site: SiteName,
  policy: FailoverPolicy,
  hooks: ClusterConfig['hooks'] = {},
  sessionTtlMs?: number,
): Record<string, unknown> {
  const net = state.network;
  const secure = isSecureLab(state);
  const endpoints = [site, ...SITES.filter((s) => s !== site)].map((s) =>
    etcdClientUrl(net, state.basePort, s, secure),
  );
  const tlsFiles = labTlsFiles(state.dir);
  const etcdSecurity = secure
    ? {
        tls: { caFile: tlsFiles.caFile, certFile: tlsFiles.clientCertFile, keyFile: tlsFiles.clientKeyFile },
        auth: { user: etcdUserName('coordinator'), passwordFile: etcdPasswordFile(state.dir, 'coordinator') },
      }
    : {};
  return {
    coordinator: { name: site, colo: site },
    coordinators: SITES.map((s) => ({ name: s, colo: s })),
    etcd: { endpoints, preferredLeader: WITNESS_SITE, ...etcdSecurity },
    ...(sessionTtlMs === undefined ? {} : { timings: { sessionTtlMs } }),
    http: { listen: `${siteAddress(net, site)}:${coordinatorHttpPort(state.basePort, site)}` },
    mysql: { user: 'baton', passwordFile: passwordFile(state.dir, 'baton') },
    replication: { user: 'repl', passwordFile: passwordFile(state.dir, 'repl') },
    clusters: [
      {
        name: LAB_CLUSTER,
        flavor: 'mariadb',
        policy,
        // The lab's STONITH: SIGKILL the node's mariadbd (it restarts read-only).
        fenceCommand: [fenceScriptPath(state.dir), '{node}'],
        fenceCommandTimeoutMs: 3_000,
        hooks,
        // baton's account requires TLS in a secure lab; the servers' certificates name their sites.
        ...(secure ? { tls: { caFile: tlsFiles.caFile, verifyIdentity: true } } : {}),
        nodes: LAB_NODES.map((node) => ({
          name: node.name,
          colo: node.site,
          role: node.role === 'master' ? 'candidate' : 'replica',
          host: siteAddress(net, node.site),
          port: mysqlPort(state.basePort, node),
          ...(node.role === 'replica' ? { replicatesFrom: node.source } : {}),
        })),
      },
    ],
  };
}

/**
 * `lab up --hooks FILE`: a YAML mapping of hook name to `{ argv, timeoutMs }`, as under
 * `clusters[].hooks` in a real config, checked before anything starts.
 */
export function readLabHooks(file: string): ClusterConfig['hooks'] {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new LabError(`--hooks ${file}: ${(error as Error).message}`);
  }
  const result = clusterSchema.shape.hooks.safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new LabError(`--hooks ${file}: ${problems.join('; ')}`);
  }
  return result.data;
}

function coordinatorConfigText(
  state: LabState,
  site: SiteName,
  policy: FailoverPolicy,
  hooks: ClusterConfig['hooks'],
  sessionTtlMs: number | undefined,
): string {
  return `# generated by baton lab up\n${stringify(coordinatorConfig(state, site, policy, hooks, sessionTtlMs))}`;
}

/**
 * The coordinators' configs checked as `baton run` will check them, before anything starts: a
 * refused config (say, a --session-ttl too short for the watchdog) is the lab's error, not
 * three coordinators that die after `lab up` reported them running.
 */
export function checkCoordinatorConfigs(
  state: LabState,
  policy: FailoverPolicy,
  hooks: ClusterConfig['hooks'] = {},
  sessionTtlMs?: number,
): void {
  for (const site of SITES) {
    const text = coordinatorConfigText(state, site, policy, hooks, sessionTtlMs);
    try {
      parseConfig(text, coordinatorConfigPath(state.dir, site));
    } catch (error) {
      throw new LabError(error instanceof ConfigError ? error.message : String(error));
    }
  }
}

export async function startCoordinators(
  state: LabState,
  policy: FailoverPolicy,
  hooks: ClusterConfig['hooks'] = {},
  sessionTtlMs?: number,
): Promise<void> {
  mkdirSync(path.join(state.dir, 'coordinators'), { recursive: true });
  const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  for (const site of SITES) {
    const file = coordinatorConfigPath(state.dir, site);
    writeFileSync(file, coordinatorConfigText(state, site, policy, hooks, sessionTtlMs));
    const record = await spawnDetached({
      argv: [process.execPath, ...COORDINATOR_NODE_FLAGS, cli, 'run', '--config', file],
      logFile: logPath(state.dir, `coord-${site}`),
      netns: state.network.mode === 'netns' ? netnsName(state.network, site) : undefined,
    });
    state.processes[`coord-${site}`] = { ...record, name: `coord-${site}`, kind: 'coordinator', site };
    writeLabState(state);
  }
  await Promise.all(
    SITES.map((site) =>
      waitUntilListening(
        state.processes[`coord-${site}`] as ProcessRecord,
        `coord-${site}`,
        `http://${siteAddress(state.network, site)}:${coordinatorHttpPort(state.basePort, site)}/health`,
      ),
    ),
  );
}

/** How long a coordinator may take to answer on its HTTP listener (a Node start on a busy host). */
const LISTEN_TIMEOUT_MS = 20_000;

/**
 * A coordinator that cannot start (its port taken, a bad config) exits at once: `lab up` says
 * so with the line it printed, instead of leaving a lab that never gets a writer.
 */
async function waitUntilListening(record: ProcessRecord, name: string, url: string): Promise<void> {
  const deadline = Date.now() + LISTEN_TIMEOUT_MS;
  for (;;) {
    if (processState(record) === 'dead') {
      const lines = readFileSync(record.log, 'utf8').trim().split('\n');
      throw new LabError(
        `${name} exited at start: ${lines.at(-1) ?? '(nothing logged)'} (log: ${record.log})`,
      );
    }
    const answered = await fetch(url, { signal: AbortSignal.timeout(500) }).then(
      (res) => res.ok,
      () => false,
    );
    if (answered) return;
    if (Date.now() > deadline)
      throw new LabError(
        `${name} did not answer on ${url} within ${LISTEN_TIMEOUT_MS / 1000} s (log: ${record.log})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
