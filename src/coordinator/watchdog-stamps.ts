/**
 * This coordinator's stamps on the writers' watchdogs (DESIGN.md "Watchdog"): the hold each
 * stamp may give, from our own lease, and for each node the time by which every stamp we ever
 * sent it has run out. The leader consults that before promoting away from a writer without
 * its guardian's promise: a stamp of ours may still keep that writer open until then.
 */

import { planWatchdogHold, type MonoMs } from '../core/index.js';
import type { LeaseDeadline } from './lease-deadline.js';
import type { Clock, Database, WatchdogHold } from './ports.js';

export class WatchdogStamps {
  private readonly closedBy = new Map<string, MonoMs>();

  constructor(
    private readonly clock: Clock,
    private readonly lease: LeaseDeadline,
    /** clusters[].watchdog: off, we never vouch (the heartbeat still goes). */
    private readonly enabled: boolean,
  ) {}

  /**
   * The hold for a stamp on `node` we are about to send with `statementTimeoutMs`, recorded as
   * sent; undefined unless our lease is provably alive and leaves enough for one (then the
   * write carries no hold).
   */
  private issue(node: string, statementTimeoutMs: number, maxHoldMs: number): WatchdogHold | undefined {
    if (!this.enabled || !this.lease.valid()) return undefined;
    const plan = planWatchdogHold({
      now: this.clock.now(),
      leaseExpiresNoEarlierThan: this.lease.expiresNoEarlierThan(),
      statementTimeoutMs,
      maxHoldMs,
    });
    if (!plan) return undefined;
    this.closedBy.set(node, Math.max(this.closedBy.get(node) ?? -Infinity, plan.closedBy));
    return { holdMs: plan.holdMs };
  }

  /**
   * Write `node`'s heartbeat, vouching for it with a hold when our lease allows one; without a
   * hold, a plain heartbeat (lag only) unless `onlyWithHold`. Bounded by our lease.
   */
  async heartbeat(
    db: Database,
    node: string,
    statementTimeoutMs: number,
    maxHoldMs: number,
    onlyWithHold: boolean,
  ): Promise<void> {
    const hold = this.issue(node, statementTimeoutMs, maxHoldMs);
    if (!hold && onlyWithHold) return;
    await db.writeHeartbeat(this.lease.boundedDeadline(statementTimeoutMs), hold);
  }

  /**
   * Open writes on `node`, stamping its watchdog first when our lease allows a hold. The stamp
   * has a deadline of its own, `stampTimeoutMs`, and the hold is cut for it: cut for the whole
   * open's deadline instead, a far writer's hold came out empty, and its event closed it on an
   * old deadline the moment it opened (measured at 35 ms one-way: a second outage of 1.4 s).
   */
  async openWrites(
    db: Database,
    node: string,
    timeoutMs: number,
    stampTimeoutMs: number,
    maxHoldMs: number,
    committed?: Promise<void>,
  ): Promise<void> {
    const stampBy = this.clock.now() + stampTimeoutMs;
    const hold = this.issue(node, stampTimeoutMs, maxHoldMs);
    // Opened without a hold, its event would close it on the last deadline it has, at once.
    if (this.enabled && !hold) {
      throw new Error(`open writes on ${node}: our lease leaves no watchdog hold; its guardian opens it`);
    }
    await db.openWrites(this.lease.boundedDeadline(timeoutMs), hold && { ...hold, stampBy }, committed);
  }

  /** When our stamps on `node` have all run out (-Infinity: we never stamped it). */
  heldUntil(node: string): MonoMs {
    return this.closedBy.get(node) ?? -Infinity;
  }
}
