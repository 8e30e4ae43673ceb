/**
 * Invariant 9: the audit trail under /baton/<cluster>/history/<epoch>-<seq>. Sequence numbers
 * are wall-clock ms × 100 plus a counter, so `etcdctl get --prefix` lists entries in time order
 * within an epoch, and every write is create-only: an entry is never overwritten, whoever
 * (leader or guardian, this process or another) happens to pick the same key.
 */

import type { HistoryEntry } from '../core/index.js';
import type { ClusterKeys } from './keys.js';
import type { Clock, Compare, Op } from './ports.js';
import { encode, type StoredHistoryEntry } from './records.js';

export class HistoryWriter {
  private lastSeq = 0;

  constructor(
    private readonly keys: ClusterKeys,
    private readonly clock: Clock,
    private readonly coordinator: string,
  ) {}

  /** The put and its create-only compare, for inclusion in a txn. */
  entry(entry: HistoryEntry): { op: Op; compare: Compare } {
    this.lastSeq = Math.max(this.lastSeq + 1, this.clock.wallNow() * 100);
    const key = this.keys.history(entry.epoch, this.lastSeq);
    const stored: StoredHistoryEntry = {
      ...entry,
      wallAt: this.clock.wallNow(),
      coordinator: this.coordinator,
    };
    return { op: { put: key, value: encode(stored) }, compare: { key, target: 'createRevision', equals: 0 } };
  }
}
