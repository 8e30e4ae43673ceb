/**
 * The lab's fixed shape: colos a and b each with a candidate master and a replica, and a
 * witness site w that only runs an etcd member (and later an observing coordinator).
 * Ports are derived from one base port so a whole lab moves with a single option, and each
 * number says where it belongs: base + 100*siteIndex + {6,7: MariaDB; 79,80: etcd client/peer}.
 */

export type SiteName = 'a' | 'b' | 'w';
export const SITES: readonly SiteName[] = ['a', 'b', 'w'];
/** The third site: etcd's tie-breaker, and where the lab keeps etcd's raft leader. */
export const WITNESS_SITE: SiteName = 'w';

export type NodeRole = 'master' | 'replica';

export interface LabNodeSpec {
  name: string;
  site: SiteName;
  role: NodeRole;
  serverId: number;
  gtidDomainId: number;
  autoIncrementOffset: number;
  /** The node this one replicates from (a1 and b1 replicate from each other). */
  source: string;
  portOffset: number;
}

export const LAB_CLUSTER = 'lab';
export const INITIAL_WRITER = 'a1';

export const LAB_NODES: readonly LabNodeSpec[] = [
  {
    name: 'a1',
    site: 'a',
    role: 'master',
    serverId: 11,
    gtidDomainId: 1,
    autoIncrementOffset: 1,
    source: 'b1',
    portOffset: 6,
  },
  {
    name: 'a2',
    site: 'a',
    role: 'replica',
    serverId: 12,
    gtidDomainId: 11,
    autoIncrementOffset: 1,
    source: 'a1',
    portOffset: 7,
  },
  {
    name: 'b1',
    site: 'b',
    role: 'master',
    serverId: 21,
    gtidDomainId: 2,
    autoIncrementOffset: 2,
    source: 'a1',
    portOffset: 6,
  },
  {
    name: 'b2',
    site: 'b',
    role: 'replica',
    serverId: 22,
    gtidDomainId: 21,
    autoIncrementOffset: 2,
    source: 'b1',
    portOffset: 7,
  },
];

export const DEFAULT_BASE_PORT = 33000;

export function siteIndex(site: SiteName): number {
  return SITES.indexOf(site);
}

export function mysqlPort(basePort: number, node: LabNodeSpec): number {
  return basePort + 100 * siteIndex(node.site) + node.portOffset;
}

export function etcdClientPort(basePort: number, site: SiteName): number {
  return basePort + 100 * siteIndex(site) + 79;
}

export function etcdPeerPort(basePort: number, site: SiteName): number {
  return basePort + 100 * siteIndex(site) + 80;
}

/** The coordinator's HTTP listener (health checks, metrics) at each site. */
export function coordinatorHttpPort(basePort: number, site: SiteName): number {
  return basePort + 100 * siteIndex(site) + 8;
}

/** `lab up --haproxy`: its write and read frontends, on the host's lab address. */
export function haproxyPort(basePort: number, frontend: 'write' | 'read'): number {
  return basePort + 600 + (frontend === 'write' ? 0 : 1);
}

/** Ports the WAN proxy listens on: one per (source site, remote service). */
export function wanProxyPort(basePort: number, fromSite: SiteName, serviceIndex: number): number {
  return basePort + 500 + 20 * siteIndex(fromSite) + serviceIndex;
}

export function findNode(name: string): LabNodeSpec | undefined {
  return LAB_NODES.find((n) => n.name === name);
}

export function isSiteName(value: string): value is SiteName {
  return (SITES as readonly string[]).includes(value);
}
