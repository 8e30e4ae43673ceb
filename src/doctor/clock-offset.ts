/**
 * How far another machine's clock is from this host's, from timed requests. Each answer that
 * carries the other side's time bounds the offset (their clock minus ours): the answer was made
 * somewhere between our send and our receipt, so every sample gives an interval, and the offset
 * lies in all of them. The intersection is as tight as the best round trip (RTT/2 either way)
 * and needs no assumption that the network is symmetric.
 *
 * An HTTP `Date` header has whole seconds only: alone it bounds the offset to a second, but two
 * answers either side of the other side's second boundary pin it to the time between them, so
 * requests a few tens of milliseconds apart for a little over a second measure it to about that.
 *
 * Pure: times in, bounds out.
 */

export interface ClockOffset {
  /** Their clock minus ours, ms: the middle of the interval the samples leave. */
  offsetMs: number;
  /** Half the interval's width: the offset is within offsetMs ± uncertaintyMs. */
  uncertaintyMs: number;
  samples: number;
}

export interface TimedSample {
  /** Our wall clock when the request left, ms (Date.now(): whole milliseconds). */
  sentAt: number;
  /** Our wall clock when the whole answer was in, ms (Date.now()). */
  receivedAt: number;
}

/** Date.now() truncates: a reading of t means a moment in [t, t + 1 ms). */
const OUR_RESOLUTION_MS = 1;

/** An answer carrying the other side's time to the millisecond or better (MySQL NOW(6)). */
export interface TimestampSample extends TimedSample {
  remoteMs: number;
}

/** An answer carrying the other side's time truncated to the second (an HTTP Date header). */
export interface SecondSample extends TimedSample {
  /** The header's time, ms since the epoch (a whole second). */
  remoteSecondMs: number;
}

interface Interval {
  lo: number;
  hi: number;
}

function intersect(intervals: readonly Interval[]): Interval | undefined {
  if (intervals.length === 0) return undefined;
  const lo = Math.max(...intervals.map((i) => i.lo));
  const hi = Math.min(...intervals.map((i) => i.hi));
  return lo <= hi ? { lo, hi } : undefined;
}

function fromInterval(interval: Interval, samples: number): ClockOffset {
  return {
    offsetMs: (interval.lo + interval.hi) / 2,
    uncertaintyMs: (interval.hi - interval.lo) / 2,
    samples,
  };
}

/**
 * The offset from precise timestamps. When the intervals do not overlap (a clock stepped
 * between samples) the sample with the shortest round trip alone decides.
 */
export function offsetFromTimestamps(samples: readonly TimestampSample[]): ClockOffset | undefined {
  const valid = samples.filter((s) => s.receivedAt >= s.sentAt && Number.isFinite(s.remoteMs));
  if (valid.length === 0) return undefined;
  const intervals = valid.map((s) => ({
    lo: s.remoteMs - s.receivedAt - OUR_RESOLUTION_MS,
    hi: s.remoteMs - s.sentAt,
  }));
  const both = intersect(intervals);
  if (both) return fromInterval(both, valid.length);
  const best = valid.reduce((a, b) => (b.receivedAt - b.sentAt < a.receivedAt - a.sentAt ? b : a));
  return fromInterval(
    { lo: best.remoteMs - best.receivedAt - OUR_RESOLUTION_MS, hi: best.remoteMs - best.sentAt },
    1,
  );
}

/**
 * The offset from whole-second timestamps: the answer was made within [second, second + 1 s).
 * Undefined when the samples contradict each other (a clock stepped while we sampled).
 */
export function offsetFromSeconds(samples: readonly SecondSample[]): ClockOffset | undefined {
  const valid = samples.filter((s) => s.receivedAt >= s.sentAt && Number.isFinite(s.remoteSecondMs));
  const both = intersect(
    valid.map((s) => ({
      lo: s.remoteSecondMs - s.receivedAt - OUR_RESOLUTION_MS,
      hi: s.remoteSecondMs + 1000 - s.sentAt,
    })),
  );
  return both ? fromInterval(both, valid.length) : undefined;
}
