/**
 * ReportBatch: refreshes of many clusters go out in few txns, per key in the order given, and a
 * change (putNow) neither waits for the batch nor is overwritten by an older queued refresh.
 */
import { describe, expect, it } from 'vitest';
import type { Clock, Op, Store } from '../../../src/coordinator/ports.js';
import { MAX_OPS_PER_TXN, ReportBatch } from '../../../src/coordinator/report-batch.js';

type Write = { kind: 'txn' | 'put'; puts: { key: string; value: string }[]; revision: number };

/** A store whose writes complete when the test says so (release), in the order they arrive. */
class RecordingStore {
  revision = 100;
  writes: Write[] = [];
  data = new Map<string, string>();
  private held: (() => void)[] = [];
  hold = false;
  failNext = false;

  private complete(kind: Write['kind'], puts: Write['puts']): Promise<number> {
    const apply = (): number => {
      this.revision += 1;
      for (const p of puts) this.data.set(p.key, p.value);
      this.writes.push({ kind, puts, revision: this.revision });
      return this.revision;
    };
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('etcdserver: requested lease not found'));
    }
    if (!this.hold) return Promise.resolve(apply());
    return new Promise((resolve) => this.held.push(() => resolve(apply())));
  }

  release(): void {
    for (const run of this.held.splice(0)) run();
  }

  asStore(): Store {
    return {
      put: (key: string, value: string) => this.complete('put', [{ key, value }]),
      txn: async (_compares: unknown[], ops: Op[]) => ({
        succeeded: true,
        revision: await this.complete(
          'txn',
          ops.map((op) => ('put' in op ? { key: op.put, value: op.value } : { key: '?', value: '?' })),
        ),
      }),
    } as unknown as Store;
  }
}

const clock: Clock = { now: () => 0, wallNow: () => 0, sleep: () => Promise.resolve() };

function setup() {
  const store = new RecordingStore();
  const batch = new ReportBatch(store.asStore(), clock, 200, () => 500);
  return { store, batch };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ReportBatch', () => {
  it('writes the refreshes of 250 clusters in three txns, each caller told its revision', async () => {
    const { store, batch } = setup();
    const results = Array.from({ length: 250 }, (_, i) =>
      batch.refresh(`/baton/c${i}/observations/a`, `r${i}`, 'lease-1'),
    );
    await batch.flush();
    expect(store.writes.map((w) => [w.kind, w.puts.length])).toEqual([
      ['txn', MAX_OPS_PER_TXN],
      ['txn', MAX_OPS_PER_TXN],
      ['txn', 50],
    ]);
    const revisions = await Promise.all(results);
    expect(revisions[0]).toBe(store.writes.find((w) => w.puts.some((p) => p.value === 'r0'))?.revision);
    expect(store.data.get('/baton/c249/observations/a')).toBe('r249');
  });

  it('keeps only the newest queued value of a key; the older caller learns it was superseded', async () => {
    const { store, batch } = setup();
    const older = batch.refresh('/k', 'old', 'l');
    const newer = batch.refresh('/k', 'new', 'l');
    await batch.flush();
    expect(await older).toBeUndefined();
    expect(await newer).toBe(store.revision);
    expect(store.writes).toHaveLength(1);
    expect(store.data.get('/k')).toBe('new');
  });

  it('putNow writes at once and drops a queued refresh of the key', async () => {
    const { store, batch } = setup();
    const queued = batch.refresh('/k', 'refresh', 'l');
    await batch.putNow('/k', 'change', 500, 'l');
    await batch.flush();
    expect(await queued).toBeUndefined();
    expect(store.writes.map((w) => w.kind)).toEqual(['put']);
    expect(store.data.get('/k')).toBe('change');
  });

  it('putNow waits for a flush in flight that carries its key, so the change lands last', async () => {
    const { store, batch } = setup();
    void batch.refresh('/k', 'refresh', 'l');
    store.hold = true;
    const flushing = batch.flush();
    await tick();
    const change = batch.putNow('/k', 'change', 500, 'l');
    await tick();
    expect(store.writes).toHaveLength(0);
    store.hold = false;
    store.release();
    await flushing;
    await change;
    expect(store.writes.map((w) => w.kind)).toEqual(['txn', 'put']);
    expect(store.data.get('/k')).toBe('change');
  });

  it('leaves a key queued while a putNow of it is in flight', async () => {
    const { store, batch } = setup();
    store.hold = true;
    const change = batch.putNow('/k', 'change', 500, 'l');
    await tick();
    const later = batch.refresh('/k', 'later', 'l');
    void batch.refresh('/other', 'x', 'l');
    store.hold = false;
    await batch.flush();
    expect(store.writes.map((w) => w.puts.map((p) => p.key))).toEqual([['/other']]);
    store.release();
    await change;
    await batch.flush();
    expect(await later).toBe(store.revision);
    expect(store.data.get('/k')).toBe('later');
  });

  it('rejects every caller of a failed txn, so each retries', async () => {
    const { store, batch } = setup();
    const a = batch.refresh('/a', '1', 'gone');
    const b = batch.refresh('/b', '1', 'gone');
    store.failNext = true;
    await batch.flush();
    await expect(a).rejects.toThrow(/lease not found/);
    await expect(b).rejects.toThrow(/lease not found/);
  });
});
