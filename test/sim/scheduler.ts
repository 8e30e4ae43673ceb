/**
 * Virtual time. A binary heap of timers ordered by (time, insertion order); the run loop jumps
 * straight to the next timer instead of waiting, so a minute of cluster life costs a few
 * thousand callbacks. Between two instants the run loop lets every promise chain settle
 * (one setImmediate: Node runs the whole microtask queue before the check phase), which is
 * what makes async code under test advance deterministically without real timers.
 */

export type TimerId = number;

interface Timer {
  id: TimerId;
  at: number;
  seq: number;
  fire: () => void;
}

export class Scheduler {
  private heap: Timer[] = [];
  private cancelled = new Set<TimerId>();
  private seq = 0;
  private current = 0;

  now(): number {
    return this.current;
  }

  /** Run `fire` at virtual time `at` (never earlier than now). */
  at(at: number, fire: () => void): TimerId {
    const timer: Timer = { id: ++this.seq, at: Math.max(at, this.current), seq: this.seq, fire };
    this.push(timer);
    return timer.id;
  }

  after(ms: number, fire: () => void): TimerId {
    return this.at(this.current + Math.max(0, ms), fire);
  }

  cancel(id: TimerId): void {
    this.cancelled.add(id);
  }

  /** Time of the next live timer, if any. */
  peekTime(): number | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0] as Timer;
      if (!this.cancelled.has(top.id)) return top.at;
      this.pop();
      this.cancelled.delete(top.id);
    }
    return undefined;
  }

  /** Fire every timer due at the next instant (including ones they schedule for that instant). */
  fireNextInstant(): boolean {
    const next = this.peekTime();
    if (next === undefined) return false;
    this.current = next;
    while (this.heap.length > 0 && (this.heap[0] as Timer).at <= this.current) {
      const timer = this.pop();
      if (this.cancelled.delete(timer.id)) continue;
      timer.fire();
    }
    return true;
  }

  /**
   * Advance virtual time to `until`, settling promise chains after each instant. `afterInstant`
   * runs once everything at an instant has settled (where the checkers sample).
   */
  async runUntil(until: number, afterInstant?: () => void): Promise<void> {
    await settle();
    for (;;) {
      const next = this.peekTime();
      if (next === undefined || next > until) break;
      this.fireNextInstant();
      await settle();
      afterInstant?.();
    }
    this.current = Math.max(this.current, until);
  }

  private push(timer: Timer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(heap[i] as Timer, heap[parent] as Timer)) break;
      [heap[i], heap[parent]] = [heap[parent] as Timer, heap[i] as Timer];
      i = parent;
    }
  }

  private pop(): Timer {
    const heap = this.heap;
    const top = heap[0] as Timer;
    const last = heap.pop() as Timer;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && earlier(heap[l] as Timer, heap[m] as Timer)) m = l;
        if (r < heap.length && earlier(heap[r] as Timer, heap[m] as Timer)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m] as Timer, heap[i] as Timer];
        i = m;
      }
    }
    return top;
  }
}

function earlier(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** Let every pending promise chain run to completion (setImmediate fires after the microtask queue drains). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
