import type { KeyValue, MonoMs, Store } from '../coordinator/ports.js';
import { clusterKeys, type ClusterKeys } from '../coordinator/keys.js';
import { readIntentRecord } from '../coordinator/intent-record.js';
import type { HistoryEntry, Intent, PinRecord, WriterRecord } from '../core/index.js';
import type { Clock } from '../coordinator/ports.js';

/**
 * Everything an operator wants to see about one cluster, read from etcd in one range request
 * (one revision, so the parts are consistent with each other).
 */
export interface ClusterState {
  cluster: string;
  revision: number;
  leader?: { key: string; coordinator: string; createRevision: number };
  writer?: WriterRecord;
  pin?: PinRecord;
  cooldown?: unknown;
  operation?: unknown;
  quarantine?: unknown;
  /** Broken replication and divergence under watch (core ReplicaHealth). */
  replicas?: unknown;
  observations: Record<string, unknown>;
  /** Each coordinator's guardian promises (present while its session lives). */
  guardians: Record<string, unknown>;
  intents: Intent[];
  history: HistoryEntry[];
}

function parse<T>(value: string | undefined): T | undefined {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as T;
  } catch {
    return undefined;
  }
}

/**
 * Reads the whole cluster prefix, or (`history: false`) everything but the history, which is by
 * far its largest part (up to HISTORY_KEEP_COUNT entries) and not what a health check needs.
 */
export async function readClusterState(
  store: Store,
  clock: Clock,
  cluster: string,
  timeoutMs = 3_000,
  options: { history?: boolean } = {},
): Promise<ClusterState> {
  const keys = clusterKeys(cluster);
  const deadline = clock.now() + timeoutMs;
  const { kvs, revision } =
    options.history === false
      ? await readAllButHistory(store, keys, deadline)
      : await store.getPrefix(keys.root, deadline);
  const byKey = new Map(kvs.map((kv) => [kv.key, kv]));
  const leaderKv = kvs
    .filter((kv) => kv.key.startsWith(`${keys.leaderPrefix}/`))
    .sort((x, y) => x.createRevision - y.createRevision)[0];
  const under = (prefix: string) => kvs.filter((kv) => kv.key.startsWith(prefix));
  return {
    cluster,
    revision,
    leader: leaderKv
      ? { key: leaderKv.key, coordinator: leaderKv.value, createRevision: leaderKv.createRevision }
      : undefined,
    writer: parse<WriterRecord>(byKey.get(keys.writer)?.value),
    pin: parse<PinRecord>(byKey.get(keys.pin)?.value),
    cooldown: parse(byKey.get(keys.cooldown)?.value),
    operation: parse(byKey.get(keys.operation)?.value),
    quarantine: parse(byKey.get(keys.quarantine)?.value),
    replicas: parse(byKey.get(keys.replicas)?.value),
    observations: Object.fromEntries(
      under(keys.observationsPrefix).map((kv) => [
        kv.key.slice(keys.observationsPrefix.length),
        parse(kv.value),
      ]),
    ),
    guardians: Object.fromEntries(
      under(keys.guardiansPrefix).map((kv) => [kv.key.slice(keys.guardiansPrefix.length), parse(kv.value)]),
    ),
    // Checked as the leader checks them: a value put there by hand shows as an invalid intent.
    intents: under(keys.intentsPrefix).map((kv) => readIntentRecord(kv.key, kv.value).intent),
    history: under(keys.historyPrefix)
      .map((kv) => parse<HistoryEntry>(kv.value))
      .filter((h): h is HistoryEntry => h !== undefined),
  };
}

async function readAllButHistory(
  store: Store,
  keys: ClusterKeys,
  deadline: MonoMs,
): Promise<{ kvs: KeyValue[]; revision: number }> {
  const { results, revision } = await store.readAll(
    [
      { prefix: `${keys.leaderPrefix}/` },
      { key: keys.writer },
      { key: keys.pin },
      { key: keys.cooldown },
      { key: keys.operation },
      { key: keys.quarantine },
      { key: keys.replicas },
      { prefix: keys.observationsPrefix },
      { prefix: keys.guardiansPrefix },
      { prefix: keys.intentsPrefix },
    ],
    deadline,
  );
  return { kvs: results.flat(), revision };
}
