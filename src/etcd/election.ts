/**
 * Leader election in the layout of etcd's Go concurrency package, so etcdctl can follow it
 * (`etcdctl elect -l /baton/<cluster>/leader`):
 *   key   = <prefix>/<lease id in hex>, bound to the session's lease
 *   value = the proclaimed value
 *   leader = the key with the lowest create-revision under <prefix>/
 * A candidate waits for the deletion of the key created just before its own, then confirms it
 * holds the lowest create-revision. Leadership *is* that create-revision: every leader write
 * is a txn comparing it (Leadership.guardedTxn).
 */
import type { Compare, Election, KeyValue, Leadership, MonoMs, Op, TxnResult } from '../coordinator/ports.js';
import type { Logger } from '../log.js';
import { fromEtcdKv, leaseIdToHex, toEtcdCompare, toEtcdOp } from './convert.js';
import { NotLeaderError } from './errors.js';
import type { EtcdSession } from './session.js';
import type { EtcdStore } from './store.js';

/** How long one step of a campaign (a read, a txn) may take before it is retried. */
const STEP_TIMEOUT_MS = 2000;

export class EtcdElection implements Election {
  readonly keyPrefix: string;

  constructor(
    private readonly store: EtcdStore,
    prefix: string,
    private readonly session: EtcdSession,
    private readonly log: Logger,
  ) {
    this.keyPrefix = `${prefix.replace(/\/+$/, '')}/`;
  }

  get ourKey(): string {
    return `${this.keyPrefix}${leaseIdToHex(this.session.leaseId)}`;
  }

  /**
   * Campaign until we are leader. A campaign is dead after its first error: it rejects and
   * the caller decides whether to start another (possibly with a new session). Our key stays
   * (bound to the lease) unless the caller's signal aborted, in which case we delete it.
   */
  async campaign(value: string, signal: AbortSignal): Promise<Leadership> {
    const both = AbortSignal.any([signal, this.session.signal]);
    try {
      return await this.runCampaign(value, both);
    } catch (err) {
      if (signal.aborted && !this.session.signal.aborted) {
        const deadline = this.store.clock.now() + STEP_TIMEOUT_MS;
        await this.store.delete(this.ourKey, deadline).catch(() => undefined);
      }
      if (both.aborted) throw both.reason instanceof Error ? both.reason : new Error(String(both.reason));
      throw err;
    }
  }

  async leader(deadline: MonoMs): Promise<KeyValue | undefined> {
    const { kvs } = await this.store.rangePrefix(this.keyPrefix, deadline, {
      sort_target: 'Create',
      sort_order: 'Ascend',
      limit: 1,
    });
    return kvs[0];
  }

  private async runCampaign(value: string, signal: AbortSignal): Promise<Leadership> {
    signal.throwIfAborted();
    const key = this.ourKey;
    const createRevision = await this.createOrReuseKey(key, value);
    this.log.info({ key, createRevision }, 'campaigning');
    for (;;) {
      signal.throwIfAborted();
      const predecessor = await this.predecessor(createRevision);
      if (!predecessor) break;
      await this.waitForDeletion(predecessor, signal);
    }
    // Confirm rather than infer: our key must exist and be the lowest create-revision.
    const current = await this.leader(this.store.clock.now() + STEP_TIMEOUT_MS);
    signal.throwIfAborted();
    if (!current || current.key !== key || current.createRevision !== createRevision) {
      throw new NotLeaderError(`leader is ${current?.key ?? 'nobody'}, not ${key}`);
    }
    this.log.info({ key, createRevision }, 'elected');
    return new EtcdLeadership(this.store, key, createRevision, this.session);
  }

  /** Put our key if absent (txn on create-revision 0); if present, reuse it and re-proclaim. */
  private async createOrReuseKey(key: string, value: string): Promise<number> {
    const deadline = this.store.clock.now() + STEP_TIMEOUT_MS;
    try {
      const res = await this.store.client.kv.txn(
        {
          compare: [toEtcdCompare({ key, target: 'createRevision', equals: 0 })],
          success: [toEtcdOp({ put: key, value, lease: this.session.leaseId })],
          failure: [{ request_range: { key: Buffer.from(key) } }],
        },
        this.store.callOptions(deadline),
      );
      if (res.succeeded) return Number(res.header.revision);
      const existing = res.responses[0]?.response_range.kvs[0];
      if (!existing) throw new NotLeaderError(`${key} vanished while campaigning`);
      const kv = fromEtcdKv(existing);
      if (kv.value !== value) {
        await this.store.put(key, value, this.store.clock.now() + STEP_TIMEOUT_MS, this.session.leaseId);
      }
      return kv.createRevision;
    } catch (err) {
      throw this.store.convertError(err, `campaign ${key}`);
    }
  }

