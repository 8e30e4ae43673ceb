import { describe, expect, it } from 'vitest';
import type { PersistedState } from '../../../src/core/index.js';
import { clusterKeys } from '../../../src/coordinator/keys.js';
import {
  ClusterStateStore,
  HISTORY_KEEP_COUNT,
  RESOLVED_INTENT_KEEP_COUNT,
  RESOLVED_INTENT_KEEP_MS,
  resolvedIntentsToPrune,
} from '../../../src/coordinator/state-store.js';
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
          value: JSON.stringify({ coordinator: 'a', colo: 'a', publishedAt: 0, nodes: [] }),
          lease,
        },
        {
          put: keys.guardian('a'),
          value: JSON.stringify({
            coordinator: 'a',
            colo: 'a',
            holding: { node: 'm-a', epoch: 2, because: 'fenced' },
          }),
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
      a: { coordinator: 'a', sessionAlive: true, holding: { node: 'm-a', epoch: 2, because: 'fenced' } },
      b: { coordinator: 'b', sessionAlive: false },
    });
    await sched.runUntil(6000);
    const later = state.snapshot(await state.read(7000), CLUSTER, COORDINATORS, 200);
    expect(later.guardians.a?.sessionAlive).toBe(false);
  });

  it('reads the journal and the writer record in one call at one revision, so they are never torn', async () => {
    const calls: string[][] = [];
    const etcd = new SimEtcd(new Scheduler(), new Prng(1));
    const inner = etcd.client('a', new ProcessGate(), 300);
    const recording = Object.create(inner) as typeof inner;
    recording.get = () => Promise.reject(new Error('separate get'));
    recording.getPrefix = () => Promise.reject(new Error('separate getPrefix'));
    recording.readAll = (reads, deadline) => {
      calls.push(reads.map((r) => ('key' in r ? r.key : `${r.prefix}*`).slice(keys.root.length)));
      return inner.readAll(reads, deadline);
    };
    const state = new ClusterStateStore(recording, keys);
    await state.readWriter(1000);
    await state.read(1000);
    expect(calls).toEqual([
      ['operation', 'writer', 'quarantine', 'pin'],
      [
        'operation',
        'writer',
        'pin',
        'cooldown',
        'quarantine',
        'replicas',
        'intents/*',
        'observations/*',
        'guardians/*',
      ],
    ]);
  });

  it('prunes resolved intents older than an hour or beyond the newest 20, never pending ones', async () => {
    const etcd = new SimEtcd(new Scheduler(), new Prng(1));
    const state = new ClusterStateStore(etcd.client('a', new ProcessGate(), 300), keys);
    const hour = RESOLVED_INTENT_KEEP_MS;
    const now = 10 * hour;
    const put = (id: string, status: string, at: number) =>
      etcd.txn(
        [],
        [{ put: keys.intent(id), value: JSON.stringify({ id, kind: 'unpin', by: 'op', at, status }) }],
      );
    put('old-done', 'done', now - hour - 1);
    put('old-failed', 'failed', now - 2 * hour);
    put('old-pending', 'pending', now - 3 * hour);
    put('recent-done', 'done', now - hour + 1000);
    for (let i = 0; i < RESOLVED_INTENT_KEEP_COUNT + 2; i++)
      put(`burst-${String(i).padStart(2, '0')}`, 'done', now - 5);
    const view = await state.read(1000);
    expect(await state.pruneIntents(view, now, 1000)).toBe(5);
    const left = etcd.getPrefix(keys.intentsPrefix).map((kv) => kv.key.slice(keys.intentsPrefix.length));
    // The 20 newest resolved (all burst ones but the first two) stay, and so does the pending one.
    expect(left).toEqual(['burst-02', ...left.slice(1, -1), 'old-pending']);
    expect(left).toHaveLength(RESOLVED_INTENT_KEEP_COUNT + 1);
    expect(await state.pruneIntents(await state.read(1000), now, 1000)).toBe(0);
  });

  it('keeps the newest HISTORY_KEEP_COUNT history entries: the oldest go, 50 at a time', async () => {
    const etcd = new SimEtcd(new Scheduler(), new Prng(1));
    const state = new ClusterStateStore(etcd.client('a', new ProcessGate(), 300), keys);
    // Epoch 10 sorts after epoch 9 only because keys are zero-padded.
    const entries = HISTORY_KEEP_COUNT + 70;
    for (let i = 0; i < entries; i++)
      etcd.txn([], [{ put: keys.history(i < 35 ? 9 : 10, 1_000 + i), value: JSON.stringify({ i }) }]);
    expect(await state.pruneHistory(1000)).toBe(50);
    expect(await state.pruneHistory(1000)).toBe(20);
    expect(await state.pruneHistory(1000)).toBe(0);
    const left = etcd.getPrefix(keys.historyPrefix).map((kv) => (JSON.parse(kv.value) as { i: number }).i);
    expect(left).toHaveLength(HISTORY_KEEP_COUNT);
    expect(Math.min(...left)).toBe(70);
    expect(Math.max(...left)).toBe(entries - 1);
  });

  it('deletes nothing when an intent changed after it was read', async () => {
    const etcd = new SimEtcd(new Scheduler(), new Prng(1));
    const state = new ClusterStateStore(etcd.client('a', new ProcessGate(), 300), keys);
    const value = (status: string) => JSON.stringify({ id: 'x', kind: 'unpin', by: 'op', at: 0, status });
    etcd.txn([], [{ put: keys.intent('x'), value: value('done') }]);
    const view = await state.read(1000);
    etcd.txn([], [{ put: keys.intent('x'), value: value('failed') }]);
    expect(await state.pruneIntents(view, RESOLVED_INTENT_KEEP_MS * 2, 1000)).toBe(0);
    expect(etcd.get(keys.intent('x'))).toBeDefined();
  });

  it('pure rule: keeps the newest resolved intents by creation, whatever their clocks say', () => {
    const intents = Array.from({ length: RESOLVED_INTENT_KEEP_COUNT + 1 }, (_, i) => ({
      key: `k${i}`,
      modRevision: i + 1,
      createRevision: i + 1,
      at: 1_000_000 - i,
    }));
    expect(resolvedIntentsToPrune(intents, 1_000_000).map((i) => i.key)).toEqual(['k0']);
    expect(resolvedIntentsToPrune(intents.slice(1), 1_000_000)).toEqual([]);
  });
});
