/**
 * Watches one run from outside baton and turns what it saw into the standard measures: the
 * writer and leader keys (etcd watches), the measuring client's acknowledgements, the outside
 * read_only sampler, and after the run the history and the final writer's rows.
 */
import type { HistoryEntry } from '../../src/core/index.js';
import type { SiteName } from '../../src/lab/topology.js';
import { eventually } from '../../test/integration/support/lab.js';
import type { Scenario } from '../../test/integration/support/scenario.js';
import type { Ack } from '../../test/integration/support/write-client.js';
import { watchCluster, type ClusterWatch } from './cluster-watch.js';
import { lostAckedWrites } from './lost-writes.js';
import { firstFailoverDecision, measureRun } from './measure-run.js';
import { formatValue, type Measures } from './measures.js';
import type { ScenarioResult } from './run-record.js';
import { buildTimeline } from './timeline.js';

/** The client whose acknowledgements the run is judged by. */
export interface MeasuringClient {
  readonly acks: Ack[];
  readonly clientId: string;
  stop(): Promise<void>;
}

/** How much of the steady state before time zero the timeline shows (and the run waits for). */
export const BASELINE_MS = 1_000;

export interface FinishOptions {
  zeroAt: number;
  zeroLabel: string;
  planned?: boolean;
  /** Defaults to the scenario's own write client. */
  client?: MeasuringClient;
  /** After the clients and the sampler stopped, before history is read (e.g. heal a cut). */
  settle?: () => Promise<void>;
  extra?: Measures;
  notes?: string[];
  /** When the measuring client stopped, if the scenario stopped it early (default: now). */
  endAt?: number;
}

function decisionNote(decision: ReturnType<typeof firstFailoverDecision>, zeroAt: number): string[] {
  if (!decision) return [];
  const { entry, at } = decision;
  return [
    `first decision at ${formatValue(at - zeroAt, 'ms')}: ${entry.event} ${entry.reason} (${entry.message})`,
  ];
}

function fenceNotes(history: readonly HistoryEntry[], from: number, zeroAt: number, endAt: number): string[] {
  return history
    .filter((h) => h.event === 'fence' && h.at >= from)
    .map(
      (h) =>
        `fence of ${h.node ?? '?'} by ${h.by} at ${formatValue(h.at - zeroAt, 'ms')} (${h.reason})` +
        (h.at > endAt ? ', after the client stopped' : ''),
    );
}

export class RunObserver {
  private constructor(
    private readonly scenario: Scenario,
    readonly watch: ClusterWatch,
    readonly observedFrom: number,
    readonly writerBefore: { node: string; epoch: number },
  ) {}

  static async start(scenario: Scenario, watchFrom: SiteName = 'w'): Promise<RunObserver> {
    const observedFrom = Date.now();
    const watch = await watchCluster(await scenario.lab.status(), watchFrom);
    const writer = (await scenario.clusterState()).writer;
    if (!writer) {
      await watch.stop();
      throw new Error('no writer record before the fault');
    }
    return new RunObserver(scenario, watch, observedFrom, { node: writer.node, epoch: writer.epoch });
  }

  /** Resolves once the timeline has its steady-state baseline before the fault. */
  async baseline(): Promise<void> {
    const wait = this.observedFrom + BASELINE_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  async finish(options: FinishOptions): Promise<ScenarioResult> {
    const client = options.client ?? this.scenario.client;
    await client.stop();
    const endAt = options.endAt ?? Date.now();
    await this.scenario.client.stop();
    const violations = await this.scenario.sampler.stop();
    try {
      await options.settle?.();
      // etcd may still be electing after an etcd fault: read until it answers.
      const state = await eventually(
        () => this.scenario.clusterState(),
        20_000,
        'the cluster state after the run',
      );
      const writerAfter = state.writer ? { node: state.writer.node, epoch: state.writer.epoch } : undefined;
      const status = await this.scenario.lab.status();
      const lost = await lostAckedWrites(status, writerAfter?.node, client.clientId, client.acks);
      const fromMs = Math.max(-2 * BASELINE_MS, this.observedFrom - options.zeroAt);
      const toMs = endAt - options.zeroAt;
      const measures = measureRun({
        zeroAt: options.zeroAt,
        planned: options.planned ?? false,
        observedFrom: this.observedFrom,
        endAt,
        acks: client.acks,
        writerBefore: this.writerBefore,
        writerAfter,
        writerChanges: this.watch.writerChanges,
        history: state.history,
        lostAckedWrites: lost,
        twoWritable: violations.length,
      });
      return {
        zero: { at: options.zeroAt, label: options.zeroLabel },
        measures: { ...measures, ...options.extra },
        notes: [
          ...decisionNote(firstFailoverDecision(state.history, options.zeroAt), options.zeroAt),
          ...fenceNotes(state.history, this.observedFrom, options.zeroAt, endAt),
          ...(violations.length > 0
            ? [`TWO WRITABLE NODES: ${violations.map((v) => v.detail).join('; ')}`]
            : []),
          ...(options.notes ?? []),
        ],
        timeline: buildTimeline(
          client.acks,
          options.zeroAt,
          options.zeroLabel,
          state.history,
          this.watch.writerChanges,
          this.watch.leaderChanges,
          fromMs,
          toMs,
        ),
      };
    } finally {
      await this.watch.stop();
    }
  }

  /** Stops the watch when a run fails before finish(). */
  async abandon(): Promise<void> {
    await this.watch.stop().catch(() => undefined);
  }
}
