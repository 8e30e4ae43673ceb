/**
 * Reads a cluster's state from etcd into the core's ClusterSnapshot, and turns the core's new
 * PersistedState into etcd ops. Reads are separate calls (each with the same deadline), not one
 * revision: every write that depends on what was read carries a compare, so a torn read can
 * only make a guarded write fail, never make a wrong one succeed.
 */

import type {
  AntiFlapState,
  ClusterSnapshot,
  ClusterSpec,
  CoordinatorSpec,
  GuardianStatus,
  Intent,
  ObserverReport,
  OperationJournal,
  PersistedState,
  PinRecord,
  QuarantineRecord,
  WriterRecord,
} from '../core/index.js';
import type { ClusterKeys } from './keys.js';
import type { Compare, KeyValue, MonoMs, Op, Store } from './ports.js';
import {
  decodeAntiFlap,
  decodeIntent,
  decodeOperation,
  decodePin,
  decodeQuarantine,
  decodeReport,
  decodeWriter,
  encode,
  type PublishedReport,
} from './records.js';

/** What one read of the store returned, with the revisions guarded writes compare against. */
export interface StoreView {
  writer?: WriterRecord;
  /** 0 when absent: compares use createRevision/modRevision 0 for "absent". */
  writerModRevision: number;
  pin?: PinRecord;
  antiFlap: AntiFlapState;
  operation?: OperationJournal;
  quarantine: Record<string, QuarantineRecord>;
  intents: Intent[];
  /** Reports present (their leases alive), by coordinator, with their key revisions. */
  reports: Map<string, { report: PublishedReport; modRevision: number }>;
  /** Records that could not be decoded (reported, otherwise treated as absent). */
  unreadable: string[];
}

export class ClusterStateStore {
  /** modRevision and first time we saw it, per observer: receivedAt on the decide() timebase. */
  private readonly seen = new Map<string, { modRevision: number; receivedAt: number }>();
  private readonly decodedCache = new Map<string, { modRevision: number; value: unknown }>();

  constructor(
    private readonly store: Store,
    readonly keys: ClusterKeys,
  ) {}

  /**
   * The writer record and the operation journal (what a guardian needs every cycle), read in
   * this order, one after the other: the leader writes the journal's later steps only after the
   * writer record, so a journal read first can only be older than the writer record read after
   * it. Read in parallel, a guardian once saw writer m-b@2 next to a journal already past its
   * commit (sim seed 52189), took the hold for over and reopened m-b after m-a@3 was committed.
   */
  async readWriter(
    deadline: MonoMs,
  ): Promise<{ writer?: WriterRecord; operation?: OperationJournal; modRevision: number }> {
    const operationKv = await this.store.get(this.keys.operation, deadline);
    const writerKv = await this.store.get(this.keys.writer, deadline);
    const out: { writer?: WriterRecord; operation?: OperationJournal; modRevision: number } = {
      modRevision: writerKv?.modRevision ?? 0,
    };
    if (writerKv) out.writer = this.cached(writerKv, decodeWriter);
    if (operationKv) out.operation = this.cached(operationKv, decodeOperation);
    return out;
  }

  async read(deadline: MonoMs): Promise<StoreView> {
    const k = this.keys;
    // The journal strictly before the writer record (see readWriter); the rest in parallel.
    const operation = await this.store.get(k.operation, deadline);
    const [writer, pin, cooldown, quarantine, intents, reports] = await Promise.all([
      this.store.get(k.writer, deadline),
      this.store.get(k.pin, deadline),
      this.store.get(k.cooldown, deadline),
      this.store.get(k.quarantine, deadline),
      this.store.getPrefix(k.intentsPrefix, deadline),
      this.store.getPrefix(k.observationsPrefix, deadline),
    ]);
    const unreadable: string[] = [];
    const view: StoreView = {
      writerModRevision: writer?.modRevision ?? 0,
      antiFlap: { failoverTimes: [] },
      quarantine: {},
      intents: [],
      reports: new Map(),
      unreadable,
    };
    const decode = <T>(kv: KeyValue | undefined, fn: (key: string, value: string) => T): T | undefined => {
      if (!kv) return undefined;
      try {
        return this.cached(kv, fn);
      } catch (error) {
        unreadable.push(error instanceof Error ? error.message : String(error));
        return undefined;
      }
    };
    const w = decode(writer, decodeWriter);
    if (w) view.writer = w;
    const p = decode(pin, decodePin);
    if (p) view.pin = p;
    view.antiFlap = decode(cooldown, decodeAntiFlap) ?? { failoverTimes: [] };
    const o = decode(operation, decodeOperation);
    if (o) view.operation = o;
    view.quarantine = decode(quarantine, decodeQuarantine) ?? {};
    for (const kv of intents.kvs) {
      const intent = decode(kv, decodeIntent);
      if (intent) view.intents.push(intent);
    }
    for (const kv of reports.kvs) {
      const report = decode(kv, decodeReport);
      if (report) view.reports.set(report.coordinator, { report, modRevision: kv.modRevision });
    }
    return view;
  }

