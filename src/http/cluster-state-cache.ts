import type { Clock, MonoMs, Store } from '../coordinator/ports.js';
import type { Logger } from '../log.js';
import { readClusterState, type ClusterState } from '../ops/cluster-state.js';

/**
 * The cluster as `baton status --json` shows it, read in the background for the HTTP listener:
 * a request is answered from the last read and says how old it is, never by reading etcd while
 * the caller waits (a health check that hangs on etcd fails exactly when etcd is slow).
 */
export class ClusterStateCache {
  private latest: { state: ClusterState; readAt: MonoMs } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private lastError: string | undefined;
  private resolveFirst: ((state: ClusterState) => void) | undefined;
  /** Resolves with the first successful read (its revision is where history following starts). */
  readonly firstRead: Promise<ClusterState> = new Promise((resolve) => (this.resolveFirst = resolve));

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    readonly cluster: string,
    private readonly refreshMs: number,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  current(): { state: ClusterState; readAt: MonoMs } | undefined {
    return this.latest;
  }

  private async refresh(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    const startedAt = this.clock.now();
    try {
      const state = await readClusterState(this.store, this.clock, this.cluster, this.timeoutMs);
      this.latest = { state, readAt: startedAt };
      this.resolveFirst?.(state);
      this.resolveFirst = undefined;
      if (this.lastError !== undefined)
        this.log.info({ cluster: this.cluster }, 'cluster state readable again');
      this.lastError = undefined;
    } catch (error) {
      const message = (error as Error).message;
      // Once per distinct failure: a refresh every second must not flood the log at 3 a.m.
      if (message !== this.lastError)
        this.log.warn({ cluster: this.cluster, err: message }, 'cluster state read failed');
      this.lastError = message;
    } finally {
      this.reading = false;
    }
  }
}
