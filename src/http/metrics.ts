import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StoredHistoryEntry } from '../coordinator/records.js';
import type { ClusterView } from './cluster-view.js';

/**
 * Prometheus metrics of one coordinator process (README "Metrics" lists each with its meaning).
 * Gauges are computed at scrape time from the coordinator's memory and its last cluster-state
 * read, so a scrape costs no etcd or MySQL call. Counters count what this process did: the
 * history entries it wrote and the hooks it ran, so summing over coordinators never counts an
 * event twice.
 *
 * prom-client rather than hand-written exposition text: label escaping, histogram buckets and
 * the text format's details are exactly what a well-kept library gets right.
 */
export class BatonMetrics {
  readonly registry = new Registry();
  private readonly operations: Counter<'cluster' | 'kind' | 'reason' | 'result'>;
  private readonly skipped: Counter<'cluster' | 'reason'>;
  private readonly fences: Counter<'cluster' | 'reason'>;
  private readonly hookRuns: Counter<'cluster' | 'hook' | 'outcome'>;
  private readonly hookFailures: Counter<'cluster' | 'hook'>;
  private readonly cycleSeconds: Histogram<'cluster'>;

  constructor(clusters: () => ClusterView[]) {
    const registry = this.registry;
    collectDefaultMetrics({ register: registry, prefix: 'baton_process_' });
    const gauge = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      fill: (set: (labels: Record<L, string>, value: number) => void, view: ClusterView) => void,
    ): void => {
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const view of clusters()) fill((labels, value) => this.set(labels, value), view);
        },
      });
    };

    gauge(
      'baton_writer_epoch',
      'Epoch of the recorded writer as this coordinator last read it',
      ['cluster', 'writer'],
      (set, v) => {
        const w = v.live().writer;
        if (w) set({ cluster: v.cluster, writer: w.node }, w.epoch);
      },
    );
    gauge('baton_is_leader', '1 while this coordinator holds the cluster leadership', ['cluster'], (set, v) =>
      set({ cluster: v.cluster }, v.live().isLeader ? 1 : 0),
    );
    gauge(
      'baton_lease_remaining_seconds',
      'How long this coordinator can still prove its etcd lease alive',
      ['cluster'],
      (set, v) => set({ cluster: v.cluster }, v.live().leaseLeftMs / 1000),
    );
    gauge(
      'baton_etcd_last_contact_seconds',
      'Seconds since the decision loop last read the state from etcd',
      ['cluster'],
      (set, v) => {
        const live = v.live();
        if (live.writerReadAt !== undefined)
          set({ cluster: v.cluster }, (live.now - live.writerReadAt) / 1000);
      },
    );
    gauge(
      'baton_node_up',
      'Per observer (coordinator): 1 when its verdict on the node is up',
      ['cluster', 'node', 'observer'],
      (set, v) => {
        for (const [observer, nodes] of v.reportedHealth())
          for (const [node, up] of nodes) set({ cluster: v.cluster, node, observer }, up ? 1 : 0);
      },
    );
    gauge(
      'baton_node_read_only',
      '1 when this coordinator last saw the node read_only, 0 writable',
      ['cluster', 'node'],
      (set, v) => {
        for (const obs of v.live().observations.values())
          if (obs.reachable && obs.readOnly !== undefined)
            set({ cluster: v.cluster, node: obs.node }, obs.readOnly ? 1 : 0);
      },
    );
    gauge(
      'baton_node_lag_seconds',
      'Replication lag behind the writer as this coordinator last measured it',
      ['cluster', 'node'],
      (set, v) => {
        for (const obs of v.live().observations.values())
          if (obs.reachable && obs.lagMs !== undefined)
            set({ cluster: v.cluster, node: obs.node }, obs.lagMs / 1000);
      },
    );
    gauge(
      'baton_node_replication_error',
      'The MySQL error number a replication thread stopped on (0: none)',
      ['cluster', 'node'],
      (set, v) => {
        for (const obs of v.live().observations.values())
          if (obs.reachable)
            set(
              { cluster: v.cluster, node: obs.node },
              obs.replication?.find((c) => c.error)?.error?.errno ?? 0,
            );
      },
    );
    gauge('baton_node_quarantined', '1 while the node is in quarantine', ['cluster', 'node'], (set, v) => {
      const quarantined = v.quarantined();
      if (!quarantined) return;
      for (const node of v.nodes()) set({ cluster: v.cluster, node }, quarantined.has(node) ? 1 : 0);
    });
    gauge(
      'baton_writable_nodes',
      'Nodes this coordinator last saw writable (alert when above 1)',
      ['cluster'],
      (set, v) => {
        let writable = 0;
        for (const obs of v.live().observations.values())
          if (obs.reachable && obs.readOnly === false) writable++;
        set({ cluster: v.cluster }, writable);
      },
    );
    gauge('baton_pinned', '1 while the writer is pinned (no automatic failover)', ['cluster'], (set, v) => {
      const pinned = v.pinned();
      if (pinned !== undefined) set({ cluster: v.cluster }, pinned ? 1 : 0);
    });

    this.operations = new Counter({
      name: 'baton_operations_total',
      help: 'Failovers and switchovers this coordinator led, by reason and result (promoted, completed, or how it failed)',
      labelNames: ['cluster', 'kind', 'reason', 'result'],
      registers: [registry],
    });
    this.skipped = new Counter({
      name: 'baton_failovers_skipped_total',
      help: 'Failovers this coordinator decided not to make, by reason',
      labelNames: ['cluster', 'reason'],
      registers: [registry],
    });
    this.fences = new Counter({
      name: 'baton_fences_total',
      help: 'Fence actions this coordinator recorded (leader or guardian), by reason',
      labelNames: ['cluster', 'reason'],
      registers: [registry],
    });
    this.hookRuns = new Counter({
      name: 'baton_hook_runs_total',
      help: 'Hook runs by hook and outcome (ok, failed, timeout)',
      labelNames: ['cluster', 'hook', 'outcome'],
      registers: [registry],
    });
    this.hookFailures = new Counter({
      name: 'baton_hook_failures_total',
      help: 'Hook runs that failed or timed out, by hook',
      labelNames: ['cluster', 'hook'],
      registers: [registry],
    });
    this.cycleSeconds = new Histogram({
      name: 'baton_decision_cycle_seconds',
      help: 'Duration of one decision cycle (observe, read state, guard, lead)',
      labelNames: ['cluster'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
  }

  cycleFinished(cluster: string, durationMs: number): void {
    this.cycleSeconds.observe({ cluster }, durationMs / 1000);
  }

  /** A history entry this process wrote (HistoryFollower). */
  historyWritten(cluster: string, entry: StoredHistoryEntry): void {
    if (entry.event === 'skip') this.skipped.inc({ cluster, reason: entry.reason });
    else if (entry.event === 'fence') this.fences.inc({ cluster, reason: entry.reason });
    else if (entry.operationKind !== undefined) {
      const result =
        entry.event === 'promote'
          ? 'promoted'
          : entry.event === 'operation-completed'
            ? 'completed'
            : entry.event;
      this.operations.inc({ cluster, kind: entry.operationKind, reason: entry.reason, result });
    }
  }

  hookFinished(cluster: string, hook: string, ok: boolean, timedOut: boolean): void {
    this.hookRuns.inc({ cluster, hook, outcome: ok ? 'ok' : timedOut ? 'timeout' : 'failed' });
    if (!ok) this.hookFailures.inc({ cluster, hook });
  }
}
