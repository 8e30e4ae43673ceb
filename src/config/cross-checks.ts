import { watchdogTimingProblem } from '../core/watchdog.js';
import type { BatonConfigFile } from './schema.js';

export interface ConfigProblem {
  path: string;
  message: string;
}

function duplicates(values: string[]): string[] {
  return [...new Set(values.filter((v, i) => values.indexOf(v) !== i))];
}

/**
 * Rules that span fields. Each keeps a safety or liveness argument true, so a config that
 * breaks one is refused at load rather than discovered during an outage.
 */
export function crossCheck(config: BatonConfigFile): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const t = config.timings;
  const add = (path: string, message: string) => problems.push({ path, message });

  if (t.probeTimeoutMs >= t.cycleIntervalMs) {
    add(
      'timings.probeTimeoutMs',
      `must be below timings.cycleIntervalMs (${t.cycleIntervalMs}): one cycle in flight`,
    );
  }
  // The guardian must notice a lost session and fence before the lease can expire at etcd:
  // keepalives every TTL/3, each bounded by storeTimeoutMs, plus one cycle to act.
  if (t.storeTimeoutMs + t.cycleIntervalMs >= t.sessionTtlMs / 3) {
    add(
      'timings.sessionTtlMs',
      `must exceed 3 × (storeTimeoutMs + cycleIntervalMs) = ${3 * (t.storeTimeoutMs + t.cycleIntervalMs)}: ` +
        'otherwise the guardian cannot fence before its lease expires',
    );
  }
  // Hysteresis must be able to declare a writer dead before observers' reports look stale.
  const detectMs = Math.max(t.downAfterMs, (t.downAfterFailures - 1) * t.cycleIntervalMs);
  if (detectMs >= t.sessionTtlMs * 5) {
    add(
      'timings.downAfterMs',
      `hysteresis (${detectMs} ms) must be well below 5 × sessionTtlMs (${t.sessionTtlMs})`,
    );
  }
  if (t.quietProbeIntervalMs < t.cycleIntervalMs) {
    add(
      'timings.quietProbeIntervalMs',
      `must be at least timings.cycleIntervalMs (${t.cycleIntervalMs}): it spaces probes out, never in`,
    );
  }
  // A quiet leader reads reports once per quiet interval: a refreshed report must still be seen
  // before it looks stale.
  if (t.quietProbeIntervalMs + t.publishRefreshMs >= t.reportFreshMs) {
    add(
      'timings.quietProbeIntervalMs',
      `plus timings.publishRefreshMs (${t.publishRefreshMs}) must be below timings.reportFreshMs (${t.reportFreshMs}), or live observers look stale to a quiet leader`,
    );
  }
  if (t.publishRefreshMs >= t.reportFreshMs) {
    add(
      'timings.publishRefreshMs',
      `must be below timings.reportFreshMs (${t.reportFreshMs}), or live observers look stale`,
    );
  }

  const coordinatorNames = config.coordinators.map((c) => c.name);
  for (const name of duplicates(coordinatorNames))
    add('coordinators', `duplicate coordinator name "${name}"`);
  const self = config.coordinators.find((c) => c.name === config.coordinator.name);
  if (!self) add('coordinator.name', `"${config.coordinator.name}" is not listed in coordinators`);
  else if (self.colo !== config.coordinator.colo) {
    add('coordinator.colo', `"${config.coordinator.colo}" differs from coordinators entry (${self.colo})`);
  }
  const sites = new Set(config.coordinators.map((c) => c.colo));
  if (config.coordinators.length < 3 || sites.size < 3) {
    add(
      'coordinators',
      'expected coordinators in at least 3 sites (two colos and a witness): with 2, losing either loses quorum',
    );
  }

  for (const name of duplicates(config.clusters.map((c) => c.name)))
    add('clusters', `duplicate cluster name "${name}"`);
  config.clusters.forEach((cluster, ci) => {
    const at = `clusters[${ci}]`;
    const watchdogProblem = cluster.watchdog ? watchdogTimingProblem(t) : undefined;
    if (watchdogProblem) add(`${at}.watchdog`, `${watchdogProblem}; or set it to false`);
    const names = cluster.nodes.map((n) => n.name);
    for (const name of duplicates(names)) add(`${at}.nodes`, `duplicate node name "${name}"`);
    const candidates = cluster.nodes.filter((n) => n.role === 'candidate');
    if (candidates.length !== 2)
      add(`${at}.nodes`, `expected exactly 2 candidate masters, found ${candidates.length}`);
    else if (candidates[0]?.colo === candidates[1]?.colo) {
      add(`${at}.nodes`, 'the two candidate masters must be in different colos');
    }
    const endpoints = duplicates(cluster.nodes.map((n) => `${n.host}:${n.port}`));
    for (const endpoint of endpoints) add(`${at}.nodes`, `two nodes share ${endpoint}`);
    cluster.nodes.forEach((node, ni) => {
      const nodeAt = `${at}.nodes[${ni}]`;
      if (node.role === 'replica') {
        if (!node.replicatesFrom) add(`${nodeAt}.replicatesFrom`, 'required for a replica');
        else if (!candidates.some((c) => c.name === node.replicatesFrom)) {
          add(
            `${nodeAt}.replicatesFrom`,
            `"${node.replicatesFrom}" is not a candidate master of ${cluster.name}`,
          );
        }
      } else if (node.replicatesFrom) {
        add(`${nodeAt}.replicatesFrom`, 'candidates replicate from each other; leave it unset');
      }
      if (!sites.has(node.colo))
        add(`${nodeAt}.colo`, `no coordinator runs in colo "${node.colo}" to guard this node`);
    });
  });
  return problems;
}
