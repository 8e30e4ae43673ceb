/**
 * A session is a lease we keep alive ourselves, with our own conservative deadline.
 *
 * The library's automatic keepalive and its `lost` event are not used: `lost` fires about
 * 2 x TTL after the last good keepalive while etcd expires the lease at 1 x TTL (FIELD-NOTES).
 * Instead we send one keepalive every TTL/8 (each tick bounded by TTL/3), and compute
 *
 *   validUntil = (monotonic send time of the last acknowledged keepalive) + TTL - margin
 *
 * The server refreshed the lease no earlier than we sent the request, so it cannot expire
 * before sendTime + TTL: validUntil is a lower bound on the server's expiry. When validUntil
 * passes (timer), or etcd says the lease is gone, `signal` aborts. A dead session stays dead:
 * the owner builds a new one (and campaigns again), like etcd's Go `Session.Done()`.
 */
import { setMaxListeners } from 'node:events';
import * as etcd3 from 'etcd3';
import type { MonoMs, Session } from '../coordinator/ports.js';
import { keepaliveIntervalMs } from '../core/timings.js';
import { withDeadline } from '../deadline.js';
import { silentLogger, type Logger } from '../log.js';
import { LeaseLostError, SessionExpiredError } from './errors.js';
import type { EtcdStore } from './store.js';

/** Hedged keepalive attempts in flight at once: all of them landing on one hung member of
 * three has probability (1/3)^5 per tick. */
const MAX_PARALLEL_KEEPALIVES = 5;
/** Pause between attempts to revoke a lease we abandoned while etcd did not answer. */
const REVOKE_RETRY_MS = 200;

export interface SessionOptions {
  /** Subtracted from the proven lease lifetime; covers timer lateness and the time between a
   * local validity check and the side effect it guards. Default max(250 ms, TTL/10). */
  marginMs?: number;
  logger?: Logger;
}

export class EtcdSession implements Session {
  private readonly controller = new AbortController();
  private validUntilMs: MonoMs;
  private expiryTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Cluster loops sharing this lease (session-share.ts); the last to close revokes it. */
  private holders = 1;
  /** Counts of keepalive attempts, for tests and metrics. */
  keepalivesAcknowledged = 0;
  keepalivesFailed = 0;

  private constructor(
    private readonly store: EtcdStore,
    readonly leaseId: string,
    readonly ttlMs: number,
    readonly marginMs: number,
    proofSentAt: MonoMs,
    private readonly log: Logger,
  ) {
    this.validUntilMs = proofSentAt + ttlMs - marginMs;
    // Every cluster loop sharing the lease listens for its end, with an election or two each:
    // hundreds of listeners are expected, not a leak.
    setMaxListeners(0, this.controller.signal);
    this.armExpiryTimer();
    this.scheduleKeepalive(proofSentAt);
  }

