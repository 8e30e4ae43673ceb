import type { ClusterConfig } from '../config/schema.js';
import type { ServerSpec } from '../ops/server-table.js';

/**
 * What the config says about a cluster that the HTTP listener shows: where each server is and
 * what it is (the web view's colo boxes, status's server table), the policy and the failover
 * budget. Nothing secret, nothing a request could change.
 */
export interface ClusterLayout {
  /** In config order. */
  nodes: readonly ServerSpec[];
  policy: 'consistency' | 'availability';
  failoverBudget: { count: number; windowMs: number };
}

export function clusterLayout(cluster: ClusterConfig): ClusterLayout {
  return {
    nodes: cluster.nodes.map((n) => ({ name: n.name, colo: n.colo, role: n.role })),
    policy: cluster.policy,
    failoverBudget: { ...cluster.failoverBudget },
  };
}
