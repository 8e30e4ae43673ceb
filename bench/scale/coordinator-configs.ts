/**
 * The scale bench's clusters and coordinator configs. Every cluster has the lab's shape (a1, a2 in
 * colo a, b1, b2 in colo b; a1 and b1 the masters, a1 the writer), and each coordinator's config is
 * the one `baton lab up` writes for its site (lab-coordinators.ts), with the clusters replaced by
 * the fakes' addresses.
 */
import type { ClusterConfig } from '../../src/config/schema.js';
import { coordinatorConfig } from '../../src/lab/lab-coordinators.js';
import type { LabState } from '../../src/lab/lab-state.js';
import { INITIAL_WRITER, LAB_NODES, type SiteName } from '../../src/lab/topology.js';
import type { FakeFleet, FakeNodeSpec } from './fake-mariadb.js';

/** c001 … c200: names that sort in creation order, like etcd's keys. */
export function clusterNames(count: number): string[] {
  const width = Math.max(3, String(count).length);
  return Array.from({ length: count }, (_, i) => `c${String(i + 1).padStart(width, '0')}`);
}

export function fakeNodeSpecs(cluster: string): FakeNodeSpec[] {
  return LAB_NODES.map((node) => ({
    cluster,
    name: node.name,
    serverId: node.serverId,
    gtidDomainId: node.gtidDomainId,
    source: node.source,
    writable: node.name === INITIAL_WRITER,
  }));
}

/**
 * The lab's config for `site` (availability policy, as the lab), managing every cluster of the
 * fleet. No fence command: a fake that "dies" refuses connections, which needs no STONITH.
 */
export function scaleCoordinatorConfig(
  state: LabState,
  site: SiteName,
  fleet: FakeFleet,
  clusters: readonly string[],
): Record<string, unknown> {
  const base = coordinatorConfig(state, site, 'availability');
  const [template] = base.clusters as Array<ClusterConfig & Record<string, unknown>>;
  if (!template) throw new Error('the lab config has no cluster to copy');
  const { fenceCommand: _stonith, fenceCommandTimeoutMs: _stonithTimeout, ...clusterDefaults } = template;
  return {
    ...base,
    clusters: clusters.map((cluster) => ({
      ...clusterDefaults,
      name: cluster,
      nodes: clusterDefaults.nodes.map((node) => {
        const fake = fleet.find(cluster, node.name);
        if (!fake) throw new Error(`no fake server for ${cluster}/${node.name}`);
        return { ...node, host: '127.0.0.1', port: fake.port };
      }),
    })),
    log: { level: 'info' },
  };
}
