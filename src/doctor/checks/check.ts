/**
 * One check is one concept (DESIGN.md "baton doctor"): an id, what passing means, and a pure
 * function from the snapshot to findings. Checks about one cluster see that cluster's facts and
 * the deployment's; the findings they return get the check id and the cluster added here.
 */
import type { CheckId, Finding, Severity } from '../finding.js';
import type { ClusterFacts, DeploymentFacts, DoctorSnapshot, NodeSpec, ServerReading } from '../snapshot.js';

/** A finding as a check writes it: the id and cluster are the check's own. */
export interface Issue {
  severity: Severity;
  node?: string;
  message: string;
  fix: string;
}

export interface Check {
  id: CheckId;
  /** What passing means, printed beside a tick. */
  title: string;
  run(snapshot: DoctorSnapshot): Finding[];
}

export function clusterCheck(
  id: CheckId,
  title: string,
  run: (cluster: ClusterFacts, deployment: DeploymentFacts) => Issue[],
): Check {
  return {
    id,
    title,
    run: (snapshot) =>
      snapshot.clusters.flatMap((cluster) =>
        run(cluster, snapshot.deployment).map((issue) => ({
          ...withoutUndefined(issue),
          check: id,
          cluster: cluster.name,
        })),
      ),
  };
}

export function deploymentCheck(
  id: CheckId,
  title: string,
  run: (deployment: DeploymentFacts, clusters: readonly ClusterFacts[]) => Issue[],
): Check {
  return {
    id,
    title,
    run: (snapshot) =>
      run(snapshot.deployment, snapshot.clusters).map((issue) => ({ ...withoutUndefined(issue), check: id })),
  };
}

function withoutUndefined(issue: Issue): Issue {
  return issue.node === undefined
    ? { severity: issue.severity, message: issue.message, fix: issue.fix }
    : issue;
}

export interface ReadNode {
  spec: NodeSpec;
  server: ServerReading;
}

/** The nodes whose server answered, in the config's order. */
export function readNodes(cluster: ClusterFacts, role?: NodeSpec['role']): ReadNode[] {
  return cluster.nodes.flatMap((spec) => {
    const server = cluster.servers[spec.name];
    if (!server?.reachable || (role !== undefined && spec.role !== role)) return [];
    return [{ spec, server }];
  });
}

export function candidates(cluster: ClusterFacts): NodeSpec[] {
  return cluster.nodes.filter((n) => n.role === 'candidate');
}

/** The co-master of a candidate, or the configured source of a replica. */
export function expectedSource(cluster: ClusterFacts, node: NodeSpec): string | undefined {
  if (node.role === 'replica') return node.replicatesFrom;
  return candidates(cluster).find((c) => c.name !== node.name)?.name;
}

/** Writable means read_only OFF (MySQL: super_read_only implies read_only). */
export function isWritable(server: ServerReading): boolean | undefined {
  return server.settings.readOnly === undefined ? undefined : !server.settings.readOnly.value;
}

/**
 * The writer doctor judges the others against: etcd's record, or without one the only writable
 * server (a cluster whose coordinators have not started yet).
 */
export function effectiveWriter(cluster: ClusterFacts): string | undefined {
  if (cluster.writer) return cluster.writer.node;
  const writable = readNodes(cluster).filter((n) => isWritable(n.server) === true);
  return writable.length === 1 ? writable[0]?.spec.name : undefined;
}

/** `baton@%` (CURRENT_USER()) as an account in SQL: `'baton'@'%'`. */
export function sqlAccount(account: string): string {
  const at = account.lastIndexOf('@');
  const user = at < 0 ? account : account.slice(0, at);
  const host = at < 0 ? '%' : account.slice(at + 1);
  const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  return `${quote(user)}@${quote(host)}`;
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export function ms(value: number): string {
  return value >= 10 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
}
