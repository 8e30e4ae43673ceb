/**
 * A simulated etcd: one linearizable key space with revisions, leases that expire on the virtual
 * clock, txns, watches and elections (lowest create-revision wins, etcd concurrency layout).
 * Faults it can play, per client (one client per coordinator process):
 * - partitioned: requests hang until their deadline and are never applied; watch events queue
 *   and are delivered on heal (the real adapter re-reads and re-watches);
 * - stalled (whole server): every request hangs; leases do not expire during the stall and are
 *   extended by its length when it ends (etcd renews leases on a leader change);
 * - lost responses: the request is applied, the answer never arrives (the caller times out);
 * - latency: answers arrive later (a request whose latency exceeds its deadline is never applied).
 */

import {
  DeadlineExceededError,
  type Compare,
  type Election,
  type KeyValue,
  type Leadership,
  type MonoMs,
  type Op,
  type Read,
  type Session,
  type Store,
  type TxnResult,
  type Watch,
  type WatchEvent,
} from '../../src/coordinator/ports.js';
import { keepaliveIntervalMs } from '../../src/core/timings.js';
import type { ProcessGate } from './process-gate.js';
import type { Prng } from './prng.js';
import type { Scheduler } from './scheduler.js';

interface StoredKv {
  value: string;
  createRevision: number;
  modRevision: number;
  lease?: string;
}

interface Lease {
  id: string;
  ttlMs: number;
  expiresAt: number;
  keys: Set<string>;
}

interface Watcher {
  client: SimStoreClient;
  prefix: string;
  fromRevision: number;
  onEvent: (e: WatchEvent) => void;
  closed: boolean;
}

export class LeaseNotFoundError extends Error {
  override name = 'LeaseNotFoundError';
}

export interface EtcdFaults {
  /** Probability that an applied request's answer is lost. */
  lostResponseRate: number;
  /** Probability that a request is slow, and how slow (uniform up to). */
  slowRate: number;
  slowMaxMs: number;
}

/** Anything that wants to see every committed change (the checkers). */
export type CommitListener = (events: WatchEvent[], revision: number, caller: string | undefined) => void;

export class SimEtcd {
  revision = 1;
  private kvs = new Map<string, StoredKv>();
  private leases = new Map<string, Lease>();
  private watchers: Watcher[] = [];
  private nextLease = 0x694d0000;
  private stalledSince: number | undefined;
  readonly partitioned = new Set<string>();
  faults: EtcdFaults = { lostResponseRate: 0, slowRate: 0, slowMaxMs: 0 };
  private commitListeners: CommitListener[] = [];

  constructor(
    readonly scheduler: Scheduler,
    readonly rng: Prng,
  ) {}

  onCommit(listener: CommitListener): void {
    this.commitListeners.push(listener);
  }

  client(name: string, gate: ProcessGate, sessionMarginMs: number): SimStoreClient {
    return new SimStoreClient(this, name, gate, sessionMarginMs);
  }

  // -- faults -----------------------------------------------------------------------------

  get stalled(): boolean {
    return this.stalledSince !== undefined;
  }

  stall(): void {
    if (this.stalledSince === undefined) this.stalledSince = this.scheduler.now();
  }

  unstall(): void {
    if (this.stalledSince === undefined) return;
    const stalledFor = this.scheduler.now() - this.stalledSince;
    this.stalledSince = undefined;
    for (const lease of this.leases.values()) {
      lease.expiresAt += stalledFor;
      this.scheduleExpiry(lease);
    }
  }

  partition(client: string): void {
    this.partitioned.add(client);
  }

  heal(client: string): void {
    if (!this.partitioned.delete(client)) return;
    for (const w of this.watchers) if (w.client.name === client) w.client.flushWatchEvents();
  }

  available(client: string): boolean {
    return this.stalledSince === undefined && !this.partitioned.has(client);
  }

  // -- reads (used by clients and directly by checkers) -------------------------------------

