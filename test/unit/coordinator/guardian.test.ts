import { describe, expect, it } from 'vitest';
import type { NodeObservation, WriterRecord } from '../../../src/core/index.js';
import { GuardianDuty } from '../../../src/coordinator/guardian.js';
import { WatchdogStamps } from '../../../src/coordinator/watchdog-stamps.js';
import { LeaseDeadline } from '../../../src/coordinator/lease-deadline.js';
import type { Clock, Database, Session } from '../../../src/coordinator/ports.js';
import { Scheduler } from '../../sim/scheduler.js';
import { SimMysqlWorld, SimNetwork } from '../../sim/sim-mysql.js';
import { CLUSTER } from '../../sim/world.js';

function setup(validUntil: number, startupGraceMs?: number) {
  const sched = new Scheduler();
  const world = new SimMysqlWorld(sched, new SimNetwork(['a', 'b']), {
    changed: () => undefined,
    becameWritable: () => undefined,
    openWritesSent: () => undefined,
    watchdogClosed: () => undefined,
  });
  const ma = world.add(
    { name: 'm-a', colo: 'a', domain: 1, serverId: 1, host: '10.0.1.10', port: 3306 },
    'm-b',
  );
  world.add({ name: 'm-b', colo: 'b', domain: 2, serverId: 2, host: '10.0.2.10', port: 3306 }, 'm-a');
  const clock: Clock = { now: () => sched.now(), wallNow: () => sched.now(), sleep: () => Promise.resolve() };
  let until = validUntil;
  const session: Session = {
    leaseId: '1',
    ttlMs: 3000,
    marginMs: 300,
    validUntil: () => until,
    signal: new AbortController().signal,
    close: () => Promise.resolve(),
  };
  const dbs = new Map<string, Database>([
    ['m-a', world.database('a', 'a', 'm-a')],
    ['m-b', world.database('a', 'a', 'm-b')],
  ]);
  const down = new Set<string>();
  const lease = new LeaseDeadline(clock, () => session);
  const guardian = new GuardianDuty(
    CLUSTER,
    'a',
    clock,
    dbs,
    lease,
    500,
    { stamps: new WatchdogStamps(clock, lease, true), stampTimeoutMs: 100 },
    (n) => down.has(n),
    () => undefined,
    startupGraceMs,
  );
  const observe = (): NodeObservation[] => [
    {
      node: 'm-a',
      reachable: ma.up,
      health: 'up',
      readOnly: ma.readOnly,
      executedGtids: ma.executedGtids(),
      observedAt: sched.now(),
    },
  ];
  return { sched, ma, guardian, observe, down, expire: (t: number) => (until = t) };
}

const writerA: WriterRecord = { node: 'm-a', epoch: 3, since: 0, reason: 'bootstrap-writer' };

