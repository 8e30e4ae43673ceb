import type { ClusterConfig, HookConfig } from '../config/schema.js';
import type { PromotionApprover } from '../coordinator/executor.js';
import type { ApprovePromotionAction } from '../core/index.js';
import { writerChangeEvent } from './cluster-hooks.js';
import { runHook, type HookEvent, type HookRun } from './hook-runner.js';

/** Operations remembered: a few, since only the one in flight is ever asked about. */
const REMEMBERED = 8;

/**
 * The beforePromote hook for the executor (PromotionApprover): the first poll for an operation
 * starts the hook, later polls answer undefined until it has finished, then its verdict. A hook
 * that fails, times out or cannot start is a veto. The loop never waits on it: a hanging hook
 * costs the operation its timeout, never a fence or the lease.
 */
export class HookPromotionApprover implements PromotionApprover {
  private readonly runs = new Map<string, { run?: HookRun }>();

  constructor(
    private readonly cluster: ClusterConfig,
    private readonly hook: HookConfig,
    private readonly onFinished: (run: HookRun, event: HookEvent) => void,
  ) {}

  poll(action: ApprovePromotionAction): { approved: boolean; detail: string } | undefined {
    let entry = this.runs.get(action.operationId);
    if (!entry) {
      entry = {};
      const started = entry;
      this.runs.set(action.operationId, started);
      if (this.runs.size > REMEMBERED) this.runs.delete(this.runs.keys().next().value as string);
      const event = this.event(action);
      void runHook('beforePromote', this.hook, event).then((run) => {
        started.run = run;
        this.onFinished(run, event);
      });
    }
    const run = entry.run;
    if (!run) return undefined;
    const tail = run.stderrTail ? `: ${run.stderrTail}` : '';
    return { approved: run.ok, detail: `${run.outcome} after ${run.ms} ms${tail}` };
  }

  private event(action: ApprovePromotionAction): HookEvent {
    return writerChangeEvent(this.cluster, {
      epoch: action.epoch,
      reason: action.why,
      message: action.message,
      to: action.node,
      ...(action.from !== undefined ? { from: action.from } : {}),
      ...(action.lostGtids !== undefined ? { lostGtids: action.lostGtids } : {}),
    });
  }
}