  get(key: string): KeyValue | undefined {
    const kv = this.kvs.get(key);
    return kv ? toKeyValue(key, kv) : undefined;
  }

  getPrefix(prefix: string): KeyValue[] {
    const out: KeyValue[] = [];
    for (const [key, kv] of this.kvs) if (key.startsWith(prefix)) out.push(toKeyValue(key, kv));
    return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  }

  leaseAlive(id: string): boolean {
    return this.leases.has(id);
  }

  // -- writes -------------------------------------------------------------------------------

  txn(compares: Compare[], ops: Op[], caller?: string): TxnResult {
    const succeeded = compares.every((c) => this.compare(c));
    if (!succeeded || ops.length === 0) return { succeeded, revision: this.revision };
    for (const op of ops) {
      if ('put' in op && op.lease !== undefined && !this.leases.has(op.lease)) {
        throw new LeaseNotFoundError(`etcdserver: requested lease not found (${op.lease})`);
      }
    }
    const revision = ++this.revision;
    const events: WatchEvent[] = [];
    for (const op of ops) {
      if ('put' in op) {
        const prev = this.kvs.get(op.put);
        if (prev?.lease !== undefined) this.leases.get(prev.lease)?.keys.delete(op.put);
        const kv: StoredKv = {
          value: op.value,
          createRevision: prev?.createRevision ?? revision,
          modRevision: revision,
        };
        if (op.lease !== undefined) {
          kv.lease = op.lease;
          this.leases.get(op.lease)?.keys.add(op.put);
        }
        this.kvs.set(op.put, kv);
        events.push({ type: 'put', kv: toKeyValue(op.put, kv) });
      } else if ('delete' in op) {
        this.deleteKey(op.delete, revision, events);
      } else {
        for (const key of [...this.kvs.keys()])
          if (key.startsWith(op.deletePrefix)) this.deleteKey(key, revision, events);
      }
    }
    this.publish(events, revision, caller);
    return { succeeded: true, revision };
  }

  /** Leases granted to each client, for the checkers. */
  readonly leasesOf = new Map<string, string[]>();

  grantLease(ttlMs: number, client?: string): string {
    const id = (this.nextLease++).toString(16);
    const lease: Lease = { id, ttlMs, expiresAt: this.scheduler.now() + ttlMs, keys: new Set() };
    this.leases.set(id, lease);
    this.scheduleExpiry(lease);
    if (client !== undefined) this.leasesOf.set(client, [...(this.leasesOf.get(client) ?? []), id]);
    return id;
  }

  keepAlive(id: string): void {
    const lease = this.leases.get(id);
    if (!lease) throw new LeaseNotFoundError(`etcdserver: requested lease not found (${id})`);
    lease.expiresAt = this.scheduler.now() + lease.ttlMs;
  }

  revoke(id: string): void {
    const lease = this.leases.get(id);
    if (!lease) return;
    this.leases.delete(id);
    if (lease.keys.size === 0) return;
    const revision = ++this.revision;
    const events: WatchEvent[] = [];
    for (const key of [...lease.keys].sort()) this.deleteKey(key, revision, events);
    this.publish(events, revision);
  }

  addWatcher(w: Watcher): void {
    this.watchers.push(w);
  }

  private scheduleExpiry(lease: Lease): void {
    this.scheduler.at(lease.expiresAt, () => {
      const current = this.leases.get(lease.id);
      if (current !== lease) return;
      if (this.stalledSince !== undefined) return; // re-armed by unstall()
      if (lease.expiresAt > this.scheduler.now()) this.scheduleExpiry(lease);
      else this.revoke(lease.id);
    });
  }

  private compare(c: Compare): boolean {
    const kv = this.kvs.get(c.key);
    switch (c.target) {
      case 'createRevision':
        return (kv?.createRevision ?? 0) === c.equals;
      case 'modRevision':
        return (kv?.modRevision ?? 0) === c.equals;
      case 'value':
        return kv !== undefined && kv.value === c.equals;
    }
  }

