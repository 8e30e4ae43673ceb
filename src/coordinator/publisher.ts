/**
 * Publish this coordinator's view under its lease: on change (of anything a decision depends
 * on: reachability, health, read_only, replication threads, the guardian's fence report) plus a
 * slow refresh, never on every probe. GTID positions and lag travel with every publication but
 * do not by themselves cause one.
 */

import type { ClusterKeys } from './keys.js';
import type { Clock, Session, Store } from './ports.js';
import { encode, type PublishedReport } from './records.js';

export class ReportPublisher {
  private lastDigest: string | undefined;
  private lastLease: string | undefined;
  private lastPublishedAt = -Infinity;

  constructor(
    private readonly store: Store,
    private readonly keys: ClusterKeys,
    private readonly clock: Clock,
    private readonly refreshMs: number,
    private readonly storeTimeoutMs: number,
  ) {}

  /** Whether a report is in the store under this lease (it disappears with the lease). */
  publishedUnder(leaseId: string): boolean {
    return this.lastLease === leaseId;
  }

  /** Returns the revision it wrote at, or undefined when nothing was due. A failed write is retried next cycle. */
  async publish(report: PublishedReport, session: Session): Promise<number | undefined> {
    const digest = decisionDigest(report);
    const now = this.clock.now();
    const due =
      digest !== this.lastDigest ||
      session.leaseId !== this.lastLease ||
      now - this.lastPublishedAt >= this.refreshMs;
    if (!due) return undefined;
    const revision = await this.store.put(
      this.keys.observation(report.coordinator),
      encode(report),
      now + this.storeTimeoutMs,
      session.leaseId,
    );
    this.lastDigest = digest;
    this.lastLease = session.leaseId;
    this.lastPublishedAt = now;
    return revision;
  }
}

/** What a change means for decisions: everything except clock readings, GTID positions and lag. */
function decisionDigest(report: PublishedReport): string {
  let digest = JSON.stringify(report.guardian);
  for (const n of report.nodes) {
    digest += `|${n.node}:${n.reachable}:${n.health}:${n.readOnly}`;
    for (const ch of n.replication ?? [])
      digest += `:${ch.source ?? ch.sourceHost}/${ch.ioState}/${ch.sqlRunning}`;
  }
  return digest;
}
