import { describe, expect, it } from 'vitest';
import { assessWriter, updateHealth, type ProbeHealthState } from '../../../src/core/health.js';
import type { HealthConfig } from '../../../src/core/config.js';
import {
  CONFIG,
  guardians,
  healthyNodes,
  NOW,
  report,
  snapshot,
  withNodes,
  writerDeadNodes,
  channel,
} from './fixtures.js';

const HEALTH: HealthConfig = {
  downAfterFailures: 3,
  downAfterMs: 2000,
  upAfterSuccesses: 2,
  replicaSilenceMs: 1000,
};

/** Feed probes [ok, at] in order; return the verdict after each. */
function run(probes: Array<[boolean, number]>, start?: ProbeHealthState): string[] {
  let state = start;
  return probes.map(([ok, at]) => {
    state = updateHealth(state, ok, at, HEALTH);
    return state.verdict;
  });
}

describe('updateHealth (hysteresis)', () => {
  it.each([
    {
      name: 'K failures spanning T: down on the K-th',
      probes: [
        [false, 0],
        [false, 1000],
        [false, 2000],
      ] as Array<[boolean, number]>,
      verdicts: ['up', 'up', 'down'],
    },
    {
      name: 'K failures in a burst shorter than T: still up until T has passed',
      probes: [
        [false, 0],
        [false, 100],
        [false, 200],
        [false, 1999],
        [false, 2000],
      ] as Array<[boolean, number]>,
      verdicts: ['up', 'up', 'up', 'up', 'down'],
    },
    {
      name: 'long enough but fewer than K failures: up',
      probes: [
        [false, 0],
        [false, 5000],
      ] as Array<[boolean, number]>,
      verdicts: ['up', 'up'],
    },
    {
      name: 'a success resets the failure streak',
      probes: [
        [false, 0],
        [false, 1000],
        [true, 1500],
        [false, 2000],
        [false, 3000],
        [false, 4000],
      ] as Array<[boolean, number]>,
      verdicts: ['up', 'up', 'up', 'up', 'up', 'down'],
    },
    {
      name: 'down needs M consecutive successes to come back up',
      probes: [
        [false, 0],
        [false, 1000],
        [false, 2000],
        [true, 3000],
        [false, 4000],
        [true, 5000],
        [true, 6000],
      ] as Array<[boolean, number]>,
      verdicts: ['up', 'up', 'down', 'down', 'down', 'down', 'up'],
    },
  ])('$name', ({ probes, verdicts }) => {
    expect(run(probes)).toEqual(verdicts);
  });

  it('records when the verdict changed, as plain data', () => {
    let s = updateHealth(undefined, false, 10, HEALTH);
    s = updateHealth(s, false, 1010, HEALTH);
    s = updateHealth(s, false, 2010, HEALTH);
    expect(s).toEqual({
      verdict: 'down',
      consecutiveFailures: 3,
      consecutiveSuccesses: 0,
      firstFailureAt: 10,
      changedAt: 2010,
    });
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});

describe('assessWriter (quorum of live observers, holistic)', () => {
  const dead = writerDeadNodes();
  it.each([
    { name: 'all observers see it up', snap: snapshot(), reason: 'writer-healthy', dead: false },
    {
      name: 'two of three live observers see it down, guardian gone',
      snap: snapshot({
        reports: [report('coord-b', dead), report('coord-w', dead)],
        guardians: guardians({ a: { sessionAlive: false } }),
      }),
      reason: 'writer-dead-quorum',
      dead: true,
    },
    {
      name: 'only one live observer: cannot judge',
      snap: snapshot({
        reports: [report('coord-b', dead)],
        guardians: guardians({ a: { sessionAlive: false } }),
      }),
      reason: 'no-quorum',
      dead: false,
    },
    {
      name: 'an unconfigured observer does not vote',
      snap: snapshot({
        reports: [report('coord-b', dead), report('intruder', dead)],
        guardians: guardians({ a: { sessionAlive: false } }),
      }),
      reason: 'no-quorum',
      dead: false,
    },
    {
      name: 'a replica reached by one observer still streams from the writer',
      snap: snapshot({
        reports: [
          report('coord-b', dead),
          report(
            'coord-w',
            withNodes(dead, {
              'rep-b2': {
                replication: [
                  {
                    source: 'db-a1',
                    sourceHost: 'x',
                    sourcePort: 1,
                    ioState: 'yes',
                    sqlRunning: true,
                    retrievedGtids: '',
                  },
                ],
              },
            }),
          ),
        ],
        guardians: guardians({ a: { sessionAlive: false } }),
      }),
      reason: 'writer-alive-per-replicas',
      dead: false,
    },
    ...[
      { agoMs: 400, fed: true, name: 'a replica fed within the silence bound still vetoes' },
      {
        agoMs: CONFIG.health.replicaSilenceMs,
        fed: true,
        name: 'a replica last fed exactly at the silence bound still vetoes',
      },
      {
        agoMs: CONFIG.health.replicaSilenceMs + 1,
        fed: false,
        name: 'a replica silent just past the silence bound is no evidence',
      },
      {
        agoMs: 5_000,
        fed: false,
        name: 'a replica whose IO thread says yes but received nothing for 5 s has not noticed a hung source',
      },
    ].map(({ agoMs, fed, name }) => ({
      name,
      snap: snapshot({
        reports: [
          report('coord-b', dead),
          report(
            'coord-w',
            withNodes(dead, { 'rep-b2': { replication: [{ ...channel('db-a1'), receivedAgoMs: agoMs }] } }),
          ),
        ],
        guardians: guardians({ a: { sessionAlive: false } }),
      }),
      reason: fed ? 'writer-alive-per-replicas' : 'writer-dead-quorum',
      dead: !fed,
    })),
    {
      name: 'an unreachable replica is no evidence either way',
      snap: snapshot({
        reports: [
          report(
            'coord-b',
            withNodes(dead, {
              'rep-a2': {
                reachable: false,
                health: 'down',
                replication: [
                  {
                    source: 'db-a1',
                    sourceHost: 'x',
                    sourcePort: 1,
                    ioState: 'yes',
                    sqlRunning: true,
                    retrievedGtids: '',
                  },
                ],
              },
            }),
          ),
          report('coord-w', withNodes(dead, { 'rep-a2': { reachable: false, health: 'down' } })),
        ],
        guardians: guardians({ a: { sessionAlive: false } }),
      }),
      reason: 'writer-dead-quorum',
      dead: true,
    },
    {
      name: 'guardian alive, fenced the writer at this epoch',
      snap: snapshot({
        reports: [report('coord-b', dead), report('coord-w', dead)],
        guardians: guardians({
          a: { fencedWriter: { node: 'db-a1', epoch: 5, executedGtids: '1-1-100', at: 0 } },
        }),
      }),
      reason: 'writer-dead-quorum',
      dead: true,
    },
    {
      name: 'guardian alive and holding the writer closed at this epoch (not running)',
      snap: snapshot({
        reports: [report('coord-b', dead), report('coord-w', dead)],
        guardians: guardians({ a: { holding: { node: 'db-a1', epoch: 5, because: 'dead' } } }),
      }),
      reason: 'writer-dead-quorum',
      dead: true,
    },
    {
      name: 'guardian alive and merely seeing the writer down: a hung server would resume writable',
      snap: snapshot({
        reports: [report('coord-a', dead), report('coord-b', dead), report('coord-w', dead)],
      }),
      reason: 'skipped-guardian-alive',
      dead: false,
    },
    {
      name: 'guardian alive with a fence record of an older epoch: does not count',
      snap: snapshot({
        reports: [report('coord-b', dead), report('coord-w', dead)],
        guardians: guardians({
          a: { fencedWriter: { node: 'db-a1', epoch: 4, executedGtids: '1-1-100', at: 0 } },
        }),
      }),
      reason: 'skipped-guardian-alive',
      dead: false,
    },
  ])('$name', ({ snap, reason, dead: isDead }) => {
    const a = assessWriter(snap, NOW, CONFIG);
    expect(a.reason).toBe(reason);
    expect(a.dead).toBe(isDead);
  });

  it('names the votes in the message', () => {
    const a = assessWriter(
      snapshot({
        reports: [
          report('coord-a', healthyNodes()),
          report('coord-b', dead),
          report('coord-w', healthyNodes()),
        ],
      }),
      NOW,
      CONFIG,
    );
    expect(a.downVotes).toEqual(['coord-b']);
    expect(a.upVotes).toEqual(['coord-a', 'coord-w']);
    expect(a.message).toContain('quorum 2 of 3');
  });
});
