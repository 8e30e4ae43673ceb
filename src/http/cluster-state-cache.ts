import type { Clock, MonoMs, Store } from '../coordinator/ports.js';
import type { Logger } from '../log.js';
import { readClusterState, type ClusterState } from '../ops/cluster-state.js';

/**
 * The cluster as `baton status --json` shows it, read in the background for the HTTP listener:
 * a health check is answered from the last read and says how old it is, never by reading etcd
 * while the caller waits (a health check that hangs on etcd fails exactly when etcd is slow).
 * The background read leaves the history out: it is most of the prefix, read every second for
 * every cluster whether or not anyone looks (docs/scale.md). Who wants it (`GET /clusters/<c>`,
 * the web view) asks `withHistory`, read on demand and shared by the requests of one second.
 */
export class ClusterStateCache {
  private latest: { state: ClusterState; readAt: MonoMs } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private lastError: string | undefined;
  private resolveFirst: ((state: ClusterState) => void) | undefined;
  private full: { state: Promise<ClusterState>; startedAt: MonoMs } | undefined;
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

  /**
   * The whole state, history included, read now or by a request less than a refresh period
   * ago; undefined with the reason when etcd does not answer in time.
   */
  async withHistory(): Promise<{ state: ClusterState; readAt: MonoMs } | { error: string }> {
    const now = this.clock.now();
    if (!this.full || now - this.full.startedAt >= this.refreshMs) {
      const state = readClusterState(this.store, this.clock, this.cluster, this.timeoutMs);
      state.catch(() => undefined);
      this.full = { state, startedAt: now };
    }
    const { state, startedAt } = this.full;
    try {
      return { state: await state, readAt: startedAt };
    } catch (error) {
      return { error: (error as Error).message };
    }
  }

  private async refresh(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    const startedAt = this.clock.now();
    try {
      const state = await readClusterState(this.store, this.clock, this.cluster, this.timeoutMs, {
        history: false,
      });
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