describe('GuardianDuty', () => {
  it('leaves a writable local node open while its first session is pending, for one grace, then fences', async () => {
    const { sched, ma, guardian, observe } = setup(-Infinity, 4_000);
    ma.setReadOnly(false);
    await guardian.enforce(undefined, undefined, observe(), false);
    expect(ma.readOnly).toBe(false);
    await sched.runUntil(sched.now() + 4_000);
    await guardian.enforce(undefined, undefined, observe(), false);
    expect(ma.readOnly).toBe(true);
  });

  it('has no start-up grace once it has held a session: a lost first session fences at once', async () => {
    const { ma, guardian, observe, expire } = setup(10_000, 4_000);
    ma.setReadOnly(false);
    await guardian.enforce(undefined, undefined, observe(), false);
    expect(ma.readOnly).toBe(false);
    expire(0);
    await guardian.enforce(undefined, undefined, observe(), false);
    expect(ma.readOnly).toBe(true);
  });

  it('opens the local writer only when allowed to (fresh record, visible report)', async () => {
    const { ma, guardian, observe } = setup(10_000);
    await guardian.enforce(writerA, undefined, observe(), false);
    expect(ma.readOnly).toBe(true);
    await guardian.enforce(writerA, undefined, observe(), true);
    expect(ma.readOnly).toBe(false);
  });

  it('self-fences the local writer when the session ends, then holds it closed at that epoch', async () => {
    const { ma, guardian, observe, expire } = setup(10_000);
    await guardian.enforce(writerA, undefined, observe(), true);
    expect(ma.readOnly).toBe(false);
    expire(0);
    await guardian.selfFence();
    expect(ma.readOnly).toBe(true);
    expect(guardian.fencedWriter()).toMatchObject({ node: 'm-a', epoch: 3 });
    expire(20_000);
    await guardian.enforce(writerA, undefined, observe(), true);
    expect(ma.readOnly).toBe(true);
    expect(guardian.writerHold()).toEqual({ node: 'm-a', epoch: 3, because: 'fenced' });
    // A newer epoch naming the same node (the leader's reopen) opens it again.
    await guardian.enforce({ ...writerA, epoch: 4 }, undefined, observe(), true);
    expect(ma.readOnly).toBe(false);
    expect(guardian.writerHold()).toBeUndefined();
  });

  it('holds a writer it found not running, and confirms it once it is back read-only', async () => {
    const { ma, guardian, observe, down } = setup(10_000);
    ma.crash();
    down.add('m-a');
    await guardian.enforce(writerA, undefined, observe(), true);
    expect(guardian.writerHold()).toEqual({ node: 'm-a', epoch: 3, because: 'dead' });
    ma.restart();
    down.delete('m-a');
    await guardian.enforce(writerA, undefined, observe(), true);
    expect(ma.readOnly).toBe(true);
    expect(guardian.writerHold()).toEqual({ node: 'm-a', epoch: 3, because: 'fenced' });
    expect(guardian.fencedWriter()).toMatchObject({ node: 'm-a', epoch: 3 });
  });

  it('promises a local writer dead as soon as a probe finds it not running, without a pass', async () => {
    const { ma, guardian, observe, down } = setup(10_000);
    await guardian.enforce(writerA, undefined, observe(), true);
    expect(guardian.promiseDead('m-a')).toBe(false); // still running
    ma.crash();
    down.add('m-a');
    expect(guardian.promiseDead('m-b')).toBe(false); // not ours, not the writer
    expect(guardian.promiseDead('m-a')).toBe(true);
    expect(guardian.writerHold()).toEqual({ node: 'm-a', epoch: 3, because: 'dead' });
    expect(guardian.promiseDead('m-a')).toBe(false); // already promised: nothing new to publish
    // The next pass keeps the promise.
    await guardian.enforce(writerA, undefined, observe(), true);
    expect(guardian.writerHold()).toEqual({ node: 'm-a', epoch: 3, because: 'dead' });
  });

  it('never promises anything about a writer that only times out', async () => {
    const { sched, ma, guardian, observe } = setup(10_000);
    await guardian.enforce(writerA, undefined, observe(), true);
    ma.hang();
    const obs: NodeObservation[] = [{ node: 'm-a', reachable: false, health: 'down', observedAt: 0 }];
    const pass = guardian.enforce(writerA, undefined, obs, true);
    await sched.runUntil(1000);
    await pass;
    expect(guardian.writerHold()).toBeUndefined();
  });

  it('promises a writer shot by the fence command at once, and keeps promising it while it only times out', async () => {
    const { sched, ma, guardian, observe } = setup(10_000);
    await guardian.enforce(writerA, undefined, observe(), true);
    ma.hang();
    guardian.markShot('m-a', 3);
    // Visible to the leader in this very cycle's record, not a pass later.
    expect(guardian.writerHold()).toEqual({ node: 'm-a', epoch: 3, because: 'dead' });
    // A powered-off host never refuses a probe: it stays a promise all the same.
    const obs: NodeObservation[] = [{ node: 'm-a', reachable: false, health: 'down', observedAt: 0 }];
    const pass = guardian.enforce(writerA, undefined, obs, true);
    await sched.runUntil(1000);
    await pass;
    expect(guardian.writerHold()).toEqual({ node: 'm-a', epoch: 3, because: 'dead' });
  });

  it("promises an operation moving the writer away while it is still open ('awaiting-fence'), and keeps that kind once fenced", async () => {
    const { ma, guardian, observe } = setup(10_000);
    await guardian.enforce(writerA, undefined, observe(), true);
    expect(ma.readOnly).toBe(false);
    const journal = {
      id: 'switchover-4-1',
      kind: 'switchover' as const,
      reason: 'switchover-requested' as const,
      from: 'm-a',
      to: 'm-b',
      previousEpoch: 3,
      epoch: 4,
      step: 'fence-old' as const,
      startedAt: 0,
      stepStartedAt: 0,
      acceptDataLoss: false,
      automatic: false,
      requestedBy: 'ops',
    };
    await guardian.enforce(writerA, journal, observe(), true);
    expect(ma.readOnly).toBe(false);
    expect(guardian.writerHold()).toEqual({ node: 'm-a', epoch: 3, because: 'awaiting-fence' });
    ma.setReadOnly(true); // the leader's fence
    await guardian.enforce(writerA, { ...journal, step: 'wait-catchup' }, observe(), true);
    expect(ma.readOnly).toBe(true);
    expect(guardian.writerHold()).toEqual({ node: 'm-a', epoch: 3, because: 'awaiting-fence' });
  });

  it('forgets its fence record once the writer was reopened at the same epoch (rolled-back switchover)', async () => {
    const { ma, guardian, observe, expire } = setup(10_000);
    await guardian.enforce(writerA, undefined, observe(), true);
    expire(0);
    await guardian.selfFence();
    expect(guardian.fencedWriter()).toMatchObject({ node: 'm-a', epoch: 3 });
    expire(20_000);
    ma.setReadOnly(false); // the leader reopened it at epoch 3
    await guardian.enforce(writerA, undefined, observe(), true);
    expect(guardian.fencedWriter()).toBeUndefined();
    expect(guardian.writerHold()).toBeUndefined();
  });
});
