import { Option, type Command } from 'commander';
import type { EndpointFailover } from '../ops/endpoint-failover.js';
import { readLabState } from '../lab/lab-state.js';
import { etcdClientUrl } from '../lab/etcd-member.js';
import { resolveLabDir } from '../lab/lab-layout.js';
import { LAB_CLUSTER, SITES } from '../lab/topology.js';
import { LabError } from '../lab/errors.js';

/** Where an operator command finds etcd and which cluster it means. */
export interface TargetOptions {
  config?: string;
  lab?: string;
  endpoints?: string;
  cluster?: string;
}

export interface ClusterTarget {
  /** Every call tries the endpoints in turn, so a partitioned member does not stall the CLI. */
  etcd: EndpointFailover;
  clusters: string[];
  close(): void;
}

export function addTargetOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--config <file>', 'coordinator config (etcd endpoints and clusters)').env('BATON_CONFIG'),
    )
    .option('--lab [dir]', 'use the local lab (default ./.baton-lab)')
    .option('--endpoints <urls>', 'etcd endpoints, comma-separated (no auth)')
    .option('--cluster <name>', 'cluster name (default: every cluster in the config, or "lab")');
}

/** Loads etcd and config support only when a command needs them: `baton --help` stays instant. */
export async function openTarget(options: TargetOptions): Promise<ClusterTarget> {
  let endpoints: string[];
  let clusters: string[];
  let auth: { username: string; password: string } | undefined;
  if (options.lab !== undefined) {
    const dir = resolveLabDir(typeof options.lab === 'string' ? options.lab : undefined);
    const state = readLabState(dir);
    if (!state) throw new LabError(`no lab in ${dir} (start one with \`baton lab up\`)`);
    endpoints = SITES.map((site) => etcdClientUrl(state.network, state.basePort, site));
    clusters = [LAB_CLUSTER];
  } else if (options.config) {
    const { loadConfig, resolvePassword } = await import('../config/load-config.js');
    const config = loadConfig(options.config);
    endpoints = config.etcd.endpoints;
    clusters = config.clusters.map((c) => c.name);
    if (config.etcd.auth) {
      const password = resolvePassword(config.etcd.auth, 'etcd.auth', options.config) ?? '';
      auth = { username: config.etcd.auth.user, password };
    }
  } else if (options.endpoints) {
    endpoints = options.endpoints.split(',').map((e) => e.trim());
    clusters = [];
  } else {
    throw new LabError(
      'where is etcd? give --config FILE (or BATON_CONFIG), --lab [DIR], or --endpoints URLS',
    );
  }
  if (options.cluster) clusters = [options.cluster];
  if (clusters.length === 0) throw new LabError('which cluster? give --cluster NAME');
  const { EndpointFailover } = await import('../ops/endpoint-failover.js');
  const etcd = new EndpointFailover({ endpoints, auth, defaultCallTimeoutMs: 5_000 });
  return { etcd, clusters, close: () => etcd.close() };
}

export function singleCluster(target: ClusterTarget): string {
  if (target.clusters.length !== 1) {
    throw new LabError(
      `this command acts on one cluster; choose with --cluster (${target.clusters.join(', ')})`,
    );
  }
  return target.clusters[0] as string;
}
