/**
 * Invariant 3: lease validity is ours to compute. Every side effect asks this object right
 * before it runs; the answer is only "yes" while now < session.validUntil() (send time of the
 * last acknowledged keepalive + TTL - margin, on the monotonic clock).
 */

import { LeaseExpiredError } from './errors.js';
import type { Clock, MonoMs, Session } from './ports.js';

export class LeaseDeadline {
  constructor(
    private readonly clock: Clock,
    private readonly currentSession: () => Session | undefined,
  ) {}

  /** Monotonic time until which our lease is provably alive (-Infinity without a session). */
  validUntil(): MonoMs {
    return this.liveSession()?.validUntil() ?? -Infinity;
  }

  /** The earliest the server can expire our lease (-Infinity without a session): what a
   * watchdog hold must end by, since only then may another coordinator act on its expiry. */
  expiresNoEarlierThan(): MonoMs {
    const session = this.liveSession();
    return session === undefined ? -Infinity : session.validUntil() + session.marginMs;
  }

  private liveSession(): Session | undefined {
    const session = this.currentSession();
    return session === undefined || session.signal.aborted ? undefined : session;
  }

  valid(): boolean {
    return this.clock.now() < this.validUntil();
  }

  /** Throws LeaseExpiredError unless the lease is provably alive right now. */
  require(what: string): void {
    if (!this.valid()) throw new LeaseExpiredError(what);
  }

  /** A deadline for a leader call: the call's own timeout, but never past the lease. */
  boundedDeadline(timeoutMs: number): MonoMs {
    return Math.min(this.clock.now() + timeoutMs, this.validUntil());
  }
}
