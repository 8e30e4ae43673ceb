/**
 * Reads a cluster's state from etcd into the core's ClusterSnapshot, and turns the core's new
 * PersistedState into etcd ops. Every read is one call at one revision (Store.readAll: an etcd
 * txn of ranges), so what a cycle sees is a state that existed; writes that depend on it still
 * carry compares, which is what makes them safe.
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
  ReplicaHealth,
  WriterRecord,
} from '../core/index.js';
import type { ClusterKeys } from './keys.js';
import type { Compare, KeyValue, MonoMs, Op, Read, Store } from './ports.js';
import {
  decodeAntiFlap,
  decodeGuardian,
  decodeIntent,
  decodeOperation,
  decodePin,
  decodeQuarantine,
  decodeReplicaHealth,
  decodeReport,
  decodeWriter,
  encode,
  type GuardianRecord,
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
  replicas?: ReplicaHealth;
  intents: Intent[];
  /** Reports present (their leases alive), by coordinator, with their key revisions. */
  reports: Map<string, { report: PublishedReport; modRevision: number }>;
  /** Guardian records present (their leases alive), by coordinator, with their key revisions. */
  guardians: Map<string, { record: GuardianRecord; modRevision: number }>;
  /** Done and failed intents with their keys, for pruning (see resolvedIntentsToPrune). */
  resolvedIntents?: ResolvedIntent[];
  /** Records that could not be decoded (reported, otherwise treated as absent). */
  unreadable: string[];
}

export interface ResolvedIntent {
  key: string;
  modRevision: number;
  createRevision: number;
  /** Wall-clock ms it was submitted (the CLI's clock) or answered (the leader's), the later. */
  at: number;
}

/** Done and failed intents are kept this long (wall-clock ms since submission or answer)... */
export const RESOLVED_INTENT_KEEP_MS = 60 * 60 * 1000;
/** ...and at most this many of them (the newest), so the leader's per-cycle read stays small. */
export const RESOLVED_INTENT_KEEP_COUNT = 20;
/**
 * The audit trail keeps its newest entries only: everything that reads the cluster state reads
 * history too (`baton status`, the HTTP listener every second), so it must not grow for ever.
 */
export const HISTORY_KEEP_COUNT = 1_000;
/** etcd refuses a txn with more than 128 operations (--max-txn-ops); the rest goes next cycle. */
const MAX_PRUNE_PER_TXN = 50;

/**
 * Resolved intents to delete: older than RESOLVED_INTENT_KEEP_MS, or beyond the newest
 * RESOLVED_INTENT_KEEP_COUNT (by creation). Pending and in-progress ones are never pruned.
 */
export function resolvedIntentsToPrune(resolved: readonly ResolvedIntent[], now: number): ResolvedIntent[] {
  const newestFirst = [...resolved].sort((a, b) => b.createRevision - a.createRevision);
  return newestFirst.filter(
    (intent, index) => index >= RESOLVED_INTENT_KEEP_COUNT || !(now - intent.at < RESOLVED_INTENT_KEEP_MS),
  );
}

/**
 * What the HTTP health checks need besides the writer record, read with it in the same call so
 * that no background read per cluster is needed (docs/scale.md).
 */
export interface RoutingFacts {
  /** Quarantined nodes; undefined when the record could not be read. */
  quarantined?: string[];
  pinned: boolean;
}

export interface WriterRead {
  writer?: WriterRecord;
  operation?: OperationJournal;
  modRevision: number;
  routing: RoutingFacts;
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
   * The writer record and the operation journal (what a guardian needs every cycle), at one
   * revision. They must never be torn: the leader writes the journal's later steps after the
   * writer record, and a guardian that once saw writer m-b@2 next to a journal already past its
   * commit (sim seed 52189, when they were separate reads) took the hold for over and reopened
   * m-b after m-a@3 was committed.
   */
  async readWriter(deadline: MonoMs): Promise<WriterRead> {
    const {
      results: [[operationKv] = [], [writerKv] = [], [quarantineKv] = [], [pinKv] = []],
    } = await this.store.readAll(
      [
        { key: this.keys.operation },
        { key: this.keys.writer },
        { key: this.keys.quarantine },
        { key: this.keys.pin },
      ],
      deadline,
    );
    const out: WriterRead = {
      modRevision: writerKv?.modRevision ?? 0,
      routing: { pinned: pinKv !== undefined },
    };
    if (writerKv) out.writer = this.cached(writerKv, decodeWriter);
    if (operationKv) out.operation = this.cached(operationKv, decodeOperation);
    // Riding along for the health checks (RoutingFacts); an unreadable record leaves them unknown,
    // never fails the read the guardian opens writes on.
    try {
      out.routing.quarantined = Object.keys(quarantineKv ? this.cached(quarantineKv, decodeQuarantine) : {});
    } catch {
      // unknown: a replica check then answers no
    }
    return out;
  }