  /** The key created just before ours, if any (the one we must outlive). */
  private async predecessor(createRevision: number): Promise<KeyValue | undefined> {
    const { kvs } = await this.store.rangePrefix(this.keyPrefix, this.store.clock.now() + STEP_TIMEOUT_MS, {
      sort_target: 'Create',
      sort_order: 'Descend',
      max_create_revision: String(createRevision - 1),
      limit: 1,
    });
    return kvs[0];
  }

  /** Wait until the key is deleted (watch), re-checking periodically in case the watch stalls. */
  private waitForDeletion(kv: KeyValue, signal: AbortSignal): Promise<void> {
    // Aborted while the previous step was on the wire (a round trip across a WAN is long enough):
    // an abort listener added now would never fire.
    if (signal.aborted)
      return Promise.reject(
        signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)),
      );
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: unknown): void => {
        if (done) return;
        done = true;
        clearInterval(recheck);
        signal.removeEventListener('abort', onAbort);
        watch.close();
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve();
      };
      const onAbort = (): void => finish(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      const watch = this.store.watchKey(kv.key, kv.modRevision + 1, (event) => {
        if (event.type === 'delete') finish();
      });
      // Bounded even if the watch stream is silently broken: poll the key at TTL/3.
      const recheck = setInterval(() => {
        this.store
          .get(kv.key, this.store.clock.now() + STEP_TIMEOUT_MS)
          .then((now) => {
            if (!now || now.createRevision !== kv.createRevision) finish();
          })
          .catch(() => undefined);
      }, this.session.ttlMs / 3);
    });
  }
}

export class EtcdLeadership implements Leadership {
  constructor(
    private readonly store: EtcdStore,
    readonly key: string,
    readonly createRevision: number,
    private readonly session: EtcdSession,
  ) {}

  /** Aborted when the session behind this leadership ends. */
  get signal(): AbortSignal {
    return this.session.signal;
  }

  /**
   * Run ops only if our leader key still has our create-revision and `compares` hold.
   * Throws NotLeaderError when the leader key is gone or re-created; a failed caller compare
   * returns succeeded=false.
   *
   * Re-sends: the pool retries "unavailable" on another member, and a txn whose connection
   * dropped may already have been applied. The compares make the re-send harmless: it fails
   * instead of applying twice (compare before put). We deliberately do not report such a
   * failure as success when the values happen to match: the caller's compares also guard
   * "decided from this view", and only they can say whether a retry is safe.
   */
  async guardedTxn(compares: Compare[], ops: Op[], deadline: MonoMs): Promise<TxnResult> {
    const guard: Compare = { key: this.key, target: 'createRevision', equals: this.createRevision };
    let res;
    try {
      res = await this.store.client.kv.txn(
        {
          compare: [guard, ...compares].map(toEtcdCompare),
          success: ops.map(toEtcdOp),
          failure: [{ request_range: { key: Buffer.from(this.key) } }],
        },
        this.store.callOptions(deadline),
      );
    } catch (err) {
      throw this.store.convertError(err, `guarded txn by ${this.key}`);
    }
    const revision = Number(res.header.revision);
    if (res.succeeded) return { succeeded: true, revision };
    const leaderKv = res.responses[0]?.response_range.kvs[0];
    if (!leaderKv || Number(leaderKv.create_revision) !== this.createRevision) {
      throw new NotLeaderError(`${this.key} is gone or was re-created`);
    }
    return { succeeded: false, revision };
  }

  /** Delete our key (if it is still ours) so the next candidate takes over immediately. */
  async resign(deadline: MonoMs): Promise<void> {
    try {
      await this.store.client.kv.txn(
        {
          compare: [toEtcdCompare({ key: this.key, target: 'createRevision', equals: this.createRevision })],
          success: [toEtcdOp({ delete: this.key })],
          failure: [],
        },
        this.store.callOptions(deadline),
      );
    } catch (err) {
      throw this.store.convertError(err, `resign ${this.key}`);
    }
  }

  /** For callers who want to check the session before a side effect. */
  isValid(): boolean {
    return this.session.isValid();
  }
}
