import type { ClusterConfig, HookConfig, HookName } from '../config/schema.js';
import { silentLogger, type Logger } from '../log.js';
import { runBoundedCommand, type BoundedCommandResult } from './bounded-command.js';

/**
 * The operator's hooks (clusters[].hooks, deploy/hooks/README.md): commands run when the writer
 * moves, a failover is skipped or a node is fenced. A hook gets its data only in BATON_*
 * environment variables (argv is used exactly as configured, no placeholders), runs without a
 * shell and with a clean environment, and is killed, with its whole process group, at its
 * timeout (bounded-command.ts).
 *
 * `beforePromote` is the one hook whose result matters: the caller awaits runHook() and a
 * run that is not `ok` (a non-zero exit, a signal, a timeout, a program that would not start)
 * vetoes the promotion. The others only report; the caller hands them to a HookQueue, which
 * runs them outside its own flow.
 */

export interface NodeAddress {
  name: string;
  host: string;
  port: number;
}

export interface HookEvent {
  cluster: string;
  epoch?: number;
  /** The decision's reason code (`writer-dead-quorum`, `skipped-cooldown`, ...). */
  reason?: string;
  message?: string;
  oldWriter?: NodeAddress;
  newWriter?: NodeAddress;
  /** The node the event is about (the fenced one, for onFence). */
  node?: NodeAddress;
  /**
   * GTIDs the old writer may have had that the new one lacks. `''` means "nothing lost" and
   * is passed on as an empty BATON_LOST_GTIDS; undefined (not known, or not a failover) leaves
   * the variable unset.
   */
  lostGtids?: string;
}

export interface HookRun extends BoundedCommandResult {
  hook: HookName;
}

export const HOOK_NAMES: readonly HookName[] = [
  'beforePromote',
  'afterWriterChange',
  'onFence',
  'onFailoverSkipped',
];

/**
 * The hook's environment, besides PATH, LANG, LC_ALL, TZ and HOME (bounded-command.ts): only
 * the variables whose value is defined.
 *
 * | variable                  | value                                                  |
 * | ------------------------- | ------------------------------------------------------ |
 * | BATON_HOOK                | the hook's name: beforePromote, afterWriterChange, ... |
 * | BATON_CLUSTER             | the cluster's name                                     |
 * | BATON_EPOCH               | the writer epoch the event belongs to                  |
 * | BATON_REASON              | reason code                                            |
 * | BATON_MESSAGE             | one human-readable line                                |
 * | BATON_OLD_WRITER[_HOST\|_PORT] | the writer before the change: name, host, port    |
 * | BATON_NEW_WRITER[_HOST\|_PORT] | the writer after it                               |
 * | BATON_NODE[_HOST\|_PORT]  | the node the event is about (onFence: the fenced node) |
 * | BATON_LOST_GTIDS          | possibly lost GTIDs; set and empty = nothing lost      |
 */
export function hookEnvironment(hook: HookName, event: HookEvent): Record<string, string> {
  const env: Record<string, string> = { BATON_HOOK: hook, BATON_CLUSTER: event.cluster };
  if (event.epoch !== undefined) env.BATON_EPOCH = String(event.epoch);
  if (event.reason !== undefined) env.BATON_REASON = event.reason;
  if (event.message !== undefined) env.BATON_MESSAGE = event.message;
  const address = (prefix: string, node: NodeAddress | undefined) => {
    if (!node) return;
    env[prefix] = node.name;
    env[`${prefix}_HOST`] = node.host;
    env[`${prefix}_PORT`] = String(node.port);
  };
  address('BATON_OLD_WRITER', event.oldWriter);
  address('BATON_NEW_WRITER', event.newWriter);
  address('BATON_NODE', event.node);
  if (event.lostGtids !== undefined) env.BATON_LOST_GTIDS = event.lostGtids;
  return env;
}

/** Runs one hook to its end or its timeout; never throws. `signal` kills it early. */
export async function runHook(
  hook: HookName,
  config: HookConfig,
  event: HookEvent,
  signal?: AbortSignal,
): Promise<HookRun> {
  const result = await runBoundedCommand(config.argv, {
    timeoutMs: config.timeoutMs,
    env: hookEnvironment(hook, event),
    ...(signal ? { signal } : {}),
  });
  return { hook, ...result };
}

export interface HookQueueOptions {
  /** The cluster's hooks; an event for a hook that is not configured is ignored. */
  hooks: ClusterConfig['hooks'];
  /**
   * Called once for every run that started, when it has ended (the loop records history and
   * metrics here). A throw or a rejection is logged and does not stop the queue.
   */
  onFinished?: (run: HookRun, event: HookEvent) => void | Promise<void>;
  log?: Logger;
  /** Events waiting per hook beyond the one running; more are dropped, counted and logged. */
  maxPending?: number;
  /** For tests: what runs one hook. */
  run?: typeof runHook;
}

