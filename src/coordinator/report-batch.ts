/**
 * The reports' periodic refreshes of every cluster a process coordinates, written together.
 *
 * A report is rewritten every publishRefreshMs even when nothing changed: its age is how a
 * leader knows the observer behind it is alive and its GTID positions current (core/health.ts
 * liveReports). One put per cluster per coordinator per second was most of etcd's writes at
 * scale (docs/scale.md: about 600 a second at 200 clusters). Refreshes wait here instead and go
 * out every `flushEveryMs` in one txn per MAX_OPS_PER_TXN puts: a few etcd writes a second per
 * process, whatever the cluster count. A change that matters does not wait (`putNow`).
 *
 * Per key, values reach etcd in the order they were given: a newer value replaces a queued one
 * (whose caller learns it was superseded), flushes run one at a time, `putNow` waits for a
 * flush in flight that carries its key before it writes, and a flush leaves a key alone while a
 * `putNow` of it is in flight.
 */
import type { Clock, MonoMs, Op, Store } from './ports.js';

/** etcd refuses a txn of more than --max-txn-ops operations (128 by default). */
export const MAX_OPS_PER_TXN = 100;

interface Queued {
  value: string;
  lease: string;
  settle: (revision: number | undefined, error?: Error) => void;
}

export class ReportBatch {
  private readonly queue = new Map<string, Queued>();
  private inFlight: { keys: Set<string>; done: Promise<void> } | undefined;
  /** Keys with a putNow in flight: a refresh of them waits for the next flush. */
  private readonly direct = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly flushEveryMs: number,
    /** The etcd call allowance now (configured floor plus the measured latency). */
    private readonly timeoutMs: () => number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.flushEveryMs);
    this.timer.unref();
  }

  /** Stops the timer; what is still queued is dropped (its callers see it superseded). */
  stop(): void {
    clearInterval(this.timer);
    for (const queued of this.queue.values()) queued.settle(undefined);
    this.queue.clear();
  }

  /**
   * Queue a refresh. Resolves with the revision it was stored at, or undefined when a newer value
   * for the key replaced it first; rejects when its txn failed.
   */
  refresh(key: string, value: string, lease: string): Promise<number | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.get(key)?.settle(undefined);
      this.queue.set(key, {
        value,
        lease,
        settle: (revision, error) => (error ? reject(error) : resolve(revision)),
      });
    });
  }

  /** Write now, after anything already sent for this key; a queued refresh of it is dropped. */
  async putNow(key: string, value: string, deadline: MonoMs, lease: string): Promise<number> {
    this.queue.get(key)?.settle(undefined);
    this.queue.delete(key);
    this.direct.set(key, (this.direct.get(key) ?? 0) + 1);
    try {
      const flight = this.inFlight;
      if (flight?.keys.has(key)) await flight.done;
      return await this.store.put(key, value, deadline, lease);
    } finally {
      const left = (this.direct.get(key) ?? 1) - 1;
      if (left > 0) this.direct.set(key, left);
      else this.direct.delete(key);
    }
  }

  /** Send everything queued, in txns of at most MAX_OPS_PER_TXN puts; one flush at a time. */
  async flush(): Promise<void> {
    if (this.inFlight || this.queue.size === 0) return;
    const batch = [...this.queue.entries()].filter(([key]) => !this.direct.has(key));
    if (batch.length === 0) return;
    for (const [key] of batch) this.queue.delete(key);
    const chunks: (typeof batch)[] = [];
    for (let i = 0; i < batch.length; i += MAX_OPS_PER_TXN) chunks.push(batch.slice(i, i + MAX_OPS_PER_TXN));
    const deadline = this.clock.now() + this.timeoutMs();
    const done = Promise.all(
      chunks.map(async (chunk) => {
        const ops: Op[] = chunk.map(([key, q]) => ({ put: key, value: q.value, lease: q.lease }));
        try {
          const { revision } = await this.store.txn([], ops, deadline);
          for (const [, q] of chunk) q.settle(revision);
        } catch (error) {
          for (const [, q] of chunk) q.settle(undefined, error as Error);
        }
      }),
    ).then(() => undefined);
    this.inFlight = { keys: new Set(batch.map(([key]) => key)), done };
    try {
      await done;
    } finally {
      this.inFlight = undefined;
    }
  }
}
