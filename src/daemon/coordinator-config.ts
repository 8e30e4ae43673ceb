import type { BatonConfigFile, ClusterConfig } from '../config/schema.js';
import type { CoordinatorConfig } from '../coordinator/config.js';
import { coreTimings, loopTimings, type ClusterSpec } from '../core/index.js';

/** The loop's per-cluster config, from the file's shape (which groups timings once per process). */
export function toCoordinatorConfig(file: BatonConfigFile, cluster: ClusterConfig): CoordinatorConfig {
  const spec: ClusterSpec = {
    name: cluster.name,
    flavor: cluster.flavor,
    nodes: cluster.nodes.map((n) => ({
      name: n.name,
      colo: n.colo,
      role: n.role,
      priority: n.priority,
      host: n.host,
      port: n.port,
      ...(n.replicatesFrom ? { replicatesFrom: n.replicatesFrom } : {}),
    })),
    colos: [...new Set(cluster.nodes.map((n) => n.colo))],
  };
  return {
    self: { name: file.coordinator.name, colo: file.coordinator.colo },
    cluster: spec,
    coordinators: file.coordinators.map((c) => ({ name: c.name, colo: c.colo })),
    watchdog: cluster.watchdog,
    core: {
      policy: cluster.policy,
      maxLagOnFailoverMs: cluster.maxLagOnFailoverMs,
      cooldownMs: cluster.cooldownMs,
      failoverBudget: cluster.failoverBudget,
      catchupTimeoutMs: cluster.catchupTimeoutMs,
      // The hook's own timeout plus a few cycles: the leader learns of its end on a later cycle.
      ...(cluster.hooks.beforePromote
        ? { beforePromoteTimeoutMs: cluster.hooks.beforePromote.timeoutMs + 5 * file.timings.cycleIntervalMs }
        : {}),
      ...coreTimings(file.timings),
    },
    timings: loopTimings(file.timings),
  };
}