  /** Everything the leader decides from, in one call at one revision. */
  async read(deadline: MonoMs): Promise<StoreView> {
    const k = this.keys;
    const reads: Read[] = [
      { key: k.operation },
      { key: k.writer },
      { key: k.pin },
      { key: k.cooldown },
      { key: k.quarantine },
      { key: k.replicas },
      { prefix: k.intentsPrefix },
      { prefix: k.observationsPrefix },
      { prefix: k.guardiansPrefix },
    ];
    const {
      results: [
        [operation] = [],
        [writer] = [],
        [pin] = [],
        [cooldown] = [],
        [quarantine] = [],
        [replicas] = [],
        intents = [],
        reports = [],
        guardians = [],
      ],
    } = await this.store.readAll(reads, deadline);
    const unreadable: string[] = [];
    const resolvedIntents: ResolvedIntent[] = [];
    const view: StoreView = {
      writerModRevision: writer?.modRevision ?? 0,
      antiFlap: { failoverTimes: [] },
      quarantine: {},
      intents: [],
      reports: new Map(),
      guardians: new Map(),
      resolvedIntents,
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
    const r = decode(replicas, decodeReplicaHealth);
    if (r) view.replicas = r;
    for (const kv of intents) {
      const intent = decode(kv, decodeIntent);
      if (!intent) continue;
      view.intents.push(intent);
      if (intent.status === 'done' || intent.status === 'failed') {
        resolvedIntents.push({
          key: kv.key,
          modRevision: kv.modRevision,
          createRevision: kv.createRevision,
          // Kept for a while after the answer too: an invalid intent may not say when it was asked.
          at: Math.max(intent.at, intent.outcome?.at ?? 0),
        });
      }
    }
    // Keys gone from the store (pruned intents, reports of expired sessions) leave the cache too.
    const present = new Set([...intents, ...reports, ...guardians].map((kv) => kv.key));
    for (const key of this.decodedCache.keys()) {
      const underPrefix = [k.intentsPrefix, k.observationsPrefix, k.guardiansPrefix].some((p) =>
        key.startsWith(p),
      );
      if (underPrefix && !present.has(key)) this.decodedCache.delete(key);
    }
    for (const kv of reports) {
      const report = decode(kv, decodeReport);
      if (report) view.reports.set(report.coordinator, { report, modRevision: kv.modRevision });
    }
    for (const kv of guardians) {
      const record = decode(kv, decodeGuardian);
      if (record) view.guardians.set(record.coordinator, { record, modRevision: kv.modRevision });
    }
    return view;
  }

  /**
   * Delete the resolved intents resolvedIntentsToPrune picks from this view, each only if it is
   * still the version we read (a plain txn: removing a finished request is safe from anyone, and
   * only the leader calls it). Returns how many were deleted.
   */
  async pruneIntents(view: StoreView, now: number, deadline: MonoMs): Promise<number> {
    const prune = resolvedIntentsToPrune(view.resolvedIntents ?? [], now).slice(0, MAX_PRUNE_PER_TXN);
    if (prune.length === 0) return 0;
    const result = await this.store.txn(
      prune.map((i) => ({ key: i.key, target: 'modRevision', equals: i.modRevision })),
      prune.map((i) => ({ delete: i.key })),
      deadline,
    );
    if (!result.succeeded) return 0;
    view.resolvedIntents = view.resolvedIntents?.filter((i) => !prune.includes(i));
    return prune.length;
  }

  /**
   * History retention: when more than HISTORY_KEEP_COUNT entries are stored, delete the oldest
   * (keys are zero-padded epoch and time, so key order is age order), at most MAX_PRUNE_PER_TXN at
   * a time, each only if unchanged. Returns how many were deleted.
   */
  async pruneHistory(deadline: MonoMs): Promise<number> {
    const { keys, count } = await this.store.oldestKeys(this.keys.historyPrefix, MAX_PRUNE_PER_TXN, deadline);
    const prune = keys.slice(0, Math.max(0, count - HISTORY_KEEP_COUNT));
    if (prune.length === 0) return 0;
    const result = await this.store.txn(
      prune.map((k) => ({ key: k.key, target: 'modRevision', equals: k.modRevision })),
      prune.map((k) => ({ delete: k.key })),
      deadline,
    );
    return result.succeeded ? prune.length : 0;
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
        const record = view.guardians.get(c.name)?.record;
        const status: GuardianStatus = { coordinator: c.name, sessionAlive: record !== undefined };
        if (record?.fencedWriter) status.fencedWriter = record.fencedWriter;
        if (record?.holding) status.holding = record.holding;
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
    if (view.replicas) snapshot.replicas = view.replicas;
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
    if (!sameJson(current.replicas, next.replicas))
      ops.push(next.replicas ? { put: k.replicas, value: encode(next.replicas) } : { delete: k.replicas });
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
