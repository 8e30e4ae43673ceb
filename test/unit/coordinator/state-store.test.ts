import { describe, expect, it } from 'vitest';
import type { PersistedState } from '../../../src/core/index.js';
import { clusterKeys } from '../../../src/coordinator/keys.js';
import { ClusterStateStore } from '../../../src/coordinator/state-store.js';
import { ProcessGate } from '../../sim/process-gate.js';
import { Prng } from '../../sim/prng.js';
import { Scheduler } from '../../sim/scheduler.js';
import { SimEtcd } from '../../sim/sim-etcd.js';
import { CLUSTER, COORDINATORS } from '../../sim/world.js';

const keys = clusterKeys('orders');

describe('ClusterStateStore', () => {
  it('writes only what changed, and deletes a removed pin', () => {
    const state = new ClusterStateStore(
      new SimEtcd(new Scheduler(), new Prng(1)).client('a', new ProcessGate(), 300),
      keys,
    );
    const current: PersistedState = {
      pin: { by: 'op', at: 1, reason: 'pin-requested' },
      antiFlap: { failoverTimes: [] },
      quarantine: {},
    };
    expect(state.persistOps(current, current)).toEqual([]);
    const next: PersistedState = { antiFlap: { failoverTimes: [5], cooldownUntil: 9 }, quarantine: {} };
    expect(state.persistOps(current, next)).toEqual([
      { delete: keys.pin },
      { put: keys.cooldown, value: JSON.stringify(next.antiFlap) },
    ]);
  });

  it('reads a snapshot: live reports by lease, guardians per database colo, unreadable records reported', async () => {
    const sched = new Scheduler();
    const etcd = new SimEtcd(sched, new Prng(1));
    const client = etcd.client('a', new ProcessGate(), 300);
    const state = new ClusterStateStore(client, keys);
    const lease = etcd.grantLease(5000);
    etcd.txn(
      [],
      [
        {
          put: keys.writer,
          value: JSON.stringify({ node: 'm-a', epoch: 2, since: 0, reason: 'bootstrap-writer' }),
        },
        { put: keys.pin, value: 'not json' },
        {
          put: keys.observation('a'),
          value: JSON.stringify({ coordinator: 'a', colo: 'a', publishedAt: 0, nodes: [], guardian: {} }),
          lease,
        },
      ],
    );
    const view = await state.read(1000);
    expect(view.writer?.epoch).toBe(2);
    expect(view.pin).toBeUndefined();
    expect(view.unreadable).toHaveLength(1);
    const snapshot = state.snapshot(view, CLUSTER, COORDINATORS, 100);
    expect(snapshot.reports.map((r) => r.coordinator)).toEqual(['a']);
    expect(snapshot.guardians).toEqual({
      a: { coordinator: 'a', sessionAlive: true },
      b: { coordinator: 'b', sessionAlive: false },
    });
    await sched.runUntil(6000);
    const later = state.snapshot(await state.read(7000), CLUSTER, COORDINATORS, 200);
    expect(later.guardians.a?.sessionAlive).toBe(false);
  });

  it('reads the journal strictly before the writer record, so it never pairs an old writer with a newer journal', async () => {
    const calls: string[] = [];
    const etcd = new SimEtcd(new Scheduler(), new Prng(1));
    const inner = etcd.client('a', new ProcessGate(), 300);
    let inFlight = 0;
    const recording = Object.create(inner) as typeof inner;
    recording.get = async (key, deadline) => {
      calls.push(`${inFlight > 0 ? 'parallel ' : ''}${key.slice(keys.root.length)}`);
      inFlight++;
      try {
        return await inner.get(key, deadline);
      } finally {
        inFlight--;
      }
    };
    const state = new ClusterStateStore(recording, keys);
    await state.readWriter(1000);
    expect(calls).toEqual(['operation', 'writer']);
    calls.length = 0;
    await state.read(1000);
    expect(calls[0]).toBe('operation');
    expect(calls.slice(1)).toContain('writer');
  });
});
