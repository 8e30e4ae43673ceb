import { clusterKeys } from '../coordinator/keys.js';
import type { Clock, Store, Watch } from '../coordinator/ports.js';
import type { StoredHistoryEntry } from '../coordinator/records.js';
import type { Logger } from '../log.js';
import type { ClusterLayout } from './cluster-layout.js';
import { ClusterStateCache } from './cluster-state-cache.js';
import { ClusterView, type LiveStateSource } from './cluster-view.js';
import { followOwnHistory } from './history-follower.js';
import { startHttpListener, type HttpListener } from './http-server.js';
import type { BatonMetrics } from './metrics.js';

/** Requests within this long of a cluster-state read share it (ClusterStateCache). */
const STATE_REFRESH_MS = 1_000;

export interface RoutedCluster {
  cluster: string;
  layout: ClusterLayout;
  source: LiveStateSource;
}

export interface RoutingServiceOptions {
  coordinator: string;
  store: Store;
  clock: Clock;
  clusters: RoutedCluster[];
  freshForMs: number;
  sessionTtlMs: number;
  etcdTimeoutMs: number;
  metrics: BatonMetrics;
  /** Each history entry this coordinator wrote, once committed (hooks, counters). */
  onOwnHistory: (cluster: string, entry: StoredHistoryEntry) => void;
  log: Logger;
}

/**
 * Everything a coordinator serves beside its decision loop: the cluster-state reads the HTTP
 * answers come from, the history follower that drives metrics counters and hooks, and (when
 * `http.listen` is set) the listener itself.
 */
export class RoutingService {
  readonly views = new Map<string, ClusterView>();
  private readonly caches: ClusterStateCache[] = [];
  private readonly watches: Watch[] = [];
  private listener: HttpListener | undefined;
  private stopped = false;

  constructor(private readonly options: RoutingServiceOptions) {
    for (const c of options.clusters) {
      const cache = new ClusterStateCache(
        options.store,
        options.clock,
        c.cluster,
        STATE_REFRESH_MS,
        options.etcdTimeoutMs,
        options.log.child({ component: 'http.state' }),
      );
      this.caches.push(cache);
      this.views.set(
        c.cluster,
        new ClusterView(
          c.cluster,
          options.coordinator,
          c.source,
          cache,
          c.layout,
          options.freshForMs,
          options.sessionTtlMs,
        ),
      );
      const view = this.views.get(c.cluster) as ClusterView;
      const writerKey = clusterKeys(c.cluster).writer;
      void cache.firstRead.then((state) => {
        if (this.stopped) return;
        this.watches.push(
          options.store.watchPrefix(writerKey, state.revision + 1, (event) => {
            if (event.type !== 'put' || event.kv.key !== writerKey) return;
            try {
              view.writerSeen(JSON.parse(event.kv.value) as { node: string; epoch: number });
            } catch {
              // an unreadable record: the loop's own read reports it
            }
          }),
        );
        this.watches.push(
          followOwnHistory(options.store, c.cluster, options.coordinator, state.revision + 1, (entry) => {
            options.metrics.historyWritten(c.cluster, entry);
            options.onOwnHistory(c.cluster, entry);
          }),
        );
      });
    }
  }

  async start(listen: string | undefined): Promise<void> {
    for (const cache of this.caches) cache.start();
    if (listen !== undefined)
      this.listener = await startHttpListener(
        listen,
        this.views,
        this.options.metrics,
        this.options.log.child({ component: 'http' }),
      );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const cache of this.caches) cache.stop();
    for (const watch of this.watches) watch.close();
    await this.listener?.close();
  }
}
