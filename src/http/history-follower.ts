import { clusterKeys } from '../coordinator/keys.js';
import type { Store, Watch } from '../coordinator/ports.js';
import type { StoredHistoryEntry } from '../coordinator/records.js';

/**
 * Follows the cluster's history in etcd and hands on each new entry this coordinator wrote.
 * Metrics and hooks run off history rather than inside the decision loop: an entry exists only
 * once its txn committed (a failed promote writes none), exactly one process wrote it, and
 * nothing here can delay a fence or the lease. Entries are create-only, so a put whose create
 * revision equals its mod revision is new; a resync after a reconnect reports only differences.
 * What was written before `fromRevision` (before this process started following) is not replayed.
 */
export function followOwnHistory(
  store: Store,
  cluster: string,
  coordinator: string,
  fromRevision: number,
  onEntry: (entry: StoredHistoryEntry) => void,
): Watch {
  return store.watchPrefix(clusterKeys(cluster).historyPrefix, fromRevision, (event) => {
    if (event.type !== 'put' || event.kv.createRevision !== event.kv.modRevision) return;
    let entry: StoredHistoryEntry;
    try {
      entry = JSON.parse(event.kv.value) as StoredHistoryEntry;
    } catch {
      return;
    }
    if (entry.coordinator === coordinator) onEntry(entry);
  });
}
