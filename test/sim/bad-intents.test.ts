/**
 * Intent values written to etcd by hand, through the real loop on the simulated world (issue 15):
 * the leader marks each bad one failed, with a reason naming the bad field, once; a request
 * behind them is still carried out; nothing moves the writer; and the leader's loop neither
 * stalls nor goes on reading them as unreadable every cycle.
 */

import { describe, expect, it } from 'vitest';
import { Prng } from './prng.js';
import { defaultWorldOptions, SimWorld } from './world.js';
import { SIM_WALL_ORIGIN } from './virtual-clock.js';

/** The values, by intent id, and what the leader's answer must name. */
const BAD: Record<string, { value: string; names: string }> = {
  'wrong-type': {
    value: JSON.stringify({
      id: 'wrong-type',
      kind: 'switchover',
      target: 42,
      by: 'op@host',
      at: 1,
      status: 'pending',
    }),
    names: 'target: expected a node name',
  },
  // The dangerous one: "false" is truthy, and a forced failover with it would lose writes.
  'string-consent': {
    value: JSON.stringify({
      id: 'string-consent',
      kind: 'failover',
      target: 'm-b',
      acceptDataLoss: 'false',
      by: 'op@host',
      at: 2,
      status: 'pending',
    }),
    names: 'acceptDataLoss: expected true or false',
  },
  'unknown-field': {
    value: JSON.stringify({
      id: 'unknown-field',
      kind: 'pin',
      node: 'm-a',
      by: 'op@host',
      at: 3,
      status: 'pending',
      force: true,
    }),
    names: '(top level): unknown field(s): force',
  },
  truncated: { value: '{"id":"truncated","kind":"pin","by":"op@h', names: '(top level): not JSON' },
  'not-an-object': { value: '["pin"]', names: '(top level): expected a JSON object, got a list' },
  'other-id': {
    value: JSON.stringify({ id: 'someone-else', kind: 'unpin', by: 'op@host', at: 4, status: 'pending' }),
    names: 'id: expected "other-id", the last part of its key',
  },
  'huge-value': {
    value: JSON.stringify({ id: 'huge-value', kind: 'unpin', by: 'x'.repeat(100_000) }),
    names: 'more than an intent may have',
  },
  'unknown-kind': {
    value: JSON.stringify({ id: 'unknown-kind', kind: 'reboot', by: 'op@host', at: 5, status: 'pending' }),
    names: 'kind: expected kind pin, unpin, switchover, failover, rejoin',
  },
};

describe('intents written to etcd by hand', () => {
  it('are marked failed once, with the bad field named, and a good one behind them still runs', async () => {
    const rng = new Prng(4242);
    const drawn = defaultWorldOptions(rng.fork());
    const world = new SimWorld(rng.fork(), {
      ...drawn,
      policy: 'availability',
      core: { ...drawn.core, policy: 'availability' },
      wallSkewMs: { a: 0, b: 0, w: 0 },
      replicas: false,
      stonith: false,
      watchdog: false,
    });
    const puts = new Map<string, number>();
    world.etcd.onCommit((events, _revision, caller) => {
      for (const e of events)
        if (e.type === 'put' && e.kv.key.startsWith(world.keys.intentsPrefix) && caller !== 'operator')
          puts.set(e.kv.key, (puts.get(e.kv.key) ?? 0) + 1);
    });
    const operator = (id: string, value: string) =>
      world.etcd.txn([], [{ put: world.keys.intent(id), value }], 'operator');

    // A leader settles on m-a; then the bad values, and a valid pin written after them.
    await world.scheduler.runUntil(8_000);
    for (const [id, { value }] of Object.entries(BAD)) operator(id, value);
    operator(
      'good-pin',
      JSON.stringify({
        id: 'good-pin',
        kind: 'pin',
        by: 'op@host',
        at: SIM_WALL_ORIGIN + 8_000,
        status: 'pending',
      }),
    );
    await world.scheduler.runUntil(20_000);

    for (const [id, { names }] of Object.entries(BAD)) {
      const stored = JSON.parse(world.etcd.get(world.keys.intent(id))?.value ?? 'null') as Record<
        string,
        unknown
      >;
      expect(stored, id).toMatchObject({
        id,
        kind: 'invalid',
        status: 'failed',
        outcome: { reason: 'intent-invalid' },
      });
      expect((stored.outcome as { message: string }).message, id).toContain(names);
      // Answered once, not every cycle.
      expect(puts.get(world.keys.intent(id)), id).toBe(1);
    }
    // No answer went anywhere but to the intent's own key.
    expect(world.etcd.get(world.keys.intent('someone-else'))).toBeUndefined();
    // The request behind them was carried out.
    expect(JSON.parse(world.etcd.get(world.keys.intent('good-pin'))?.value ?? '{}')).toMatchObject({
      status: 'done',
      outcome: { reason: 'pin-requested', message: 'pinned to m-a' },
    });
    expect(world.etcd.get(world.keys.pin)).toBeDefined();
    // Nothing moved the writer, least of all the forced failover whose consent was a string.
    expect(JSON.parse(world.etcd.get(world.keys.writer)?.value ?? '{}')).toMatchObject({
      node: 'm-a',
      epoch: 1,
    });
    expect(world.writableNodes().map((n) => n.name)).toEqual(['m-a']);
    // Each is reported once, as a decision; none is left to be logged as unreadable each cycle.
    const lines = world.trace.lines;
    expect(lines.filter((l) => /unreadable-records/.test(l))).toEqual([]);
    for (const id of Object.keys(BAD))
      expect(lines.filter((l) => l.includes(`intent invalid ${id}:`)).length, id).toBe(1);
    expect(lines.filter((l) => /cycle-failed/.test(l))).toEqual([]);
    expect(world.checkers.violation).toBeUndefined();
  });
});
