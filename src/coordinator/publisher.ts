/**
 * Publish this coordinator's view under its lease: on change (of anything a decision depends
 * on: reachability, health, read_only, replication threads) plus a
 * slow refresh, never on every probe. GTID positions and lag travel with every publication but
 * do not by themselves cause one. A replica channel falling silent (or fed again) does: the
 * leader's replica veto reads receivedAgoMs, and a refresh-old value would hold a hung writer's
 * failover for up to a refresh period.
 */

import type { ClusterKeys } from './keys.js';
import type { Clock, Session, Store } from './ports.js';
import { encode, type GuardianRecord, type PublishedReport } from './records.js';
import type { ReportBatch } from './report-batch.js';

/** Where refreshes go when the process batches them (report-batch.ts), and who hears they landed. */
export interface RefreshBatching {
  batch: ReportBatch;
  /** A batched refresh was stored at this revision. */
  stored(report: PublishedReport, revision: number): void;
}

export class ReportPublisher {
  private lastDigest: string | undefined;
  private lastLease: string | undefined;
  private lastPublishedAt = -Infinity;

  constructor(
    private readonly store: Store,
    private readonly keys: ClusterKeys,
    private readonly clock: Clock,
    private readonly refreshMs: number,
    /** The etcd call allowance now (configured floor plus the measured latency). */
    private readonly storeTimeoutMs: () => number,
    /** HealthConfig.replicaSilenceMs: the bound the leader applies to receivedAgoMs. */
    private readonly replicaSilenceMs: number,
    private readonly batching?: RefreshBatching,
  ) {}

  /** Whether a report is in the store under this lease (it disappears with the lease). */
  publishedUnder(leaseId: string): boolean {
    return this.lastLease === leaseId;
  }

  /**
   * Returns the revision it wrote at, or undefined when nothing was due or the refresh was handed
   * to the batch (which reports its revision through RefreshBatching.stored). A failed write is
   * retried next cycle.
   */
  async publish(report: PublishedReport, session: Session): Promise<number | undefined> {
    const digest = decisionDigest(report, this.replicaSilenceMs);
    const now = this.clock.now();
    const changed = digest !== this.lastDigest || session.leaseId !== this.lastLease;
    if (!changed && now - this.lastPublishedAt < this.refreshMs) return undefined;
    const key = this.keys.observation(report.coordinator);
    const value = encode(report);
    if (!changed && this.batching) {
      // Not awaited: a change found meanwhile must not queue behind a refresh (putNow drops it).
      this.lastPublishedAt = now;
      const { batch, stored } = this.batching;
      batch.refresh(key, value, session.leaseId).then(
        (revision) => {
          if (revision !== undefined) stored(report, revision);
        },
        () => {
          if (this.lastPublishedAt === now) this.lastPublishedAt = -Infinity;
        },
      );
      return undefined;
    }
    const deadline = now + this.storeTimeoutMs();
    const revision = this.batching
      ? await this.batching.batch.putNow(key, value, deadline, session.leaseId)
      : await this.store.put(key, value, deadline, session.leaseId);
    this.lastDigest = digest;
    this.lastLease = session.leaseId;
    this.lastPublishedAt = now;
    return revision;
  }
}

/**
 * Publish the guardian's promises under its lease whenever they change, and once under every new
 * lease (the record's presence is how the leader knows the guardian lives). No refresh: nothing
 * judges its age.
 */
export class GuardianPublisher {
  private last: { lease: string; value: string } | undefined;

  constructor(
    private readonly store: Store,
    private readonly keys: ClusterKeys,
    private readonly clock: Clock,
    /** The etcd call allowance now (configured floor plus the measured latency). */
    private readonly storeTimeoutMs: () => number,
  ) {}

  /** Whether our record is in the store under this lease (it disappears with the lease). */
  publishedUnder(leaseId: string): boolean {
    return this.last?.lease === leaseId;
  }

  /** Returns the revision it wrote at, or undefined when it was already stored. */
  async publish(record: GuardianRecord, session: Session): Promise<number | undefined> {
    const value = encode(record);
    if (this.last?.lease === session.leaseId && this.last.value === value) return undefined;
    const revision = await this.store.put(
      this.keys.guardian(record.coordinator),
      value,
      this.clock.now() + this.storeTimeoutMs(),
      session.leaseId,
    );
    this.last = { lease: session.leaseId, value };
    return revision;
  }
}

/** What a change means for decisions: everything except clock readings, GTID positions and lag. */
function decisionDigest(report: PublishedReport, replicaSilenceMs: number): string {
  let digest = '';
  for (const n of report.nodes) {
    digest += `|${n.node}:${n.reachable}:${n.health}:${n.readOnly}`;
    // A writer falling back to async, or losing its ACKers, changes what a failover may promise.
    if (n.semiSync) digest += `:ss${n.semiSync.masterOn}/${n.semiSync.clients > 0}`;
    for (const ch of n.replication ?? []) {
      const silent = ch.receivedAgoMs !== undefined && ch.receivedAgoMs > replicaSilenceMs;
      digest += `:${ch.source ?? ch.sourceHost}/${ch.ioState}/${ch.sqlRunning}/${silent ? 'silent' : 'fed'}`;
    }
  }
  return digest;
}
