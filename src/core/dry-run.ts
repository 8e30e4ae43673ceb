/**
 * `--dry-run` of a switchover or forced failover (issue 14): what the leader would decide about
 * this intent now, by the same decide() on the same snapshot, without anyone acting on it. Every
 * gate (reachability, lag, catch-up bound, pin, cooldown, budget, quarantine, guardians, policy)
 * is the real one. Accepted, the plan is the journal the first step would write, spelled out
 * step by step with the GTIDs the target must execute first and those that would be lost.
 */
import type { CoreConfig } from './config.js';
import { decide } from './decide.js';
import type { Intent } from './intent.js';
import type { OperationJournal } from './operation.js';
import type { ClusterSnapshot } from './snapshot.js';

export type DryRunVerdict =
  | { accepted: true; journal: OperationJournal; steps: string[]; notes: string[] }
  | { accepted: false; reason: string; message: string; notes: string[] };

export function dryRunIntent(
  snapshot: ClusterSnapshot,
  now: number,
  config: CoreConfig,
  intent: Intent,
): DryRunVerdict {
  const decision = decide({ ...snapshot, intents: [intent] }, now, config);
  const notes = decision.events.map((e) => `${e.reason}: ${e.message}`);
  const resolved = decision.actions.find(
    (a) => a.type === 'resolve-intent' && a.intentId === intent.id && a.status !== 'in-progress',
  );
  const journal = decision.state.operation;
  if (resolved || !journal || journal.intentId !== intent.id) {
    return {
      accepted: false,
      reason: resolved?.reason ?? 'skipped-operation-in-flight',
      message: resolved?.message ?? 'the leader would not start it now (another operation holds the cluster)',
      notes,
    };
  }
  return { accepted: true, journal, steps: planSteps(journal, snapshot), notes };
}

/** The journal's road from here, one line per step, as the step machine will walk it. */
export function planSteps(j: OperationJournal, snapshot: ClusterSnapshot): string[] {
  const from = j.from ?? '(none)';
  const steps: string[] = [];
  if (j.from !== undefined) {
    steps.push(
      j.fenceBestEffort
        ? `fence ${from} (best effort: it is not reachable; its colo's guardian must hold it closed at epoch ${j.previousEpoch})`
        : `fence ${from}: read_only=ON, kill its client connections (its guardian promises not to reopen it first)`,
    );
  }
  if (j.requiredGtids) {
    const donor = j.donor !== undefined ? ` (fetching what it lacks from ${j.donor})` : '';
    steps.push(`wait until ${j.to} has executed ${j.requiredGtids}${donor}, at most the catch-up bound`);
  } else {
    steps.push(`${j.to} needs nothing more before the commit`);
  }
  steps.push(
    `commit: writer ${j.to} at epoch ${j.epoch} (from ${from} at ${j.previousEpoch}) in one etcd transaction` +
      (j.lostGtids !== undefined ? `; lost, as planned now: ${j.lostGtids || 'nothing'}` : ''),
  );
  steps.push(`open ${j.to}: read_only=OFF`);
  const others = snapshot.spec.nodes
    .filter((n) => n.name !== j.to && n.name !== j.from && n.replicatesFrom === j.from)
    .map((n) => n.name);
  steps.push(
    `repoint replication: ${j.to} stops replicating from ${from}` +
      (others.length > 0 ? `; ${others.join(', ')} replicate from ${j.to}` : '') +
      (j.kind === 'switchover'
        ? `; ${from} becomes a standby of ${j.to}`
        : `; ${from} is quarantined until it returns and is compared`),
  );
  return steps;
}
