import { describe, expect, it } from 'vitest';
import type { NodeObservation } from '../../../src/core/index.js';
import { clusterKeys } from '../../../src/coordinator/keys.js';
import type { Clock, Session } from '../../../src/coordinator/ports.js';
import { ReportPublisher } from '../../../src/coordinator/publisher.js';
import { ReportBatch } from '../../../src/coordinator/report-batch.js';
import type { PublishedReport } from '../../../src/coordinator/records.js';
import { ProcessGate } from '../../sim/process-gate.js';
import { Prng } from '../../sim/prng.js';
import { Scheduler } from '../../sim/scheduler.js';
import { SimEtcd } from '../../sim/sim-etcd.js';

function setup() {
  const sched = new Scheduler();
  const etcd = new SimEtcd(sched, new Prng(3));
  const store = etcd.client('a', new ProcessGate(), 300);
  const clock: Clock = { now: () => sched.now(), wallNow: () => sched.now(), sleep: () => Promise.resolve() };
  const publisher = new ReportPublisher(store, clusterKeys('orders'), clock, 2000, () => 500, 1000);
  const session = (leaseId: string): Session => ({
    leaseId,
    ttlMs: 3000,
    marginMs: 300,
    validUntil: () => Infinity,
    signal: new AbortController().signal,
    close: () => Promise.resolve(),
  });
  return { sched, etcd, publisher, session };
}

function report(node: Partial<NodeObservation>): PublishedReport {
  return {
    coordinator: 'a',
    colo: 'a',
    publishedAt: 0,
    nodes: [
      {
        node: 'm-a',
        reachable: true,
        health: 'up',
        readOnly: false,
        executedGtids: '1-1-1',
        observedAt: 0,
        ...node,
      },
    ],
  };
}

describe('ReportPublisher', () => {
  it('writes on a change that matters, not on GTID movement, and refreshes slowly', async () => {
    const { sched, etcd, publisher, session } = setup();
    const lease = etcd.grantLease(60_000);
    const s = session(lease);
    expect(await publisher.publish(report({}), s)).toBeDefined();
    expect(await publisher.publish(report({ executedGtids: '1-1-9', lagMs: 3 }), s)).toBeUndefined();
    expect(await publisher.publish(report({ readOnly: true }), s)).toBeDefined();
    await sched.runUntil(1999);
    expect(await publisher.publish(report({ readOnly: true }), s)).toBeUndefined();
    await sched.runUntil(2000);
    expect(await publisher.publish(report({ readOnly: true }), s)).toBeDefined();
    expect(etcd.get('/baton/orders/observations/a')?.lease).toBe(lease);
  });

  it('writes when a replica channel falls silent past the bound or is fed again, not as it ages', async () => {
    const { etcd, publisher, session } = setup();
    const s = session(etcd.grantLease(60_000));
    const fedAgo = (receivedAgoMs: number) =>
      report({
        readOnly: true,
        replication: [
          {
            source: 'm-b',
            sourceHost: 'h',
            sourcePort: 1,
            ioState: 'yes',
            sqlRunning: true,
            retrievedGtids: '2-2-5',
            receivedAgoMs,
          },
        ],
      });
    expect(await publisher.publish(fedAgo(0), s)).toBeDefined();
    expect(await publisher.publish(fedAgo(600), s)).toBeUndefined();
    expect(await publisher.publish(fedAgo(1000), s)).toBeUndefined();
    expect(await publisher.publish(fedAgo(1001), s)).toBeDefined();
    expect(await publisher.publish(fedAgo(1500), s)).toBeUndefined();
    expect(await publisher.publish(fedAgo(0), s)).toBeDefined();
  });

  it('writes again under a new lease, and knows which lease its report lives under', async () => {
    const { etcd, publisher, session } = setup();
    const first = etcd.grantLease(60_000);
    await publisher.publish(report({}), session(first));
    expect(publisher.publishedUnder(first)).toBe(true);
    const second = etcd.grantLease(60_000);
    expect(publisher.publishedUnder(second)).toBe(false);
    expect(await publisher.publish(report({}), session(second))).toBeDefined();
    expect(publisher.publishedUnder(second)).toBe(true);
  });

  it("hands an unchanged report's refresh to the process batch and puts a change at once", async () => {
    const { sched, etcd, session } = setup();
    const store = etcd.client('a', new ProcessGate(), 300);
    const clock: Clock = {
      now: () => sched.now(),
      wallNow: () => sched.now(),
      sleep: () => Promise.resolve(),
    };
    const batch = new ReportBatch(store, clock, 200, () => 500);
    const stored: number[] = [];
    const publisher = new ReportPublisher(store, clusterKeys('orders'), clock, 2000, () => 500, 1000, {
      batch,
      stored: (_report, revision) => stored.push(revision),
    });
    const s = session(etcd.grantLease(60_000));
    const key = '/baton/orders/observations/a';
    expect(await publisher.publish(report({}), s)).toBeDefined();
    await sched.runUntil(2000);
    expect(await publisher.publish(report({ executedGtids: '1-1-5' }), s)).toBeUndefined();
    expect(JSON.parse(etcd.get(key)?.value ?? '{}').nodes[0].executedGtids).toBe('1-1-1');
    // Queued once: the next call within the refresh period queues nothing more.
    expect(await publisher.publish(report({ executedGtids: '1-1-6' }), s)).toBeUndefined();
    await batch.flush();
    await Promise.resolve();
    expect(stored).toEqual([etcd.get(key)?.modRevision]);
    expect(JSON.parse(etcd.get(key)?.value ?? '{}').nodes[0].executedGtids).toBe('1-1-5');
    const changed = await publisher.publish(report({ readOnly: true }), s);
    expect(changed).toBe(etcd.get(key)?.modRevision);
  });
});
