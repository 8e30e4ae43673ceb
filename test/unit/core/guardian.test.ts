import { describe, expect, it } from 'vitest';
import { guard, type GuardianInput } from '../../../src/core/guardian.js';
import type { OperationJournal } from '../../../src/core/operation.js';
import { healthyNodes, SPEC, withNodes } from './fixtures.js';

const NOW = 50_000;
const WRITER_A1 = { node: 'db-a1', epoch: 5, since: 0, reason: 'bootstrap-writer' as const };

function input(over: Partial<GuardianInput> = {}): GuardianInput {
  return {
    spec: SPEC,
    colo: 'a',
    writer: WRITER_A1,
    observations: healthyNodes(),
    now: NOW,
    sessionValidUntil: NOW + 1000,
    ...over,
  };
}

const switchingAway: OperationJournal = {
  id: 'op',
  kind: 'switchover',
  reason: 'switchover-requested',
  from: 'db-a1',
  to: 'db-b1',
  previousEpoch: 5,
  epoch: 6,
  step: 'wait-catchup',
  startedAt: NOW,
  stepStartedAt: NOW,
  acceptDataLoss: false,
  automatic: false,
  requestedBy: 'ops',
};

const failingOver: OperationJournal = {
  ...switchingAway,
  id: 'failover-6',
  kind: 'failover',
  reason: 'writer-dead-quorum',
  step: 'fence-old',
  automatic: true,
  requestedBy: 'auto',
  fenceBestEffort: true,
};

const summary = (i: GuardianInput): string[] =>
  guard(i).actions.map((a) => `${a.type} ${a.node} (${a.reason})`);

