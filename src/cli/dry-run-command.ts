/**
 * `switchover --dry-run` / `failover --accept-data-loss --dry-run`: reads the cluster as the
 * leader would (the same range reads, the same snapshot), asks the decision core what it would
 * do with this intent now (core/dry-run.ts), and prints the verdict and the plan. It writes
 * nothing to etcd and sends nothing to MySQL: it has no code path that could.
 */
import { systemClock } from '../clock.js';
import { clusterKeys } from '../coordinator/keys.js';
import { ClusterStateStore } from '../coordinator/state-store.js';
import { dryRunIntent, type Intent } from '../core/index.js';
import { loadConfig } from '../config/load-config.js';
import { toCoordinatorConfig } from '../daemon/coordinator-config.js';
import { LabError } from '../lab/errors.js';
import { newIntent, type IntentRequest } from '../ops/submit-intent.js';
import type { ClusterTarget } from './cluster-target.js';

const READ_TIMEOUT_MS = 3_000;

export async function printDryRun(
  target: ClusterTarget,
  cluster: string,
  request: IntentRequest,
): Promise<void> {
  if (target.configFile === undefined) {
    throw new LabError(
      "--dry-run needs the cluster's settings (policy, catch-up bound, timings): give --config FILE or --lab",
    );
  }
  const file = loadConfig(target.configFile);
  const clusterConfig = file.clusters.find((c) => c.name === cluster);
  if (!clusterConfig) throw new LabError(`cluster ${cluster} is not in ${target.configFile}`);
  const config = toCoordinatorConfig(file, clusterConfig);
  const now = systemClock.wallNow();
  const snapshot = await target.etcd.attempt(async (store) => {
    const states = new ClusterStateStore(store, clusterKeys(cluster));
    const view = await states.read(systemClock.now() + READ_TIMEOUT_MS);
    return states.snapshot(view, config.cluster, config.coordinators, now);
  });
  const intent: Intent = { ...newIntent(systemClock, request), id: `dry-run-${now}` };
  const verdict = dryRunIntent(snapshot, now, config.core, intent);
  const what = request.kind === 'switchover' ? 'switchover' : 'forced failover';
  const lines = [`dry run of a ${what} in cluster ${cluster}: nothing was changed in etcd or MySQL`];
  lines.push(
    `  now:   writer ${snapshot.writer ? `${snapshot.writer.node} at epoch ${snapshot.writer.epoch}` : 'none recorded'}` +
      `, policy ${config.core.policy}, ${snapshot.reports.length} observer report(s) in etcd`,
  );
  if (verdict.accepted) {
    const j = verdict.journal;
    lines.push(`  gates: all passed; the leader would start ${j.kind} ${j.from ?? '(none)'} → ${j.to}`);
    lines.push('  plan:');
    verdict.steps.forEach((step, i) => lines.push(`    ${i + 1}. ${step}`));
  } else {
    lines.push(`  gates: REFUSED (${verdict.reason}): ${verdict.message}`);
  }
  // The started operation's own progress (its first step waiting for the old guardian's
  // promise, say) is the plan above, not news.
  const notes = verdict.notes.filter(
    (n) =>
      !verdict.accepted || (!n.startsWith(`${verdict.journal.reason}:`) && !n.includes(verdict.journal.id)),
  );
  if (notes.length > 0) {
    lines.push('  the leader would also note:');
    for (const note of notes) lines.push(`    - ${note}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!verdict.accepted) process.exitCode = 1;
}
