/**
 * One lease per process, whatever the number of clusters it coordinates.
 *
 * Every cluster loop of a `baton run` process proves the same thing with its session: that this
 * process still talks to etcd. A lease per cluster proved it once per cluster: at 200 clusters,
 * 1,200 keepalive streams a second to say what 6 say, and a starved process failed 200 sessions
 * at once and granted 200 new ones (docs/scale.md). Here every cluster holds the same
 * EtcdSession: one keepalive schedule, one expiry, one grant after a loss. The cost is a blast
 * radius that was already there: the clusters of one process share its etcd connections and
 * its event loop, so their leases lapsed together anyway.
 *
 * A holder that closes releases only its hold; the last one revokes the lease. A dead session
 * stays dead (session.ts): the next `acquire` grants a new lease, one grant in flight at a time
 * for all clusters, and after a failed grant none is tried again before a short backoff, so a
 * process that cannot reach etcd does not hammer it from every cluster loop.
 */
import type { Clock, MonoMs } from '../coordinator/ports.js';
import { withDeadline } from '../deadline.js';
import { StoreUnavailableError } from './errors.js';
import type { EtcdSession } from './session.js';

/** The first wait after a failed grant; doubled per consecutive failure up to the cap. */
export const GRANT_BACKOFF_MIN_MS = 100;
/** Never wait longer than this (nor a quarter TTL) between grants: a healed link is used soon. */
export const GRANT_BACKOFF_MAX_MS = 1_000;

interface Slot {
  current?: EtcdSession;
  /** The grant's own hold (a new session starts with one) is not yet given to a caller. */
  unclaimed: boolean;
  pending?: Promise<EtcdSession>;
  failures: number;
  nextGrantAt: MonoMs;
}

export class SessionShare {
  /** By TTL: clusters with other timings get a lease of their own TTL. */
  private readonly slots = new Map<number, Slot>();

  constructor(
    private readonly clock: Clock,
    private readonly grant: (ttlMs: number, deadline: MonoMs) => Promise<EtcdSession>,
  ) {}

  /** The live shared session for this TTL (one more hold on it), or a new one. */
  async acquire(ttlMs: number, deadline: MonoMs): Promise<EtcdSession> {
    const slot = this.slot(ttlMs);
    if (slot.current && !slot.current.signal.aborted) return this.hold(slot, slot.current);
    if (!slot.pending) {
      const now = this.clock.now();
      if (now < slot.nextGrantAt) {
        throw new StoreUnavailableError(
          `session: the last lease grant failed; next attempt in ${Math.ceil(slot.nextGrantAt - now)} ms`,
        );
      }
      // The grant itself may run for half a TTL, past its first caller's deadline: on a new
      // connection it carries the TLS handshake and the etcd login (a bcrypt check on the
      // server), measured at 0.65-0.95 s on the loaded lab host against a 0.5 s call deadline.
      // Cut at each caller's deadline, every attempt began again and the backoff doubled: the
      // secure lab's coordinators took over 4 s to their first session. A grant that ends after
      // its waiters left is kept for the next acquire (grantInto).
      slot.pending = this.grantInto(slot, ttlMs, Math.max(deadline, now + ttlMs / 2));
    }
    // A caller with a nearer deadline than the grant in flight stops waiting at its own.
    const session = await withDeadline(this.clock, deadline, 'lease grant', slot.pending);
    return this.hold(slot, session);
  }

  private hold(slot: Slot, session: EtcdSession): EtcdSession {
    if (slot.current === session && slot.unclaimed) {
      slot.unclaimed = false;
      return session;
    }
    return session.retain();
  }

  private slot(ttlMs: number): Slot {
    let slot = this.slots.get(ttlMs);
    if (!slot) {
      slot = { failures: 0, nextGrantAt: -Infinity, unclaimed: false };
      this.slots.set(ttlMs, slot);
    }
    return slot;
  }

  private async grantInto(slot: Slot, ttlMs: number, deadline: MonoMs): Promise<EtcdSession> {
    try {
      // A grant whose waiters all gave up at their deadlines is kept: the next acquire claims it.
      const session = await this.grant(ttlMs, deadline);
      slot.current = session;
      slot.unclaimed = true;
      slot.failures = 0;
      slot.nextGrantAt = -Infinity;
      return session;
    } catch (error) {
      slot.failures += 1;
      const backoff = Math.min(
        GRANT_BACKOFF_MIN_MS * 2 ** (slot.failures - 1),
        GRANT_BACKOFF_MAX_MS,
        ttlMs / 4,
      );
      slot.nextGrantAt = this.clock.now() + backoff;
      throw error;
    } finally {
      slot.pending = undefined;
    }
  }
}