describe('guard (colo guardian rule)', () => {
  it.each([
    { name: 'steady state: writer open, others read-only: nothing to do', in: input(), out: [] },
    {
      name: 'writer record names a local read-only node: open it',
      in: input({ observations: withNodes(healthyNodes(), { 'db-a1': { readOnly: true } }) }),
      out: ['open-writes db-a1 (guardian-open-writer)'],
    },
    {
      name: 'session not provably valid: fence the local writer even if it looks read-only',
      in: input({
        sessionValidUntil: NOW,
        observations: withNodes(healthyNodes(), { 'db-a1': { readOnly: true } }),
      }),
      out: ['fence db-a1 (guardian-session-invalid)'],
    },
    {
      name: 'session invalid: a read-only local writer is never opened',
      in: input({
        sessionValidUntil: NOW - 1,
        observations: withNodes(healthyNodes(), { 'db-a1': { readOnly: true } }),
      }),
      out: ['fence db-a1 (guardian-session-invalid)'],
    },
    {
      name: 'a local non-writer is writable: fence it',
      in: input({ observations: withNodes(healthyNodes(), { 'rep-a2': { readOnly: false } }) }),
      out: ['fence rep-a2 (guardian-enforce-read-only)'],
    },
    {
      name: 'writer moved to the other colo: the old local writer is fenced',
      in: input({ writer: { ...WRITER_A1, node: 'db-b1', epoch: 6 } }),
      out: ['fence db-a1 (guardian-enforce-read-only)'],
    },
    {
      name: 'no writer record yet: nothing is opened and nothing fenced (bootstrap adopts the writable node)',
      in: input({ writer: undefined }),
      out: [],
    },
    {
      name: 'no writer record and the session lapses: a writable node is still fenced',
      in: input({ writer: undefined, sessionValidUntil: NOW }),
      out: ['fence db-a1 (guardian-session-invalid)'],
    },
    {
      name: 'a new process before its first session, within the start-up grace: a writable node is left open',
      in: input({ writer: undefined, sessionValidUntil: -Infinity, startupGraceUntil: NOW + 1 }),
      out: [],
    },
    {
      name: 'a new process before its first session, within the grace, the record names it: left open',
      in: input({ sessionValidUntil: -Infinity, startupGraceUntil: NOW + 1 }),
      out: [],
    },
    {
      name: 'a new process still without a session once the grace is over: fence',
      in: input({ writer: undefined, sessionValidUntil: -Infinity, startupGraceUntil: NOW }),
      out: ['fence db-a1 (guardian-session-invalid)'],
    },
    {
      name: 'fenced by us at this epoch: hold, do not reopen',
      in: input({ fencedEpoch: 5, observations: withNodes(healthyNodes(), { 'db-a1': { readOnly: true } }) }),
      out: [],
    },
    {
      name: 'fenced by us at an older epoch: the new epoch reopens it',
      in: input({ fencedEpoch: 4, observations: withNodes(healthyNodes(), { 'db-a1': { readOnly: true } }) }),
      out: ['open-writes db-a1 (guardian-open-writer)'],
    },
    {
      name: 'a switchover away from the writer is in flight: keep it closed',
      in: input({
        operation: switchingAway,
        observations: withNodes(healthyNodes(), { 'db-a1': { readOnly: true } }),
      }),
      out: [],
    },
    ...(['fence-old', 'approve', 'commit'] as const).map((step) => ({
      name: `a switchover away from the writer waits at ${step}: keep it closed`,
      in: input({
        operation: { ...switchingAway, step },
        observations: withNodes(healthyNodes(), { 'db-a1': { readOnly: true } }),
      }),
      out: [],
    })),
    {
      name: 'the switchover is rolling back: reopen',
      in: input({
        operation: { ...switchingAway, step: 'rolling-back' },
        observations: withNodes(healthyNodes(), { 'db-a1': { readOnly: true } }),
      }),
      out: ['open-writes db-a1 (guardian-open-writer)'],
    },
    {
      name: 'unreachable writer (read_only unknown): nothing to open',
      in: input({
        observations: withNodes(healthyNodes(), { 'db-a1': { reachable: false, readOnly: undefined } }),
      }),
      out: [],
    },
    {
      name: 'our probes say the local writer is down (maybe a stall), no failover under way: leave it',
      in: input({
        observations: withNodes(healthyNodes(), {
          'db-a1': { reachable: false, health: 'down', readOnly: undefined },
        }),
      }),
      out: [],
    },
    {
      name: 'local writer down and a failover away from it under way: fence it blind',
      in: input({
        operation: failingOver,
        observations: withNodes(healthyNodes(), {
          'db-a1': { reachable: false, health: 'down', readOnly: undefined },
        }),
      }),
      out: ['fence db-a1 (guardian-writer-down)'],
    },
    {
      name: 'a failover past its commit is not a reason to fence: the new writer is recorded',
      in: input({
        operation: { ...failingOver, step: 'open-target' },
        observations: withNodes(healthyNodes(), { 'db-a1': { reachable: false, health: 'down' } }),
      }),
      out: [],
    },
    {
      name: 'a failover journal from another epoch is not ours: leave it',
      in: input({
        operation: { ...failingOver, previousEpoch: 4, epoch: 5 },
        observations: withNodes(healthyNodes(), { 'db-a1': { reachable: false, health: 'down' } }),
      }),
      out: [],
    },
    {
      name: 'down writer already fenced at this epoch: not re-sent every cycle',
      in: input({
        fencedEpoch: 5,
        observations: withNodes(healthyNodes(), { 'db-a1': { reachable: false, health: 'down' } }),
      }),
      out: [],
    },
    {
      name: 'the other colo is not ours to guard',
      in: input({ colo: 'b', observations: withNodes(healthyNodes(), { 'db-a1': { readOnly: true } }) }),
      out: [],
    },
  ])('$name', ({ in: i, out }) => {
    expect(summary(i)).toEqual(out);
  });

  it('remembers the epoch it fenced, and opens only at the writer record epoch', () => {
    expect(guard(input({ sessionValidUntil: NOW })).fencedEpoch).toBe(5);
    const open = guard(input({ observations: withNodes(healthyNodes(), { 'db-a1': { readOnly: true } }) }))
      .actions[0];
    expect(open).toMatchObject({ type: 'open-writes', node: 'db-a1', epoch: 5 });
  });

  it('a down writer left alone during a stall is not held: back, it stays the open writer', () => {
    const down = guard(
      input({ observations: withNodes(healthyNodes(), { 'db-a1': { reachable: false, health: 'down' } }) }),
    );
    expect(down.fencedEpoch).toBeUndefined();
    expect(down.events.map((e) => e.reason)).toEqual(['guardian-writer-down-waiting']);
    expect(guard(input()).actions).toEqual([]);
  });

  it('a blind fence of a down writer holds it closed at that epoch, even once it is back', () => {
    const down = guard(
      input({
        operation: failingOver,
        observations: withNodes(healthyNodes(), { 'db-a1': { reachable: false, health: 'down' } }),
      }),
    );
    expect(down.fencedEpoch).toBe(5);
    const back = guard(
      input({
        fencedEpoch: down.fencedEpoch,
        observations: withNodes(healthyNodes(), { 'db-a1': { readOnly: true } }),
      }),
    );
    expect(back.actions).toEqual([]);
  });

  it('explains a hold with an event', () => {
    const d = guard(
      input({ fencedEpoch: 5, observations: withNodes(healthyNodes(), { 'db-a1': { readOnly: true } }) }),
    );
    expect(d.events.map((e) => e.reason)).toEqual(['guardian-hold-fenced']);
  });
});
