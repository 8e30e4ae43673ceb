/**
 * The static shape of one replication set, as the operator configured it. Plain JSON so it can
 * travel inside a snapshot read from etcd and be compared across coordinators.
 */

export type Flavor = 'mariadb' | 'mysql';

/**
 * `candidate` nodes are the co-masters (one per colo) that may ever hold the writer role;
 * `replica` nodes only ever replicate and are never promoted.
 */
export type NodeRole = 'candidate' | 'replica';

export interface NodeSpec {
  name: string;
  colo: string;
  role: NodeRole;
  /** Higher wins among otherwise equal candidates (ranking tie-breaker before colo). */
  priority: number;
  host: string;
  port: number;
  /** Configured source for replicas; candidates replicate from each other and leave it unset. */
  replicatesFrom?: string;
}

export interface ClusterSpec {
  name: string;
  flavor: Flavor;
  nodes: NodeSpec[];
  /** Colos that hold database nodes. A witness site is not listed here. */
  colos: string[];
}

/**
 * One `baton run` process. Its colo is either a database colo (then it is the guardian of that
 * colo's nodes) or a witness site (then it only observes and votes).
 */
export interface CoordinatorSpec {
  name: string;
  colo: string;
}

export function findNode(spec: ClusterSpec, name: string): NodeSpec | undefined {
  return spec.nodes.find((n) => n.name === name);
}

export function candidatesOf(spec: ClusterSpec): NodeSpec[] {
  return spec.nodes.filter((n) => n.role === 'candidate');
}