  /**
   * Grant a lease of ttlMs (rounded up to whole seconds: etcd's TTL unit) and start keeping it
   * alive. The grant's own send time is the first proof of life.
   */
  static async create(
    store: EtcdStore,
    ttlMs: number,
    deadline: MonoMs,
    options: SessionOptions = {},
  ): Promise<EtcdSession> {
    const ttlSeconds = Math.max(1, Math.ceil(ttlMs / 1000));
    const sentAt = store.clock.now();
    let granted;
    try {
      granted = await store.client.leaseClient.leaseGrant(
        { TTL: ttlSeconds, ID: 0 },
        store.callOptions(deadline),
      );
    } catch (err) {
      throw store.convertError(err, 'lease grant');
    }
    // etcd may raise a TTL below its minimum; never assume more than both sides agree on.
    const effectiveTtlMs = Math.min(ttlSeconds, Number(granted.TTL)) * 1000;
    const marginMs = options.marginMs ?? Math.max(250, effectiveTtlMs / 10);
    if (marginMs >= effectiveTtlMs / 2) {
      throw new RangeError(`session: margin ${marginMs} ms leaves too little of a ${effectiveTtlMs} ms TTL`);
    }
    const log = (options.logger ?? silentLogger).child({ lease: granted.ID });
    log.debug({ ttlMs: effectiveTtlMs, marginMs }, 'lease granted');
    return new EtcdSession(store, granted.ID, effectiveTtlMs, marginMs, sentAt, log);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  validUntil(): MonoMs {
    // Timers can fire late under load; a caller asking after the deadline must see it aborted.
    if (!this.signal.aborted && this.store.clock.now() >= this.validUntilMs) this.expireLocally();
    return this.validUntilMs;
  }

  /** True while the lease is provably alive at the server. */
  isValid(): boolean {
    return this.store.clock.now() < this.validUntil();
  }

  /** One more holder (session-share.ts). */
  retain(): this {
    this.holders += 1;
    return this;
  }

  /** Release one hold; the last one revokes the lease (graceful shutdown). */
  async close(deadline: MonoMs): Promise<void> {
    this.holders = Math.max(0, this.holders - 1);
    if (this.holders > 0 || this.closed) return;
    this.closed = true;
    this.end(new SessionExpiredError('session: closed'));
    try {
      await this.store.client.leaseClient.leaseRevoke({ ID: this.leaseId }, this.store.callOptions(deadline));
    } catch (err) {
      const converted = this.store.convertError(err, 'lease revoke');
      if (!(converted instanceof LeaseLostError)) throw converted;
    }
  }

  private stopTimers(): void {
    clearTimeout(this.expiryTimer);
    clearTimeout(this.keepaliveTimer);
  }

  private armExpiryTimer(): void {
    clearTimeout(this.expiryTimer);
    const wait = this.validUntilMs - this.store.clock.now();
    this.expiryTimer = setTimeout(
      () => {
        // setTimeout may fire a hair early relative to performance.now(): re-check.
        if (this.store.clock.now() >= this.validUntilMs) this.expireLocally();
        else this.armExpiryTimer();
      },
      Math.max(0, wait),
    );
  }

  private scheduleKeepalive(lastTickAt: MonoMs): void {
    if (this.closed || this.signal.aborted) return;
    const interval = keepaliveIntervalMs(this.ttlMs);
    const wait = Math.max(0, lastTickAt + interval - this.store.clock.now());
    this.keepaliveTimer = setTimeout(() => void this.keepaliveTick(), wait);
  }

  /**
   * One tick: get one keepalive acknowledged before the tick (TTL/3, longer than the interval
   * between ticks: a slow member gets its whole chance) is over. The pool sends
   * each call to a member picked at random, and a hung member answers nothing until the
   * deadline, so attempts are hedged: if none has answered after `hedgeMs`, another starts in
   * parallel (up to MAX_PARALLEL_KEEPALIVES), and a failed attempt is replaced (at once the
   * first time, then every hedgeMs). With three members, one hung member then delays a
   * keepalive by about hedgeMs instead of costing whole ticks. A tick without an
   * acknowledgement logs one warning, not one per attempt.
   */
  private async keepaliveTick(): Promise<void> {
    const tickAt = this.store.clock.now();
    const tickEnd = tickAt + this.ttlMs / 3;
    const hedgeMs = Math.max(100, this.ttlMs / 20);
    let failures = 0;
    let lastError = '';
    let acknowledged = false;
    await new Promise<void>((done) => {
      let finished = false;
      let inFlight = 0;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        clearInterval(hedge);
        clearTimeout(backstop);
        done();
      };
      const launch = (): void => {
        if (finished || this.closed || this.signal.aborted) return finish();
        if (this.store.clock.now() >= tickEnd - 10) {
          if (inFlight === 0) finish();
          return;
        }
        inFlight += 1;
        const sentAt = this.store.clock.now();
        this.sendKeepalive(tickEnd).then(
          (ttlSeconds) => {
            inFlight -= 1;
            if (finished || this.closed || this.signal.aborted) return finish();
            if (ttlSeconds <= 0) {
              this.end(new LeaseLostError(`session: lease ${this.leaseId} expired or revoked at the server`));
              return finish();
            }
            this.acknowledged(sentAt, ttlSeconds);
            acknowledged = true;
            finish();
          },
          (err: unknown) => {
            inFlight -= 1;
            if (finished) return;
            const converted = this.store.convertError(err, 'lease keepalive');
            if (converted instanceof LeaseLostError) {
              this.end(converted);
              return finish();
            }
            this.keepalivesFailed += 1;
            failures += 1;
            lastError = converted.message;
            // Unavailable errors come back at once: replace the attempt, but do not spin.
            setTimeout(launch, failures === 1 ? 50 : hedgeMs);
          },
        );
      };
      const hedge = setInterval(() => {
        if (inFlight < MAX_PARALLEL_KEEPALIVES) launch();
      }, hedgeMs);
      const backstop = setTimeout(finish, tickEnd - tickAt + 50);
      launch();
    });
    if (!acknowledged && !this.closed && !this.signal.aborted) {
      this.log.warn(
        { failures, lastError, validForMs: Math.round(this.validUntilMs - this.store.clock.now()) },
        'no keepalive acknowledged this tick; lease still valid until its deadline',
      );
    }
    this.scheduleKeepalive(tickAt);
  }

