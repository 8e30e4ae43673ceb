import { describe, expect, test } from 'vitest';
import { Observer } from '../../../src/coordinator/observer.js';
import { ServerDownError, type Clock, type Database } from '../../../src/coordinator/ports.js';
import type { ClusterSpec, NodeObservation } from '../../../src/core/index.js';
import { probeOnlyDatabase } from './probe-only-database.js';

const SPEC: ClusterSpec = {
  name: 'c',
  flavor: 'mariadb',
  colos: ['a'],
  nodes: [{ name: 'a1', colo: 'a', role: 'candidate', priority: 100, host: 'a1', port: 1 }],
};

/** A clock whose timers fire only when the test advances it. */
function manualClock() {
  let now = 0;
  const timers: { at: number; fire: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    wallNow: () => now,
    sleep: (ms, signal) =>
      new Promise((resolve, reject) => {
        const timer = { at: now + ms, fire: () => resolve() };
        timers.push(timer);
        signal?.addEventListener('abort', () => {
          timers.splice(timers.indexOf(timer), 1);
          reject(new Error('aborted'));
        });
      }),
  };
  const advanceTo = async (until: number) => {
    for (;;) {
      timers.sort((x, y) => x.at - y.at);
      const next = timers[0];
      if (!next || next.at > until) break;
      timers.shift();
      now = next.at;
      next.fire();
      // Let the probe promises and their folds run before the next timer.
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    now = until;
  };
  return { clock, advanceTo, now: () => now };
}

function node(state: { up: boolean }, probedAt: number[], clock: Clock): Database {
  return probeOnlyDatabase(() => {
    probedAt.push(clock.now());
    return state.up
      ? Promise.resolve({ readOnly: false, executedGtids: '', replication: [], serverId: 1, version: 'x' })
      : Promise.reject(new ServerDownError('connection refused'));
  });
}

describe('observer: a failing node is probed again at the hysteresis pace', () => {
  test('a killed writer is counted down downAfterMs after its first failed probe, not a tick later', async () => {
    const { clock, advanceTo } = manualClock();
    const a1 = { up: true };
    const probedAt: number[] = [];
    const observer = new Observer(
      SPEC,
      clock,
      new Map([['a1', node(a1, probedAt, clock)]]),
      { downAfterFailures: 3, downAfterMs: 300, upAfterSuccesses: 3, replicaSilenceMs: 1000 },
      150,
    );
    const seen: NodeObservation[] = [];
    const controller = new AbortController();
    const running = observer.run(200, controller.signal, (o) => seen.push({ ...o }));
    await advanceTo(1_000);
    a1.up = false; // killed between two ticks
    await advanceTo(3_000);
    controller.abort();
    await running;

    const firstFailure = probedAt.find((at) => at > 1_000) as number;
    const down = seen.find((o) => o.health === 'down');
    expect(firstFailure).toBe(1_200);
    // Each failure asks for another probe 300 / 2 ms later: failures at 1200, 1350, 1400 and
    // 1500 make it down at 1500; on the 200 ms tick alone it took until 1600.
    expect(down?.observedAt).toBe(1_500);
    expect(probedAt.filter((at) => at > 1_000 && at <= 1_500)).toEqual([1_200, 1_350, 1_400, 1_500]);
    // Once down, the retries stop (one asked for before still runs): the tick alone probes it.
    const later = probedAt.filter((at) => at > 1_600);
    expect(later.length).toBeGreaterThan(5);
    expect(later.every((at) => at % 200 === 0)).toBe(true);
  });
});
