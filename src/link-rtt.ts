/**
 * Round-trip time of one network link, as TCP estimates it (RFC 6298): a smoothed RTT and its
 * variation from measured round trips, giving the time one more round trip may take before it
 * counts as lost. Deadlines built from it stretch with the link: a probe of a server 80 ms away
 * gets its 160 ms round trip on top of the configured allowance, instead of timing out on every
 * reconnect (issue 11: at 60 ms one-way a connect takes about 700 ms, and the old fixed 150 ms
 * deadline never let a remote observer reconnect).
 *
 * Pure arithmetic over measured durations: no clock, no timers.
 */

/** RFC 6298: before the first sample, allow a second per round trip. */
export const INITIAL_ROUND_TRIP_MS = 1000;
/** After a lost round trip the allowance doubles once (TCP backs off; a latency spike then costs
 * one failed probe, not every one until the estimate catches up). */
const MAX_BACKOFF = 2;
/** The variation term never goes below this: timer and event-loop granularity on a busy host. */
const MIN_VARIATION_MS = 5;

export class LinkRtt {
  private smoothed: number | undefined;
  private variation = 0;
  private backoff = 1;

  /** A round trip that completed in `ms` (from sending a request to its whole answer). */
  sample(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    if (this.smoothed === undefined) {
      this.smoothed = ms;
      this.variation = ms / 2;
    } else {
      this.variation = 0.75 * this.variation + 0.25 * Math.abs(this.smoothed - ms);
      this.smoothed = 0.875 * this.smoothed + 0.125 * ms;
    }
    this.backoff = 1;
  }

  /** A round trip that did not complete in time. */
  lost(): void {
    this.backoff = Math.min(MAX_BACKOFF, this.backoff * 2);
  }

  /** The smoothed RTT (undefined before the first sample). */
  smoothedMs(): number | undefined {
    return this.smoothed;
  }

  /** How long one more round trip may take before it counts as lost (TCP's RTO). */
  allowanceMs(): number {
    if (this.smoothed === undefined) return INITIAL_ROUND_TRIP_MS * this.backoff;
    return Math.ceil((this.smoothed + 4 * Math.max(MIN_VARIATION_MS, this.variation)) * this.backoff);
  }
}
