/**
 * The Store port on etcd. Every call carries the caller's monotonic deadline, translated into
 * a gRPC deadline at call time, and every library error goes through toStoreError.
 */
import type { Etcd3, IRangeRequest } from 'etcd3';
import type {
  Clock,
  Compare,
  Election,
  KeyValue,
  MonoMs,
  Op,
  Read,
  Session,
  Store,
  TxnResult,
  Watch,
  WatchEvent,
} from '../coordinator/ports.js';
import { toWallDeadline } from '../deadline.js';
import { silentLogger, type Logger } from '../log.js';
import { createEtcdClient, memberBreakers, type EtcdClientSettings } from './client.js';
import type { HostBreakers } from './fault-policy.js';
import { describeKeys, fromEtcdKv, prefixRangeEnd, toEtcdCompare, toEtcdOp } from './convert.js';
import { EtcdElection } from './election.js';
import { StaleAuthTokenError, toStoreError } from './errors.js';
import { EtcdSession, type SessionOptions } from './session.js';
import { SessionShare } from './session-share.js';
import { ResyncingWatch } from './watch.js';

export interface EtcdStoreOptions {
  logger?: Logger;
  session?: SessionOptions;
  /** The client's member breakers, which measure each member's latency (see roundTripMs). */
  breakers?: HostBreakers;
  /**
   * createSession hands every caller the same live lease (per TTL) instead of a new one: what
   * `baton run` wants for its many cluster loops (session-share.ts). Off, each call grants.
   */
  shareSessions?: boolean;
  /** Whether the client presents a TLS certificate (for what a failed handshake means). */
  clientCertificate?: boolean;
  /** The etcd user the client logs in as, named when etcd refuses it. */
  user?: string;
}

/** Renewals closer together than this are one (the login in flight serves every caller). */
const TOKEN_RENEWAL_MIN_INTERVAL_MS = 250;

/**
 * What etcd3 (1.1.x) keeps behind fields its types hide: the cached token (connection-pool.js
 * Authenticator) and the one watch stream all watches share (watch.js WatchManager).
 */
interface LibraryInternals {
  pool: { authenticator: { invalidateMetadata(): void } };
  watchManager?: { state: number; handleError(err: Error): void };
}
/** watch.js State.Connected. */
const WATCH_STREAM_CONNECTED = 2;

export class EtcdStore implements Store {
  private lastTokenRenewalAt = -Infinity;
  private readonly log: Logger;
  private readonly parentLog: Logger;
  private readonly sessionShare: SessionShare | undefined;

  constructor(
    readonly client: Etcd3,
    readonly clock: Clock,
    private readonly options: EtcdStoreOptions = {},
  ) {
    this.parentLog = options.logger ?? silentLogger;
    this.log = this.parentLog.child({ component: 'etcd' });
    this.sessionShare = options.shareSessions
      ? new SessionShare(clock, (ttlMs, deadline) => this.grantSession(ttlMs, deadline))
      : undefined;
  }

  /** What the daemon calls: build the client from config and wrap it. */
  static connect(settings: EtcdClientSettings, clock: Clock, options: EtcdStoreOptions = {}): EtcdStore {
    const breakers = memberBreakers();
    return new EtcdStore(createEtcdClient(settings, breakers), clock, {
      ...options,
      breakers,
      clientCertificate: settings.tls?.cert !== undefined,
      ...(settings.auth ? { user: settings.auth.username } : {}),
    });
  }

  /**
   * toStoreError, and when etcd no longer accepts our auth token, a new one for the next call or
   * stream (StaleAuthTokenError: the library renews it only for unary calls failing with
   * "invalid auth token"). Every error from this store's calls, sessions, watches and elections
   * comes through here.
   */
  convertError(err: unknown, what: string): Error {
    const converted = toStoreError(err, what, {
      clientCertificate: this.options.clientCertificate === true,
      ...(this.options.user !== undefined ? { user: this.options.user } : {}),
    });
    if (converted instanceof StaleAuthTokenError) this.renewAuthToken(converted.message);
    return converted;
  }

  /** Drops the cached token: the next call or stream authenticates again (one login for all). */
  renewAuthToken(reason: string): void {
    const now = this.clock.now();
    // A burst of failures (every stream at once) is one renewal, not one login per error.
    if (now - this.lastTokenRenewalAt < TOKEN_RENEWAL_MIN_INTERVAL_MS) return;
    this.lastTokenRenewalAt = now;
    this.log.warn({ reason }, 'etcd auth token no longer accepted: authenticating again');
    const library = this.client as unknown as LibraryInternals;
    library.pool.authenticator.invalidateMetadata();
    // The watch stream keeps the token it was opened with, and every watch created on it is
    // cancelled again: make the library open a new one (with a new token, then every watch
    // resyncs). Its handleError is what it does itself when a stream fails (watch.js).
    const watches = library.watchManager;
    if (watches?.state === WATCH_STREAM_CONNECTED)
      watches.handleError(new Error('etcd auth token renewed: reopening the watch stream'));
  }

  roundTripMs(): number {
    return this.options.breakers?.preferredLatencyMs() ?? 0;
  }

  /** gRPC call options for a monotonic deadline. */
  callOptions(deadline: MonoMs): { deadline: Date } {
    return { deadline: toWallDeadline(this.clock, deadline) };
  }

  async get(key: string, deadline: MonoMs): Promise<KeyValue | undefined> {
    try {
      const res = await this.client.kv.range({ key: Buffer.from(key) }, this.callOptions(deadline));
      const kv = res.kvs[0];
      return kv ? fromEtcdKv(kv) : undefined;
    } catch (err) {
      throw this.convertError(err, `get ${key}`);
    }
  }

