import { Option, type Command } from 'commander';
import type { EtcdClientSettings } from '../etcd/client.js';
import type { EndpointFailover } from '../ops/endpoint-failover.js';
import { readLabState } from '../lab/lab-state.js';
import { labEtcdAccess } from '../lab/lab-etcd-access.js';
import { coordinatorConfigPath, resolveLabDir } from '../lab/lab-layout.js';
import { siteAddress } from '../lab/network.js';
import { LAB_CLUSTER, LAB_NODES, WITNESS_SITE, mysqlPort } from '../lab/topology.js';
import { LabError } from '../lab/errors.js';

/** Where an operator command finds etcd and which cluster it means. */
export interface TargetOptions {
  config?: string;
  lab?: string;
  endpoints?: string;
  cluster?: string;
}

/** Where a node's MySQL server listens. */
export interface NodeAddress {
  host: string;
  port: number;
}

/** A node as the spec declares it, for tables that show where each server is. */
export interface NodeSpecSummary {
  name: string;
  colo: string;
  role: 'candidate' | 'replica';
}

export interface ClusterTarget {
  /** Every call tries the endpoints in turn, so a partitioned member does not stall the CLI. */
  etcd: EndpointFailover;
  /** What `etcd` was opened with, for a command that needs a client of its own (a watch stream). */
  etcdSettings: EtcdClientSettings;
  clusters: string[];
  /**
   * From the node spec (the config's `nodes`, or the lab's topology); undefined when there is
   * none (bare --endpoints) or it does not name this node.
   */
  nodeAddress(cluster: string, node: string): NodeAddress | undefined;
  /** The cluster's nodes from the spec, in spec order; empty when there is none (bare --endpoints). */
  nodeSpecs(cluster: string): NodeSpecSummary[];
  /** The coordinator config the clusters' settings come from (the lab's own, with --lab). */
  configFile?: string;
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
  let tls: EtcdClientSettings['tls'];
  let nodeAddress: ClusterTarget['nodeAddress'] = () => undefined;
  let nodeSpecs: ClusterTarget['nodeSpecs'] = () => [];
  let configFile: string | undefined;
  if (options.lab !== undefined) {
    const dir = resolveLabDir(typeof options.lab === 'string' ? options.lab : undefined);
    const state = readLabState(dir);
    if (!state) throw new LabError(`no lab in ${dir} (start one with \`baton lab up\`)`);
    ({ endpoints, auth, tls } = labEtcdAccess(state, 'operator'));
    clusters = [LAB_CLUSTER];
    configFile = coordinatorConfigPath(dir, WITNESS_SITE);
    nodeAddress = (cluster, node) => {
      const spec = LAB_NODES.find((n) => n.name === node);
      if (cluster !== LAB_CLUSTER || !spec) return undefined;
      return { host: siteAddress(state.network, spec.site), port: mysqlPort(state.basePort, spec) };
    };
    nodeSpecs = (cluster) =>
      cluster !== LAB_CLUSTER
        ? []
        : LAB_NODES.map((n) => ({
            name: n.name,
            colo: n.site,
            role: n.role === 'master' ? ('candidate' as const) : ('replica' as const),
          }));
  } else if (options.config) {
    const { loadConfig, readEtcdTls, resolvePassword } = await import('../config/load-config.js');
    const config = loadConfig(options.config);
    configFile = options.config;
    endpoints = config.etcd.endpoints;
    clusters = config.clusters.map((c) => c.name);
    if (config.etcd.auth) {
      const password = resolvePassword(config.etcd.auth, 'etcd.auth', options.config) ?? '';
      auth = { username: config.etcd.auth.user, password };
    }
    tls = readEtcdTls(config.etcd.tls, options.config);
    nodeAddress = (cluster, node) => {
      const spec = config.clusters.find((c) => c.name === cluster)?.nodes.find((n) => n.name === node);
      return spec ? { host: spec.host, port: spec.port } : undefined;
    };
    nodeSpecs = (cluster) =>
      (config.clusters.find((c) => c.name === cluster)?.nodes ?? []).map((n) => ({
        name: n.name,
        colo: n.colo,
        role: n.role,
      }));
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
  const etcdSettings: EtcdClientSettings = {
    endpoints,
    auth,
    ...(tls ? { tls } : {}),
    defaultCallTimeoutMs: 5_000,
  };
  const etcd = new EndpointFailover(etcdSettings);
  return {
    etcd,
    etcdSettings,
    clusters,
    nodeAddress,
    nodeSpecs,
    ...(configFile !== undefined ? { configFile } : {}),
    close: () => etcd.close(),
  };
}

export function singleCluster(target: ClusterTarget): string {
  if (target.clusters.length !== 1) {
    throw new LabError(
      `this command acts on one cluster; choose with --cluster (${target.clusters.join(', ')})`,
    );
  }
  return target.clusters[0] as string;
}
