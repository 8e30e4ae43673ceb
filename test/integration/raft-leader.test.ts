/**
 * RaftLeaderKeeper against the lab's real 3-member etcd: it moves raft leadership to the
 * preferred member, leaves it alone when it is already there, and refuses to move it to a member
 * that is not answering (a transfer to a dead member would stall etcd's writes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { systemClock } from '../../src/clock.js';
import { createEtcdClient } from '../../src/etcd/client.js';
import { RaftLeaderKeeper } from '../../src/etcd/raft-leader.js';
import { eventually, raftLeaderName, startLab, type Lab } from './support/lab.js';

let lab: Lab;
let endpoints: string[];
let pool: Etcd3;
const keepers: RaftLeaderKeeper[] = [];

function keeper(member: string): RaftLeaderKeeper {
  const k = new RaftLeaderKeeper(pool, { endpoints }, member, systemClock);
  keepers.push(k);
  return k;
}

const deadline = (): number => systemClock.now() + 3000;

beforeAll(async () => {
  lab = await startLab();
  endpoints = (await lab.status()).etcd.endpoints;
  pool = createEtcdClient({ endpoints, defaultCallTimeoutMs: 3000 });
}, 120_000);

afterAll(async () => {
  for (const k of keepers) k.close();
  pool?.close();
  await lab?.down();
});

describe('RaftLeaderKeeper', () => {
  it('moves raft leadership to the preferred member, then finds it in place', async () => {
    expect(await raftLeaderName(lab)).toBe('w');
    expect(await keeper('a').ensure(deadline())).toEqual({ kind: 'moved', from: 'w', to: 'a' });
    await eventually(async () => ((await raftLeaderName(lab)) === 'a' ? true : undefined), 5000, 'a leads');
    const back = keeper('w');
    expect(await back.ensure(deadline())).toEqual({ kind: 'moved', from: 'a', to: 'w' });
    await eventually(async () => ((await raftLeaderName(lab)) === 'w' ? true : undefined), 5000, 'w leads');
    expect(await back.ensure(deadline())).toEqual({ kind: 'in-place' });
  });

  it('names the members when the preferred one does not exist', async () => {
    const outcome = await keeper('nosuch').ensure(deadline());
    expect(outcome).toEqual({ kind: 'skipped', detail: 'no etcd member is named nosuch (members: a, b, w)' });
  });

  it('does not move leadership to a member that does not answer', async () => {
    await lab.fault('stop', 'etcd-b');
    try {
      await expect(keeper('b').ensure(systemClock.now() + 1000)).rejects.toThrow(/keep raft leader on b/);
      expect(await raftLeaderName(lab)).toBe('w');
    } finally {
      await lab.fault('cont', 'etcd-b');
    }
  });
});
