import type { Clock, MonoMs, Store } from '../coordinator/ports.js';
import type { Logger } from '../log.js';
import { readClusterState, type ClusterState } from '../ops/cluster-state.js';

type Answer = { state: ClusterState; readAt: MonoMs } | { error: string };

/**
 * The cluster as `baton status --json` shows it, read for the HTTP listener when someone asks:
 * `GET /clusters/<c>` (history included) and a metrics scrape (every observer's verdicts), each
 * read shared by the requests of one refresh period and bounded by the etcd call timeout. Health
 * checks never wait on it: they answer from the decision loop's memory (ClusterView), which
 * reads quarantine and pin with the writer record. Nothing is read in the background: a read of
 * every cluster every second, whether or not anyone looked, was half of etcd's reads at scale
 * (docs/scale.md). `firstRead` (retried until it succeeds) gives the revision watches start at.
 */
export class ClusterStateCache {
  private latest: { state: ClusterState; readAt: MonoMs } | undefined;
  private readonly inFlight = new Map<'summary' | 'full', { answer: Promise<Answer>; startedAt: MonoMs }>();
  private lastError: string | undefined;
  private stopped = false;
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
    void (async () => {
      while (!this.stopped) {
        if (!('error' in (await this.summary()))) return;
        await new Promise((resolve) => setTimeout(resolve, this.refreshMs).unref());
      }
    })();
  }

  stop(): void {
    this.stopped = true;
  }

  /** The last successful read of either kind. */
  current(): { state: ClusterState; readAt: MonoMs } | undefined {
    return this.latest;
  }

  /** Everything but the history, read now or by a request less than a refresh period ago. */
  summary(): Promise<Answer> {
    return this.read('summary');
  }

  /** The whole state, history included, read now or by a request less than a refresh period ago. */
  withHistory(): Promise<Answer> {
    return this.read('full');
  }

  private read(kind: 'summary' | 'full'): Promise<Answer> {
    const now = this.clock.now();
    const previous = this.inFlight.get(kind);
    if (previous && now - previous.startedAt < this.refreshMs) return previous.answer;
    const answer = this.readNow(kind, now);
    this.inFlight.set(kind, { answer, startedAt: now });
    return answer;
  }

  private async readNow(kind: 'summary' | 'full', startedAt: MonoMs): Promise<Answer> {
    try {
      const state = await readClusterState(this.store, this.clock, this.cluster, this.timeoutMs, {
        history: kind === 'full',
      });
      if (!this.latest || startedAt >= this.latest.readAt) this.latest = { state, readAt: startedAt };
      this.resolveFirst?.(state);
      this.resolveFirst = undefined;
      if (this.lastError !== undefined)
        this.log.info({ cluster: this.cluster }, 'cluster state readable again');
      this.lastError = undefined;
      return { state, readAt: startedAt };
    } catch (error) {
      const message = (error as Error).message;
      // Once per distinct failure: scrapes and page loads must not flood the log at 3 a.m.
      if (message !== this.lastError)
        this.log.warn({ cluster: this.cluster, err: message }, 'cluster state read failed');
      this.lastError = message;
      return { error: message };
    }
  }
}