  /**
   * Records are read every cycle but change rarely: decode each stored version once. Decoded
   * values are shared between cycles, so nothing downstream may mutate them (the core is pure).
   */
  private cached<T>(kv: KeyValue, fn: (key: string, value: string) => T): T {
    const hit = this.decodedCache.get(kv.key);
    if (hit && hit.modRevision === kv.modRevision) return hit.value as T;
    const value = fn(kv.key, kv.value);
    this.decodedCache.set(kv.key, { modRevision: kv.modRevision, value });
    return value;
  }

  /**
   * The core's snapshot. `now` is decide()'s timebase (wall-clock ms: persisted times must mean
   * the same to the next leader on another machine). `ownReport` replaces our own published
   * report with the fresher in-memory one.
   */
  snapshot(
    view: StoreView,
    spec: ClusterSpec,
    coordinators: CoordinatorSpec[],
    now: number,
    ownReport?: PublishedReport,
  ): ClusterSnapshot {
    const reports: ObserverReport[] = [];
    const guardians: Record<string, GuardianStatus> = {};
    for (const c of coordinators) {
      const stored = view.reports.get(c.name);
      const published = c.name === ownReport?.coordinator ? ownReport : stored?.report;
      let receivedAt = now;
      if (stored) {
        const prev = this.seen.get(c.name);
        if (prev && prev.modRevision === stored.modRevision) receivedAt = prev.receivedAt;
        else this.seen.set(c.name, { modRevision: stored.modRevision, receivedAt: now });
      } else {
        this.seen.delete(c.name);
      }
      if (published && (stored || c.name === ownReport?.coordinator)) {
        reports.push({
          coordinator: c.name,
          publishedAt: published.publishedAt,
          receivedAt: c.name === ownReport?.coordinator ? now : receivedAt,
          sessionAlive: true,
          nodes: published.nodes,
        });
      }
      if (spec.colos.includes(c.colo)) {
        const status: GuardianStatus = { coordinator: c.name, sessionAlive: stored !== undefined };
        const fenced = stored?.report.guardian.fencedWriter;
        if (fenced) status.fencedWriter = fenced;
        const holding = stored?.report.guardian.holding;
        if (holding) status.holding = holding;
        guardians[c.colo] = status;
      }
    }
    const snapshot: ClusterSnapshot = {
      spec,
      coordinators,
      intents: view.intents.filter((i) => i.status === 'pending' || i.status === 'in-progress'),
      reports,
      guardians,
      antiFlap: view.antiFlap,
      quarantine: view.quarantine,
    };
    if (view.writer) snapshot.writer = view.writer;
    if (view.pin) snapshot.pin = view.pin;
    if (view.operation) snapshot.operation = view.operation;
    return snapshot;
  }

  /** Ops that bring the stored persisted state to `next` (only what differs). */
  persistOps(current: PersistedState, next: PersistedState): Op[] {
    const ops: Op[] = [];
    const k = this.keys;
    if (!sameJson(current.pin, next.pin))
      ops.push(next.pin ? { put: k.pin, value: encode(next.pin) } : { delete: k.pin });
    if (!sameJson(current.antiFlap, next.antiFlap))
      ops.push({ put: k.cooldown, value: encode(next.antiFlap) });
    if (!sameJson(current.operation, next.operation)) {
      ops.push(
        next.operation ? { put: k.operation, value: encode(next.operation) } : { delete: k.operation },
      );
    }
    if (!sameJson(current.quarantine, next.quarantine))
      ops.push({ put: k.quarantine, value: encode(next.quarantine) });
    return ops;
  }

  /**
   * Compares that make a leader write conditional on the state it was decided from: the writer
   * record and the journal are still what we read.
   */
  decidedFrom(view: StoreView): Compare[] {
    return [{ key: this.keys.writer, target: 'modRevision', equals: view.writerModRevision }];
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
