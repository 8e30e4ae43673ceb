import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Clock, Store } from '../coordinator/ports.js';
import { clusterKeys } from '../coordinator/keys.js';
import type { Intent, OperatorIntent } from '../core/index.js';
import { readIntentRecord } from '../coordinator/intent-record.js';

/** Distributes Omit over the operator's intents so each kind keeps its own fields. */
export type IntentRequest = OperatorIntent extends infer I
  ? I extends OperatorIntent
    ? Omit<I, 'id' | 'by' | 'at' | 'status' | 'outcome'>
    : never
  : never;

export function operatorName(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return `${user}@${hostname()}`;
}

/** A new intent with a time-sorted id; submit it with putIntent (safe to retry). */
export function newIntent(clock: Clock, request: IntentRequest): Intent {
  const at = clock.wallNow();
  const id = `${new Date(at).toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
  return { ...request, id, by: operatorName(), at, status: 'pending' } as Intent;
}

/**
 * Writes an intent for the leader to act on, only if its key is new. A retry after a lost
 * response finds its own intent there and counts as success, so nothing is submitted twice.
 */
export async function putIntent(
  store: Store,
  clock: Clock,
  cluster: string,
  intent: Intent,
  timeoutMs = 1_500,
): Promise<void> {
  const key = clusterKeys(cluster).intent(intent.id);
  const deadline = clock.now() + timeoutMs;
  const result = await store.txn(
    [{ key, target: 'createRevision', equals: 0 }],
    [{ put: key, value: JSON.stringify(intent) }],
    deadline,
  );
  if (result.succeeded) return;
  const existing = await store.get(key, deadline);
  if (!existing || (JSON.parse(existing.value) as Intent).at !== intent.at)
    throw new Error(`intent ${intent.id} already exists`);
}

export async function readIntent(
  store: Store,
  clock: Clock,
  cluster: string,
  id: string,
  timeoutMs = 1_500,
): Promise<Intent | undefined> {
  const kv = await store.get(clusterKeys(cluster).intent(id), clock.now() + timeoutMs);
  return kv ? readIntentRecord(kv.key, kv.value).intent : undefined;
}