  private deleteKey(key: string, revision: number, events: WatchEvent[]): void {
    const prev = this.kvs.get(key);
    if (!prev) return;
    if (prev.lease !== undefined) this.leases.get(prev.lease)?.keys.delete(key);
    this.kvs.delete(key);
    events.push({ type: 'delete', kv: { ...toKeyValue(key, prev), modRevision: revision } });
  }

  private publish(events: WatchEvent[], revision: number, caller?: string): void {
    if (events.length === 0) return;
    for (const listener of this.commitListeners) listener(events, revision, caller);
    this.watchers = this.watchers.filter((w) => !w.closed);
    for (const w of this.watchers) {
      for (const e of events) {
        if (e.kv.key.startsWith(w.prefix) && revision >= w.fromRevision) w.client.deliverWatchEvent(w, e);
      }
    }
  }
}

function toKeyValue(key: string, kv: StoredKv): KeyValue {
  const out: KeyValue = {
    key,
    value: kv.value,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
  };
  if (kv.lease !== undefined) out.lease = kv.lease;
  return out;
}

/** The Store port for one simulated process. */
export class SimStoreClient implements Store {
  private pendingWatchEvents: { watcher: Watcher; event: WatchEvent }[] = [];

  constructor(
    readonly server: SimEtcd,
    readonly name: string,
    readonly gate: ProcessGate,
    private readonly sessionMarginMs: number,
  ) {}

  roundTripMs(): number {
    return 0;
  }

