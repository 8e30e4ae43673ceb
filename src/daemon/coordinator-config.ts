import type { BatonConfigFile, ClusterConfig } from '../config/schema.js';
import type { CoordinatorConfig } from '../coordinator/config.js';
import type { ClusterSpec } from '../core/index.js';

/** The loop's per-cluster config, from the file's shape (which groups timings once per process). */
export function toCoordinatorConfig(file: BatonConfigFile, cluster: ClusterConfig): CoordinatorConfig {
  const t = file.timings;
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
      reportFreshMs: t.reportFreshMs,
      cooldownMs: cluster.cooldownMs,
      failoverBudget: cluster.failoverBudget,
      catchupTimeoutMs: cluster.catchupTimeoutMs,
      health: {
        downAfterFailures: t.downAfterFailures,
        downAfterMs: t.downAfterMs,
        upAfterSuccesses: t.upAfterSuccesses,
        // The writer's guardian stamps a heartbeat every cycle: five silent cycles mean it stopped.
        replicaSilenceMs: Math.max(1_000, 5 * t.cycleIntervalMs),
      },
    },
    timings: {
      cycleIntervalMs: t.cycleIntervalMs,
      probeTimeoutMs: t.probeTimeoutMs,
      storeTimeoutMs: t.storeTimeoutMs,
      commandTimeoutMs: t.commandTimeoutMs,
      sessionTtlMs: t.sessionTtlMs,
      publishRefreshMs: t.publishRefreshMs,
      quietProbeIntervalMs: t.quietProbeIntervalMs,
    },
  };
}
