import type { ClusterConfig, HookName } from '../config/schema.js';
import type { StoredHistoryEntry } from '../coordinator/records.js';
import type { HistoryEntry } from '../core/index.js';
import type { Logger } from '../log.js';
import { HookQueue, type HookEvent, type HookRun, type NodeAddress } from './hook-runner.js';

export interface HookReporting {
  /** Metrics: one run finished. */
  hookFinished(cluster: string, hook: string, ok: boolean, timedOut: boolean): void;
  /** History: what the run came to (written by the loop under its lease). */
  recordHistory(entry: Omit<HistoryEntry, 'at'>): void;
}

/** Which reporting hook a history entry this coordinator wrote calls for, if any. */
export function hookFor(entry: StoredHistoryEntry): HookName | undefined {
  // A writer reopened at a new epoch is the same server: nothing for an application to follow.
  if (entry.event === 'promote') return entry.reason === 'writer-reopen' ? undefined : 'afterWriterChange';
  if (entry.event === 'fence') return 'onFence';
  if (entry.event === 'skip') return 'onFailoverSkipped';
  return undefined;
}

export function nodeAddress(cluster: ClusterConfig, name: string | undefined): NodeAddress | undefined {
  const node = cluster.nodes.find((n) => n.name === name);
  return node ? { name: node.name, host: node.host, port: node.port } : undefined;
}

/** What every hook is told: the cluster, and the epoch, reason and message of what happened. */
function eventAbout(
  cluster: ClusterConfig,
  what: { epoch: number; reason: string; message: string },
): HookEvent {
  return { cluster: cluster.name, epoch: what.epoch, reason: what.reason, message: what.message };
}

/** What a hook is told of a writer change (history's promote entry, or a promotion being asked). */
export function writerChangeEvent(
  cluster: ClusterConfig,
  change: { epoch: number; reason: string; message: string; from?: string; to?: string; lostGtids?: string },
): HookEvent {
  const event = eventAbout(cluster, change);
  const oldWriter = nodeAddress(cluster, change.from);
  const newWriter = nodeAddress(cluster, change.to);
  if (oldWriter) event.oldWriter = oldWriter;
  if (newWriter) event.newWriter = newWriter;
  if (change.lostGtids !== undefined) event.lostGtids = change.lostGtids;
  return event;
}

/** What a hook is told about a history entry (hook-runner.ts turns it into BATON_* variables). */
export function hookEvent(cluster: ClusterConfig, entry: StoredHistoryEntry): HookEvent {
  if (entry.event === 'promote') {
    return writerChangeEvent(cluster, {
      ...entry,
      ...(entry.node !== undefined ? { to: entry.node } : {}),
    });
  }
  const event = eventAbout(cluster, entry);
  const node = nodeAddress(cluster, entry.node);
  if (node) event.node = node;
  return event;
}

/** The history line of one finished run: outcome, duration and the tail of its stderr. */
export function hookHistoryEntry(run: HookRun, event: HookEvent, by: string): Omit<HistoryEntry, 'at'> {
  const tail = run.stderrTail ? `: ${run.stderrTail}` : '';
  return {
    event: 'hook',
    epoch: event.epoch ?? 0,
    reason: run.ok ? 'hook-ran' : 'hook-failed',
    message: `${run.hook} ${run.outcome} after ${run.ms} ms${tail}`.slice(0, 1_000),
    by,
  };
}

/**
 * What every finished run comes to, whichever hook: a metrics count, a history line (through the
 * loop, under its lease) and a log line.
 */
export function reportHookRun(
  cluster: string,
  coordinator: string,
  reporting: HookReporting,
  log: Logger,
): (run: HookRun, event: HookEvent) => void {
  return (run, event) => {
    reporting.hookFinished(cluster, run.hook, run.ok, run.outcome.startsWith('timeout'));
    reporting.recordHistory(hookHistoryEntry(run, event, coordinator));
    const fields = {
      event: 'hook',
      hook: run.hook,
      outcome: run.outcome,
      ms: run.ms,
      stderr: run.stderrTail,
    };
    if (run.ok) log.info(fields, `hook ${run.hook}: ${run.outcome}`);
    else if (run.hook === 'beforePromote')
      log.warn(fields, `hook beforePromote vetoed the promotion: ${run.outcome}`);
    else log.warn(fields, `hook ${run.hook} failed: ${run.outcome}`);
  };
}

/**
 * The reporting hooks of one cluster on this coordinator: each history entry this coordinator
 * wrote (a committed promote, a fence, a skipped failover) queues its hook; each run ends in
 * history and in metrics. Nothing here runs inside the decision loop.
 */
export class ClusterHooks {
  private readonly queue: HookQueue;

  constructor(
    private readonly cluster: ClusterConfig,
    coordinator: string,
    reporting: HookReporting,
    log: Logger,
  ) {
    this.queue = new HookQueue({
      hooks: cluster.hooks,
      log,
      onFinished: reportHookRun(cluster.name, coordinator, reporting, log),
    });
  }

  onOwnHistory(entry: StoredHistoryEntry): void {
    const hook = hookFor(entry);
    if (hook && this.cluster.hooks[hook]) this.queue.enqueue(hook, hookEvent(this.cluster, entry));
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }
}