  private acknowledged(sentAt: MonoMs, ttlSeconds: number): void {
    this.keepalivesAcknowledged += 1;
    const proven = sentAt + Math.min(ttlSeconds * 1000, this.ttlMs) - this.marginMs;
    if (proven > this.validUntilMs) {
      this.validUntilMs = proven;
      this.armExpiryTimer();
    }
  }

  /** One keepalive round trip on its own short-lived stream; resolves the TTL etcd reports. */
  private async sendKeepalive(deadline: MonoMs): Promise<number> {
    const stream = await withDeadline(
      this.store.clock,
      deadline,
      'lease keepalive stream',
      // gRPC's deadline fires just before ours: the pool then sees the stream fail (markFailed)
      // and our host breaker learns to skip a hung member.
      this.store.client.leaseClient.leaseKeepAlive(this.store.callOptions(deadline - 20)),
    );
    const answer = new Promise<number>((resolve, reject) => {
      stream.on('data', (res) => resolve(Number(res.TTL)));
      stream.on('error', reject);
      stream.on('end', () => reject(new Error('keepalive stream ended without an answer')));
    });
    stream.write({ ID: this.leaseId });
    try {
      return await withDeadline(this.store.clock, deadline, 'lease keepalive', answer);
    } finally {
      stream.on('error', () => undefined); // a late cancel error must not crash the process
      stream.end();
    }
  }

  private expireLocally(): void {
    this.end(
      new SessionExpiredError(
        `session: lease ${this.leaseId} can no longer be proven alive (no keepalive acknowledged in time)`,
      ),
    );
    void this.revokeAbandoned();
  }

  /**
   * Release the keys of a session we gave up on, as soon as etcd answers again. Otherwise our
   * stale election key makes every candidate, our own next session included, wait for the
   * server to expire it, and etcd extends every lease by its full TTL when it elects a new
   * leader, which is exactly what happens after a stall. Retried for a few TTLs, each attempt
   * bounded; timers do not keep the process alive.
   */
  private async revokeAbandoned(): Promise<void> {
    const giveUpAt = this.store.clock.now() + 3 * this.ttlMs;
    while (this.store.clock.now() < giveUpAt) {
      const deadline = this.store.clock.now() + Math.min(1000, this.ttlMs / 3);
      try {
        await this.store.client.leaseClient.leaseRevoke(
          { ID: this.leaseId },
          this.store.callOptions(deadline),
        );
        this.log.info('abandoned lease revoked');
        return;
      } catch (err) {
        const converted = this.store.convertError(err, 'lease revoke');
        if (converted instanceof LeaseLostError) return; // already gone at the server
        if (err instanceof etcd3.ClientClosedError) return; // the client was closed: shutting down
      }
      await new Promise((resolve) => setTimeout(resolve, REVOKE_RETRY_MS).unref());
    }
  }

  private end(reason: Error): void {
    if (this.signal.aborted) return;
    this.stopTimers();
    // A lease the server revoked is invalid now, whatever our arithmetic said.
    this.validUntilMs = Math.min(this.validUntilMs, this.store.clock.now());
    this.log.warn({ reason: reason.message }, 'session ended');
    this.controller.abort(reason);
  }
}
