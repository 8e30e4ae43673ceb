import { describe, expect, test } from 'vitest';
import { Observer } from '../../../src/coordinator/observer.js';
import { ServerDownError, type Clock, type Database, type Probe } from '../../../src/coordinator/ports.js';
import type { ClusterSpec } from '../../../src/core/index.js';
import { probeOnlyDatabase } from './probe-only-database.js';

const SPEC: ClusterSpec = {
  name: 'c',
  flavor: 'mariadb',
  colos: ['a', 'b'],
  nodes: [
    { name: 'a1', colo: 'a', role: 'candidate', priority: 100, host: 'a1', port: 1 },
    { name: 'b1', colo: 'b', role: 'candidate', priority: 100, host: 'b1', port: 1 },
  ],
};

/** A node that answers with whatever the test says, or is down. */
function fakeNode(state: { probe?: Partial<Probe> }): Database {
  return probeOnlyDatabase(() =>
    state.probe
      ? Promise.resolve({
          readOnly: true,
          executedGtids: '',
          replication: [],
          serverId: 1,
          version: 'x',
          ...state.probe,
        })
      : Promise.reject(new ServerDownError('connection refused')),
  );
}

function setup() {
  let now = 1_000;
  // Probes answer at once; the cycle's wait for slow ones never ends first.
  const clock: Clock = { now: () => now, wallNow: () => now, sleep: () => new Promise(() => undefined) };
  const a1: { probe?: Partial<Probe> } = { probe: { readOnly: false, heartbeatLagMs: 0 } };
  const b1: { probe?: Partial<Probe> } = { probe: { readOnly: true, heartbeatLagMs: 120 } };
  const observer = new Observer(
    SPEC,
    clock,
    new Map([
      ['a1', fakeNode(a1)],
      ['b1', fakeNode(b1)],
    ]),
    { downAfterFailures: 3, downAfterMs: 300, upAfterSuccesses: 3, replicaSilenceMs: 1000 },
    100,
  );
  const lagOfB1 = async () => (await observer.observeAll()).find((o) => o.node === 'b1')?.lagMs;
  const observe = async (node: string) => (await observer.observeAll()).find((o) => o.node === node);
  return { a1, b1, lagOfB1, observe, advance: (ms: number) => (now += ms) };
}

describe('observer lag', () => {
  test('while a writer is visible, the heartbeat lag is reported as measured', async () => {
    const { lagOfB1 } = setup();
    expect(await lagOfB1()).toBe(120);
  });

  test('once the writer is gone, the lag stops growing with the clock', async () => {
    const { a1, b1, lagOfB1, advance } = setup();
    await lagOfB1();
    delete a1.probe; // killed
    advance(2_000);
    // b1 applied nothing new: its newest stamp is 2 s older, but the writer wrote nothing since.
    b1.probe = { readOnly: true, heartbeatLagMs: 2_120 };
    expect(await lagOfB1()).toBe(120);
    advance(10_000);
    b1.probe = { readOnly: true, heartbeatLagMs: 12_120 };
    expect(await lagOfB1()).toBe(120);
  });

  test('a replica still applying its backlog after the writer died gets closer, not further', async () => {
    const { a1, b1, lagOfB1, advance } = setup();
    b1.probe = { readOnly: true, heartbeatLagMs: 3_000 };
    await lagOfB1();
    delete a1.probe;
    advance(1_000);
    b1.probe = { readOnly: true, heartbeatLagMs: 2_500 }; // applied 1.5 s of stamps in 1 s
    expect(await lagOfB1()).toBe(1_500);
  });

  test('with no measurement at all the last measured lag stands', async () => {
    const { a1, b1, lagOfB1 } = setup();
    b1.probe = { readOnly: true, replication: [] };
    expect(await lagOfB1()).toBeUndefined();
    b1.probe = { readOnly: true, heartbeatLagMs: 300 };
    expect(await lagOfB1()).toBe(300);
    delete a1.probe;
    b1.probe = { readOnly: true, replication: [] };
    expect(await lagOfB1()).toBe(300);
  });

  test('a channel whose retrieved set stops changing reports how long it has been silent', async () => {
    const { b1, advance, observe } = setup();
    const channel = (retrieved: string) => ({
      sourceHost: 'a1',
      sourcePort: 1,
      ioRunning: 'yes' as const,
      sqlRunning: true,
      retrievedGtids: retrieved,
    });
    b1.probe = { readOnly: true, replication: [channel('1-11-5')] };
    expect((await observe('b1'))?.replication?.[0]?.receivedAgoMs).toBeUndefined();
    advance(200);
    b1.probe = { readOnly: true, replication: [channel('1-11-6')] };
    expect((await observe('b1'))?.replication?.[0]?.receivedAgoMs).toBe(0);
    advance(700);
    expect((await observe('b1'))?.replication?.[0]?.receivedAgoMs).toBe(700);
    advance(1_000);
    expect((await observe('b1'))?.replication?.[0]?.receivedAgoMs).toBe(1_700);
  });
});
