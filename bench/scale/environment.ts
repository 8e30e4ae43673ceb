/**
 * One scale run's world: three etcd members on loopback (the lab's argv and timings, no WAN),
 * the fake MariaDB fleet in this process, and one `baton run` per site. Every child process is
 * recorded the moment it is spawned, so `stop()` (and, as a last resort, the process's exit
 * handler) ends all of them whatever happened in between.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { systemClock } from '../../src/clock.js';
import { EtcdStore } from '../../src/etcd/store.js';
import { etcdArgv, etcdClientUrl, placeRaftLeader, waitForEtcd } from '../../src/lab/etcd-member.js';
import { coordinatorConfigPath, labPorts, logPath } from '../../src/lab/lab-layout.js';
import type { LabState } from '../../src/lab/lab-state.js';
import type { LabNetwork } from '../../src/lab/network.js';
import { checkPortsFree } from '../../src/lab/preflight.js';
import { spawnDetached, stopProcesses, type ProcessRecord } from '../../src/lab/processes.js';
import { createLabUsers } from '../../src/lab/secrets.js';
import { SITES, WITNESS_SITE, coordinatorHttpPort, type SiteName } from '../../src/lab/topology.js';
import { LAN_ETCD_TIMINGS } from '../../src/lab/wan-profile.js';
import { clusterNames, fakeNodeSpecs, scaleCoordinatorConfig } from './coordinator-configs.js';
import { FakeFleet } from './fake-mariadb.js';

const FLAT: LabNetwork = { mode: 'flat', subnet: 0 };
/** Inside the range `scripts/setup` reserves (33000-35999), so no outgoing connection takes one of its ports. */
const BASE_PORT_CANDIDATES = [35300, 35600, 35000, 34700, 34400, 34100, 33800, 33500];
const ETCD_CALL_TIMEOUT_MS = 5_000;

export interface Child extends ProcessRecord {
  name: string;
  kind: 'etcd' | 'coordinator';
  site: SiteName;
}

/** Everything spawned and not yet stopped, across runs: what the exit handler kills. */
const running = new Set<Child>();

/** Last resort on exit (synchronous): SIGKILL whatever is still recorded as running. */
export function killRemainingChildren(): void {
  for (const child of running) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}

export interface EnvironmentOptions {
  clusters: number;
  dir: string;
  /** Extra node flags for the coordinators (none as shipped, or the footprint flags). */
  nodeFlags: readonly string[];
  log: (line: string) => void;
}

export class ScaleEnvironment {
  readonly fleet = new FakeFleet();
  readonly clusters: string[];
  readonly children: Child[] = [];
  store: EtcdStore | undefined;
  etcdUrls: string[] = [];
  private basePort = 0;

  private constructor(private readonly options: EnvironmentOptions) {
    this.clusters = clusterNames(options.clusters);
  }

  /** Starts etcd, the fakes and the coordinators; on failure stops what did start and rethrows. */
  static async start(options: EnvironmentOptions): Promise<ScaleEnvironment> {
    const env = new ScaleEnvironment(options);
    try {
      await env.startAll();
      return env;
    } catch (error) {
      await env.stop();
      throw error;
    }
  }

  coordinators(): Child[] {
    return this.children.filter((c) => c.kind === 'coordinator');
  }

  etcdMembers(): Child[] {
    return this.children.filter((c) => c.kind === 'etcd');
  }

  etcdUrl(site: SiteName): string {
    return etcdClientUrl(FLAT, this.basePort, site);
  }

  metricsUrl(site: SiteName): string {
    return `http://127.0.0.1:${coordinatorHttpPort(this.basePort, site)}/metrics`;
  }

  private get state(): LabState {
    return {
      version: 1,
      dir: this.options.dir,
      basePort: this.basePort,
      network: FLAT,
      processes: {},
      faults: { cut: [], delays: {} },
      wan: { profile: 'lan', jitterPercent: 0, etcd: LAN_ETCD_TIMINGS },
      createdAt: new Date().toISOString(),
    };
  }

  private async startAll(): Promise<void> {
    const { dir, log } = this.options;
    mkdirSync(path.join(dir, 'logs'), { recursive: true });
    mkdirSync(path.join(dir, 'coordinators'), { recursive: true });
    createLabUsers(dir);
    this.basePort = await freeBasePort();

    const token = `baton-scale-${randomBytes(4).toString('hex')}`;
    for (const site of SITES) {
      await this.spawn('etcd', site, etcdArgv(FLAT, this.basePort, site, dir, token, LAN_ETCD_TIMINGS));
    }
    this.etcdUrls = SITES.map((site) => etcdClientUrl(FLAT, this.basePort, site));
    await waitForEtcd(this.etcdUrls, 20_000);
    await placeRaftLeader(this.etcdUrls, WITNESS_SITE, 10_000);
    this.store = EtcdStore.connect(
      { endpoints: this.etcdUrls, defaultCallTimeoutMs: ETCD_CALL_TIMEOUT_MS },
      systemClock,
    );
    log(`etcd: 3 members on 127.0.0.1 (base port ${this.basePort}), raft leader on ${WITNESS_SITE}`);

    const specs = new Map(this.clusters.map((c) => [c, fakeNodeSpecs(c)]));
    await this.fleet.start(specs);
    log(`fakes: ${this.fleet.servers.length} MariaDB servers listening on 127.0.0.1`);

    const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
    for (const site of SITES) {
      const file = coordinatorConfigPath(dir, site);
      const config = scaleCoordinatorConfig(this.state, site, this.fleet, this.clusters);
      writeFileSync(file, `# generated by bench/scale-bench.ts\n${stringify(config)}`);
      await this.spawn('coordinator', site, [
        process.execPath,
        ...this.options.nodeFlags,
        cli,
        'run',
        '--config',
        file,
      ]);
    }
    log(`coordinators: ${SITES.map((s) => `coord-${s}`).join(', ')} started`);
  }

  private async spawn(kind: Child['kind'], site: SiteName, argv: string[]): Promise<void> {
    const name = `${kind === 'etcd' ? 'etcd' : 'coord'}-${site}`;
    const record = await spawnDetached({ argv, logFile: logPath(this.options.dir, name) });
    const child: Child = { ...record, name, kind, site };
    running.add(child);
    this.children.push(child);
  }

  /**
   * Coordinators first, with SIGTERM: each revokes its leases, as a clean shutdown does (with the
   * fakes still up, so nothing looks like a failure on the way out). Then the fakes, then etcd,
   * whose data goes with the directory anyway.
   */
  async stop(): Promise<void> {
    const stopGroup = async (group: Child[], signal: NodeJS.Signals, graceMs: number): Promise<void> => {
      try {
        await stopProcesses(group, signal, graceMs);
      } finally {
        for (const child of group) running.delete(child);
      }
    };
    await stopGroup(this.coordinators(), 'SIGTERM', 5_000).catch(() => undefined);
    await this.fleet.stop();
    this.store?.close();
    this.store = undefined;
    await stopGroup(this.etcdMembers(), 'SIGKILL', 1_000).catch(() => undefined);
  }
}

async function freeBasePort(): Promise<number> {
  for (const base of BASE_PORT_CANDIDATES) {
    try {
      await checkPortsFree('127.0.0.1', labPorts(base, { coordinators: true }));
      return base;
    } catch {
      // taken (another lab on this machine): try the next
    }
  }
  throw new Error(`no free base port among ${BASE_PORT_CANDIDATES.join(', ')} (other labs running?)`);
}