  /**
   * One request: decided when sent. Unavailable → hangs until the deadline and is not applied.
   * Otherwise applied after its latency (if the server is still reachable then and the deadline
   * not passed), and its answer delivered unless lost.
   */
  call<T>(what: string, deadline: MonoMs, apply: () => T): Promise<T> {
    const server = this.server;
    const sched = server.scheduler;
    const { lostResponseRate, slowRate, slowMaxMs } = server.faults;
    const latency =
      slowRate > 0 && server.rng.chance(slowRate) ? server.rng.int(1, Math.max(1, slowMaxMs)) : 0;
    const loseAnswer = lostResponseRate > 0 && server.rng.chance(lostResponseRate);
    // Fast path (the common case): answered at once. Nothing can pause the process between now
    // and the microtask that delivers it, so the gate needs no deferral.
    if (
      latency === 0 &&
      !loseAnswer &&
      this.gate.state === 'running' &&
      sched.now() < deadline &&
      server.available(this.name)
    ) {
      try {
        return Promise.resolve(apply());
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    const work = new Promise<T>((resolve, reject) => {
      const timeout = (): void => reject(new DeadlineExceededError(`etcd ${what}: deadline exceeded`));
      const attempt = (): void => {
        if (sched.now() >= deadline || !server.available(this.name)) {
          sched.at(deadline, timeout);
          return;
        }
        let result: T;
        try {
          result = apply();
        } catch (error) {
          if (loseAnswer) sched.at(deadline, timeout);
          else reject(error);
          return;
        }
        if (loseAnswer) sched.at(deadline, timeout);
        else resolve(result);
      };
      if (latency === 0) attempt();
      else if (sched.now() + latency >= deadline) sched.at(deadline, timeout);
      else sched.after(latency, attempt);
    });
    return this.gate.pass(work);
  }

  get(key: string, deadline: MonoMs): Promise<KeyValue | undefined> {
    return this.call('get', deadline, () => this.server.get(key));
  }

  getPrefix(prefix: string, deadline: MonoMs): Promise<{ kvs: KeyValue[]; revision: number }> {
    return this.call('getPrefix', deadline, () => ({
      kvs: this.server.getPrefix(prefix),
      revision: this.server.revision,
    }));
  }

  oldestKeys(
    prefix: string,
    limit: number,
    deadline: MonoMs,
  ): Promise<{ keys: { key: string; modRevision: number }[]; count: number }> {
    return this.call('oldestKeys', deadline, () => {
      const all = this.server.getPrefix(prefix).sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
      return {
        keys: all.slice(0, limit).map((kv) => ({ key: kv.key, modRevision: kv.modRevision })),
        count: all.length,
      };
    });
  }

  readAll(reads: readonly Read[], deadline: MonoMs): Promise<{ results: KeyValue[][]; revision: number }> {
    return this.call('readAll', deadline, () => ({
      results: reads.map((r) => {
        if ('prefix' in r) return this.server.getPrefix(r.prefix);
        const kv = this.server.get(r.key);
        return kv ? [kv] : [];
      }),
      revision: this.server.revision,
    }));
  }

  put(key: string, value: string, deadline: MonoMs, lease?: string): Promise<number> {
    const op: Op = lease === undefined ? { put: key, value } : { put: key, value, lease };
    return this.call('put', deadline, () => this.server.txn([], [op], this.name).revision);
  }

  txn(compares: Compare[], ops: Op[], deadline: MonoMs): Promise<TxnResult> {
    return this.call('txn', deadline, () => this.server.txn(compares, ops, this.name));
  }

  watchPrefix(prefix: string, fromRevision: number, onEvent: (e: WatchEvent) => void): Watch {
    const watcher: Watcher = { client: this, prefix, fromRevision, onEvent, closed: false };
    this.server.addWatcher(watcher);
    return {
      close: () => {
        watcher.closed = true;
      },
    };
  }

  deliverWatchEvent(watcher: Watcher, event: WatchEvent): void {
    if (!this.server.partitioned.has(this.name)) {
      this.gate.run(() => {
        if (!watcher.closed) watcher.onEvent(event);
      });
    } else {
      this.pendingWatchEvents.push({ watcher, event });
    }
  }

  flushWatchEvents(): void {
    const pending = this.pendingWatchEvents;
    this.pendingWatchEvents = [];
    for (const { watcher, event } of pending) {
      this.gate.run(() => {
        if (!watcher.closed) watcher.onEvent(event);
      });
    }
  }

  async createSession(ttlMs: number, deadline: MonoMs): Promise<Session> {
    const sendTime = this.server.scheduler.now();
    const leaseId = await this.call('grant', deadline, () => this.server.grantLease(ttlMs, this.name));
    return new SimSession(this, leaseId, ttlMs, this.sessionMarginMs, sendTime);
  }

  election(prefix: string, session: Session): Election {
    return new SimElection(this, prefix, session);
  }
}

/**
 * The Session port: keepalives every TTL/8 (keepaliveIntervalMs, each bounded by TTL/3) run by us, validUntil = send time of the last
 * acknowledged keepalive + TTL - margin, the signal aborts at validUntil or when the server says
 * the lease is gone. Its timers belong to the owning process, so a paused process stops renewing.
 */
export class SimSession implements Session {
  private readonly controller = new AbortController();
  private lastAckedSend: number;
  private closed = false;

  constructor(
    private readonly client: SimStoreClient,
    readonly leaseId: string,
    readonly ttlMs: number,
    readonly marginMs: number,
    grantSendTime: number,
  ) {
    this.lastAckedSend = grantSendTime;
    this.scheduleKeepAlive();
    this.scheduleExpiryCheck();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  validUntil(): MonoMs {
    return this.controller.signal.aborted ? -Infinity : this.lastAckedSend + this.ttlMs - this.marginMs;
  }

  async close(deadline: MonoMs): Promise<void> {
    this.closed = true;
    this.end('session: closed');
    await this.client.call('revoke', deadline, () => this.client.server.revoke(this.leaseId));
  }

  private end(reason: string): void {
    if (!this.controller.signal.aborted) this.controller.abort(new Error(reason));
  }

  private scheduleKeepAlive(): void {
    const sched = this.client.server.scheduler;
    sched.after(Math.floor(keepaliveIntervalMs(this.ttlMs)), () =>
      this.client.gate.run(() => {
        if (this.closed || this.controller.signal.aborted) return;
        const sendTime = sched.now();
        this.client
          .call('keepalive', sendTime + Math.floor(this.ttlMs / 3), () =>
            this.client.server.keepAlive(this.leaseId),
          )
          .then(
            () => {
              this.lastAckedSend = Math.max(this.lastAckedSend, sendTime);
            },
            (error: unknown) => {
              if (error instanceof LeaseNotFoundError) this.end('session: lease expired at the server');
            },
          );
        this.scheduleKeepAlive();
      }),
    );
  }

  /** Abort exactly when validUntil passes without a renewal. */
  private scheduleExpiryCheck(): void {
    const sched = this.client.server.scheduler;
    sched.at(this.validUntil(), () =>
      this.client.gate.run(() => {
        if (this.controller.signal.aborted) return;
        if (sched.now() >= this.validUntil()) this.end('session: lease deadline passed without renewal');
        else this.scheduleExpiryCheck();
      }),
    );
  }
}

class SimElection implements Election {
  constructor(
    private readonly client: SimStoreClient,
    private readonly prefix: string,
    private readonly session: Session,
  ) {}

  /**
   * Create our key (if absent) under the session's lease, then wait until it has the lowest
   * create-revision. Polls with ordinary (fault-prone) reads, like a re-watch after errors.
   */
  async campaign(value: string, signal: AbortSignal): Promise<Leadership> {
    const key = `${this.prefix}/${this.session.leaseId}`;
    const sched = this.client.server.scheduler;
    for (;;) {
      if (signal.aborted) throw new Error('election: campaign aborted');
      if (this.session.signal.aborted) throw new Error('election: session is expired');
      try {
        const deadline = sched.now() + 1000;
        await this.client.txn(
          [{ key, target: 'createRevision', equals: 0 }],
          [{ put: key, value, lease: this.session.leaseId }],
          deadline,
        );
        const { kvs } = await this.client.getPrefix(`${this.prefix}/`, deadline);
        const mine = kvs.find((kv) => kv.key === key);
        if (!mine) throw new Error('election: session is expired');
        const lowest = kvs.reduce((a, b) => (b.createRevision < a.createRevision ? b : a));
        if (lowest.key === key) return new SimLeadership(this.client, key, mine.createRevision);
      } catch (error) {
        if (error instanceof LeaseNotFoundError) throw new Error('election: session is expired');
        if (
          !(error instanceof DeadlineExceededError) &&
          !(error instanceof Error && error.message.startsWith('election'))
        )
          throw error;
        if (error instanceof Error && error.message === 'election: session is expired') throw error;
      }
      await this.nextChange();
    }
  }

  /** Like etcd's campaign: wait for a deletion under the prefix (a watch), or re-check after a while. */
  private nextChange(): Promise<void> {
    const sched = this.client.server.scheduler;
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        watch.close();
        sched.cancel(timer);
        resolve();
      };
      const watch = this.client.watchPrefix(`${this.prefix}/`, this.client.server.revision + 1, (e) => {
        if (e.type === 'delete') finish();
      });
      const timer = sched.after(2000, () => this.client.gate.run(finish));
    });
  }

  async leader(deadline: MonoMs): Promise<KeyValue | undefined> {
    const { kvs } = await this.client.getPrefix(`${this.prefix}/`, deadline);
    if (kvs.length === 0) return undefined;
    return kvs.reduce((a, b) => (b.createRevision < a.createRevision ? b : a));
  }
}

class SimLeadership implements Leadership {
  constructor(
    private readonly client: SimStoreClient,
    readonly key: string,
    readonly createRevision: number,
  ) {}

  guardedTxn(compares: Compare[], ops: Op[], deadline: MonoMs): Promise<TxnResult> {
    return this.client.txn(
      [{ key: this.key, target: 'createRevision', equals: this.createRevision }, ...compares],
      ops,
      deadline,
    );
  }

  async resign(deadline: MonoMs): Promise<void> {
    await this.client.txn(
      [{ key: this.key, target: 'createRevision', equals: this.createRevision }],
      [{ delete: this.key }],
      deadline,
    );
  }
}