  async getPrefix(prefix: string, deadline: MonoMs): Promise<{ kvs: KeyValue[]; revision: number }> {
    return this.rangePrefix(prefix, deadline);
  }

  async oldestKeys(
    prefix: string,
    limit: number,
    deadline: MonoMs,
  ): Promise<{ keys: { key: string; modRevision: number }[]; count: number }> {
    try {
      const res = await this.client.kv.range(
        {
          key: Buffer.from(prefix),
          range_end: prefixRangeEnd(prefix),
          keys_only: true,
          limit: String(limit),
        },
        this.callOptions(deadline),
      );
      return {
        keys: res.kvs.map((kv) => ({ key: kv.key.toString(), modRevision: Number(kv.mod_revision) })),
        count: Number(res.count),
      };
    } catch (err) {
      throw this.convertError(err, `oldest keys under ${prefix}`);
    }
  }

  /** Prefix read with extra range options (used by the election and watch resync). */
  async rangePrefix(
    prefix: string,
    deadline: MonoMs,
    extra: Partial<IRangeRequest> = {},
  ): Promise<{ kvs: KeyValue[]; revision: number }> {
    try {
      const res = await this.client.kv.range(
        { key: Buffer.from(prefix), range_end: prefixRangeEnd(prefix), ...extra },
        this.callOptions(deadline),
      );
      return { kvs: res.kvs.map(fromEtcdKv), revision: Number(res.header.revision) };
    } catch (err) {
      throw this.convertError(err, `get prefix ${prefix}`);
    }
  }

  /**
   * One read-only txn whose success branch holds a RangeRequest per read: one gRPC call, one
   * revision, and etcd serves it as a linearizable read (ReadIndex, no raft proposal).
   */
  async readAll(
    reads: readonly Read[],
    deadline: MonoMs,
  ): Promise<{ results: KeyValue[][]; revision: number }> {
    try {
      const res = await this.client.kv.txn(
        {
          compare: [],
          success: reads.map((r) => ({
            request_range:
              'key' in r
                ? { key: Buffer.from(r.key) }
                : { key: Buffer.from(r.prefix), range_end: prefixRangeEnd(r.prefix) },
          })),
          failure: [],
        },
        this.callOptions(deadline),
      );
      if (res.responses.length !== reads.length) {
        throw new Error(`read of ${reads.length} ranges answered with ${res.responses.length}`);
      }
      return {
        results: res.responses.map((r) => (r.response_range?.kvs ?? []).map(fromEtcdKv)),
        revision: Number(res.header.revision),
      };
    } catch (err) {
      throw this.convertError(
        err,
        `read ${describeKeys(reads.map((r) => ('key' in r ? r.key : `${r.prefix}*`)))}`,
      );
    }
  }

  async put(key: string, value: string, deadline: MonoMs, lease?: string): Promise<number> {
    try {
      const res = await this.client.kv.put(
        { key: Buffer.from(key), value: Buffer.from(value), lease: lease ?? '0' },
        this.callOptions(deadline),
      );
      return Number(res.header.revision);
    } catch (err) {
      throw this.convertError(err, `put ${key}`);
    }
  }

  async delete(key: string, deadline: MonoMs): Promise<number> {
    try {
      const res = await this.client.kv.deleteRange({ key: Buffer.from(key) }, this.callOptions(deadline));
      return Number(res.header.revision);
    } catch (err) {
      throw this.convertError(err, `delete ${key}`);
    }
  }

  async txn(compares: Compare[], ops: Op[], deadline: MonoMs): Promise<TxnResult> {
    try {
      const res = await this.client.kv.txn(
        { compare: compares.map(toEtcdCompare), success: ops.map(toEtcdOp), failure: [] },
        this.callOptions(deadline),
      );
      return { succeeded: res.succeeded, revision: Number(res.header.revision) };
    } catch (err) {
      const keys = [
        ...compares.map((c) => c.key),
        ...ops.map((op) => ('put' in op ? op.put : 'delete' in op ? op.delete : `${op.deletePrefix}*`)),
      ];
      throw this.convertError(err, `txn on ${describeKeys(keys)}`);
    }
  }

  watchPrefix(prefix: string, fromRevision: number, onEvent: (e: WatchEvent) => void): Watch {
    return new ResyncingWatch(this, prefix, fromRevision, onEvent, this.log.child({ watch: prefix }));
  }

  /** Watch a single key (not a prefix), with the same resync guarantees. */
  watchKey(key: string, fromRevision: number, onEvent: (e: WatchEvent) => void): Watch {
    return new ResyncingWatch(this, key, fromRevision, onEvent, this.log.child({ watch: key }), true);
  }

  createSession(ttlMs: number, deadline: MonoMs): Promise<Session> {
    return this.sessionShare
      ? this.sessionShare.acquire(ttlMs, deadline)
      : this.grantSession(ttlMs, deadline);
  }

  private grantSession(ttlMs: number, deadline: MonoMs): Promise<EtcdSession> {
    return EtcdSession.create(this, ttlMs, deadline, {
      ...this.options.session,
      // From the parent: pino repeats a key bound twice ("component" would appear twice).
      logger: this.parentLog.child({ component: 'etcd.session' }),
    });
  }

  election(prefix: string, session: Session): Election {
    if (!(session instanceof EtcdSession)) throw new Error('election: session must come from this store');
    return new EtcdElection(this, prefix, session, this.parentLog.child({ component: 'etcd.election' }));
  }

  /** Close every gRPC channel. Sessions should be closed first (revokes their leases). */
  close(): void {
    this.client.close();
  }
}