export const DEFAULT_MAX_PENDING = 20;

interface Lane {
  pending: HookEvent[];
  running: Promise<void> | undefined;
  /** Dropped since the lane last ran dry (for the log), and since the queue was created. */
  droppedInBurst: number;
  droppedTotal: number;
}

/**
 * Runs the reporting hooks outside the caller's flow: `enqueue` returns at once. One run at a
 * time per hook name, in order, so a burst of fences does not fork dozens of processes at once;
 * at most `maxPending` events wait per hook, and the ones beyond are dropped (logged once per
 * burst, then with the burst's count when the hook's lane runs dry).
 */
export class HookQueue {
  private readonly lanes = new Map<HookName, Lane>();
  private readonly abort = new AbortController();
  private readonly log: Logger;
  private readonly maxPending: number;
  private readonly run: typeof runHook;

  constructor(private readonly options: HookQueueOptions) {
    this.log = options.log ?? silentLogger;
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    this.run = options.run ?? runHook;
  }

  /**
   * Queues `event` for `hook`. False when it will not run: the hook is not configured, the
   * queue is stopped, or `maxPending` events already wait (then it is counted in `dropped`).
   */
  enqueue(hook: HookName, event: HookEvent): boolean {
    const config = this.options.hooks[hook];
    if (!config || this.abort.signal.aborted) return false;
    const lane = this.lane(hook);
    if (lane.pending.length >= this.maxPending) {
      lane.droppedTotal += 1;
      lane.droppedInBurst += 1;
      if (lane.droppedInBurst === 1) {
        this.log.warn(
          { event: 'hook-dropped', hook, cluster: event.cluster, maxPending: this.maxPending },
          `hook ${hook}: ${this.maxPending} runs already waiting, dropping this one and any more until they drain`,
        );
      }
      return false;
    }
    lane.pending.push(event);
    if (!lane.running) lane.running = this.drain(hook, config, lane);
    return true;
  }

  /** Events waiting for `hook` (not counting the one running). */
  pending(hook: HookName): number {
    return this.lanes.get(hook)?.pending.length ?? 0;
  }

  /** Events dropped for `hook` because its queue was full, since the queue was created. */
  dropped(hook: HookName): number {
    return this.lanes.get(hook)?.droppedTotal ?? 0;
  }

  /** Resolves when nothing runs or waits (for tests and orderly shutdowns). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.lanes.values()].flatMap((lane) => (lane.running ? [lane.running] : []));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /**
   * Kills the runs in progress (their onFinished still comes, with outcome `killed: stopping`,
   * before this resolves), discards what waits, and refuses every later enqueue.
   */
  async stop(): Promise<void> {
    if (!this.abort.signal.aborted) {
      for (const [hook, lane] of this.lanes) {
        if (lane.pending.length > 0) {
          this.log.warn(
            { event: 'hook-discarded', hook, count: lane.pending.length },
            `hook ${hook}: stopping, ${lane.pending.length} waiting runs discarded`,
          );
        }
        lane.pending.length = 0;
      }
      this.abort.abort(new Error('stopping'));
    }
    await this.idle();
  }

  private lane(hook: HookName): Lane {
    let lane = this.lanes.get(hook);
    if (!lane) {
      lane = { pending: [], running: undefined, droppedInBurst: 0, droppedTotal: 0 };
      this.lanes.set(hook, lane);
    }
    return lane;
  }

  private async drain(hook: HookName, config: HookConfig, lane: Lane): Promise<void> {
    try {
      for (let event = lane.pending.shift(); event; event = lane.pending.shift()) {
        const run = await this.run(hook, config, event, this.abort.signal);
        this.logRun(run, event);
        try {
          await this.options.onFinished?.(run, event);
        } catch (error) {
          this.log.error(
            { event: 'hook-callback-failed', hook, err: error },
            `hook ${hook}: onFinished failed`,
          );
        }
      }
    } finally {
      lane.running = undefined;
      if (lane.droppedInBurst > 0) {
        this.log.warn(
          { event: 'hook-dropped', hook, count: lane.droppedInBurst, total: lane.droppedTotal },
          `hook ${hook}: ${lane.droppedInBurst} runs were dropped because its queue was full`,
        );
        lane.droppedInBurst = 0;
      }
    }
  }

  private logRun(run: HookRun, event: HookEvent): void {
    const fields = {
      event: 'hook-finished',
      hook: run.hook,
      cluster: event.cluster,
      epoch: event.epoch,
      ok: run.ok,
      outcome: run.outcome,
      ms: run.ms,
      stderrTail: run.stderrTail,
    };
    const text = `hook ${run.hook}: ${run.outcome} after ${run.ms} ms${run.stderrTail ? `: ${run.stderrTail}` : ''}`;
    if (run.ok) this.log.info(fields, text);
    else this.log.warn(fields, text);
  }
}
