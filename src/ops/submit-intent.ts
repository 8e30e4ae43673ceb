import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Clock, Store } from '../coordinator/ports.js';
import { clusterKeys } from '../coordinator/keys.js';
import type { Intent } from '../core/index.js';

/** Distributes Omit over the Intent union so each kind keeps its own fields. */
type IntentRequest = Intent extends infer I
  ? I extends Intent
    ? Omit<I, 'id' | 'by' | 'at' | 'status'>
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

/**
 * Writes an intent for the leader to act on. The id sorts by time, and the put only succeeds
 * if the key is new, so a retried call never submits the same request twice.
 */
export async function submitIntent(
  store: Store,
  clock: Clock,
  cluster: string,
  request: IntentRequest,
  timeoutMs = 3_000,
): Promise<Intent> {
  const at = clock.wallNow();
  const id = `${new Date(at).toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
  const intent = { ...request, id, by: operatorName(), at, status: 'pending' } as Intent;
  const key = clusterKeys(cluster).intent(id);
  const result = await store.txn(
    [{ key, target: 'createRevision', equals: 0 }],
    [{ put: key, value: JSON.stringify(intent) }],
    clock.now() + timeoutMs,
  );
  if (!result.succeeded) throw new Error(`intent ${id} already exists`);
  return intent;
}

/** Polls the intent until the leader marks it done or failed, or the timeout passes. */
export async function waitForIntent(
  store: Store,
  clock: Clock,
  cluster: string,
  id: string,
  timeoutMs: number,
): Promise<Intent | undefined> {
  const key = clusterKeys(cluster).intent(id);
  const deadline = clock.now() + timeoutMs;
  let last: Intent | undefined;
  while (clock.now() < deadline) {
    const kv = await store.get(key, Math.min(deadline, clock.now() + 2_000)).catch(() => undefined);
    if (kv) {
      last = JSON.parse(kv.value) as Intent;
      if (last.status === 'done' || last.status === 'failed') return last;
    }
    await clock.sleep(100);
  }
  return last;
}
