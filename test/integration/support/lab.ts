import { execFile } from 'node:child_process';
import { labMysqlSsl } from '../../../src/lab/lab-security.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import mysql from 'mysql2/promise';
import { labStatus, type LabStatus } from '../../../src/lab/lab-status.js';
import { readLabState } from '../../../src/lab/lab-state.js';
import { etcdClientOptions } from '../../../src/etcd/client.js';
import { labEtcdAccess } from '../../../src/lab/lab-etcd-access.js';
import { netnsName } from '../../../src/lab/network.js';
import type { SiteName } from '../../../src/lab/topology.js';
import type { ProbeResult, ProbeSpec } from './site-probe.js';

/**
 * Integration tests drive the lab through the real, compiled CLI (`node bin/baton.js lab …`):
 * what they exercise is exactly what an operator runs. global-setup.ts builds dist/ first.
 */
const REPO = path.resolve(import.meta.dirname, '../../..');
const CLI = path.join(REPO, 'bin/baton.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function baton(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 90_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export async function batonOk(args: string[]): Promise<string> {
  const result = await baton(args);
  if (result.code !== 0)
    throw new Error(`baton ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

export interface Lab {
  dir: string;
  status(): Promise<LabStatus>;
  fault(...args: string[]): Promise<string>;
  down(): Promise<void>;
  /** A fresh connection to a node as the given lab user (tests close it). */
  connect(node: string, user?: 'app' | 'baton' | 'repl'): Promise<mysql.Connection>;
}

export function newLabDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'baton-lab-'));
}

export async function startLab(
  options: {
    dir?: string;
    basePort?: number;
    network?: 'netns' | 'flat';
    /** Start baton coordinators (default: bare databases and etcd only). */
    coordinators?: boolean;
    policy?: 'availability' | 'consistency';
    /** `--wan PROFILE`; unset leaves the lab's default. */
    wan?: string;
    extraArgs?: string[];
  } = {},
): Promise<Lab> {
  const dir = options.dir ?? newLabDir();
  const args = ['lab', 'up', '--dir', dir];
  if (!options.coordinators) args.push('--no-coordinators');
  if (options.policy) args.push('--policy', options.policy);
  if (options.basePort) args.push('--base-port', String(options.basePort));
  if (options.network) args.push('--network', options.network);
  if (options.wan) args.push('--wan', options.wan);
  args.push(...(options.extraArgs ?? []));
  await batonOk(args);
  let cached: LabStatus | undefined;
  const lab: Lab = {
    dir,
    // In-process rather than `baton lab status --json`: tests poll it, and a Node start-up per
    // poll kept a core busy on a 2-core machine, slowing the coordinators under test.
    async status() {
      cached = await labStatus(dir);
      return cached;
    },
    fault: (...faultArgs) => batonOk(['lab', 'fault', ...faultArgs, '--dir', dir]),
    async down() {
      await batonOk(['lab', 'down', '--dir', dir]);
    },
    async connect(nodeName, user = 'app') {
      const status = cached ?? (await lab.status());
      const node = status.nodes.find((n) => n.name === nodeName);
      if (!node) throw new Error(`no node ${nodeName}`);
      const credentials = status.users[user];
      return mysql.createConnection({
        host: node.host,
        port: node.port,
        user: credentials.user,
        password: credentials.password,
        database: user === 'app' ? 'app' : undefined,
        connectTimeout: 2_000,
        // A secure lab's baton and repl accounts require TLS (the app account does not).
        ...(user !== 'app' && status.secure ? { ssl: labMysqlSsl(status) } : {}),
      });
    },
  };
  await lab.status();
  return lab;
}

/**
 * A statement as MariaDB's root on a node's socket (the lab runs as root: unix_socket auth), for
 * what no lab user may do: write on a replica, stop a replication thread. Returns the rows as
 * tab-separated text.
 */
export function asRoot(lab: Lab, node: string, sql: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      'mariadb',
      ['-S', path.join(lab.dir, node, 'mysqld.sock'), '-u', 'root', '-N', '-e', sql],
      { timeout: 10_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${node}: ${error.message}: ${stderr}`)) : resolve(String(stdout)),
    ),
  );
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Polls until check returns a value other than undefined, or fails with the last reason. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
  );
}

/** When a fault took effect, as `baton lab fault` prints it (" at <ISO time>"); NaN if it does not say. */
export function faultEffectiveAt(output: string): number {
  return Date.parse(/ at (\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(output)?.[1] ?? '');
}

/**
 * The etcd raft leader's member name, asked of each running member in turn (a test may have
 * killed or stopped some), each with a 1 s deadline. A secure lab's maintenance calls need
 * etcd's root and the lab's client certificate.
 */
export async function raftLeaderName(lab: Lab): Promise<string | undefined> {
  const state = readLabState(lab.dir);
  // The product's own mapping of TLS files and password to etcd3's options; not its client,
  // whose retries would stretch the 1 s deadline on a member that does not answer.
  const { credentials, auth } = state ? etcdClientOptions(labEtcdAccess(state, 'root')) : {};
  for (const member of (await lab.status()).etcd.members.filter((m) => m.state === 'running')) {
    const client = new Etcd3({
      hosts: member.endpoint,
      ...(credentials ? { credentials } : {}),
      ...(auth ? { auth } : {}),
      defaultCallOptions: () => ({ deadline: Date.now() + 1000 }),
    });
    try {
      const [{ members }, status] = await Promise.all([
        client.cluster.memberList({}),
        client.maintenance.status(),
      ]);
      const name = members.find((m) => m.ID === status.leader)?.name;
      if (name) return name;
    } catch {
      // Try the next member.
    } finally {
      client.close();
    }
  }
  return undefined;
}

const SITE_PROBE = path.join(import.meta.dirname, 'site-probe.ts');

/**
 * Runs site-probe.ts inside a site's network namespace against a node, as the `app` user: what a
 * client standing in that site measures across the lab WAN (the tests stand on the host, which
 * reaches every site directly). Needs the netns network.
 */
export async function probeFromSite(
  lab: Lab,
  site: SiteName,
  nodeName: string,
  measure: Omit<ProbeSpec, 'host' | 'port' | 'user' | 'password'>,
): Promise<ProbeResult> {
  const state = readLabState(lab.dir);
  if (!state) throw new Error(`no lab in ${lab.dir}`);
  const status = await lab.status();
  const node = status.nodes.find((n) => n.name === nodeName);
  if (!node) throw new Error(`no node ${nodeName}`);
  const spec: ProbeSpec = {
    host: node.host,
    port: node.port,
    user: status.users.app.user,
    password: status.users.app.password,
    ...measure,
  };
  const argv = ['netns', 'exec', netnsName(state.network, site), process.execPath, '--import', 'tsx'];
  return new Promise((resolve, reject) => {
    execFile(
      'ip',
      [...argv, SITE_PROBE, JSON.stringify(spec)],
      { cwd: REPO, timeout: (measure.forMs ?? 0) + 30_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`site probe from ${site} to ${nodeName} failed: ${error.message} ${stderr}`));
        else resolve(JSON.parse(String(stdout)) as ProbeResult);
      },
    );
  });
}

/** The median of some numbers (the upper one of an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
