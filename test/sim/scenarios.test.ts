/**
 * Hand-written fault plans on the simulated world: the behaviours DESIGN.md promises, checked
 * end to end through the real loop, not just "no invariant broke".
 */

import { describe, expect, it } from 'vitest';
import type { Fault } from './nemesis.js';
import { runSeed } from './run-seed.js';
import type { SimWorld } from './world.js';

function quiet(
  faults: Fault[],
  policy: 'consistency' | 'availability' = 'consistency',
  stonith = false,
  watchdog = false,
) {
  return {
    faultPhaseMs: 30_000,
    livenessPhaseMs: 30_000,
    // No beforePromote hook here: these scenarios time the moves themselves.
    tweak: ({
      beforePromote: _hook,
      ...o
    }: Parameters<NonNullable<Parameters<typeof runSeed>[1]>['tweak'] & object>[0]) => ({
      ...o,
      policy,
      core: {
        ...o.core,
        beforePromoteTimeoutMs: undefined,
        policy,
        maxLagOnFailoverMs: 5000,
        catchupTimeoutMs: 3000,
        cooldownMs: 3000,
      },
      wallSkewMs: { a: 0, b: 0, w: 0 },
      stonith,
      watchdog,
    }),
    plan: (p: Parameters<NonNullable<Parameters<typeof runSeed>[1]>['plan'] & object>[0]) => ({
      ...p,
      lostResponseRate: 0,
      slowRate: 0,
      faults,
    }),
  };
}

/** Virtual ms at which a trace line matching `pattern` first appears after `after`. */
function firstAt(world: SimWorld, pattern: RegExp, after = 0): number | undefined {
  const index = firstLine(world, pattern, after);
  return index === undefined ? undefined : Number(world.trace.lines[index]?.slice(0, 7));
}

/** Index of the first trace line at or after `after` matching `pattern`: orders same-ms events. */
function firstLine(world: SimWorld, pattern: RegExp, after = 0): number | undefined {
  const index = world.trace.lines.findIndex(
    (line) => Number(line.slice(0, 7)) >= after && pattern.test(line),
  );
  return index < 0 ? undefined : index;
}

describe('scenarios', () => {
  it('planned switchover: no acknowledged write lost, writer outage about one cycle', async () => {
    const { world, violation } = await runSeed(
      101,
      quiet([{ kind: 'switchover', target: 'm-b', start: 5000, duration: 0, amount: 0 }]),
    );
    expect(violation).toBeUndefined();
    const fenced = firstAt(
      world,
      /coord \w+ +action type=fence ok=true reason=operation-step node=m-a/,
      5000,
    );
    const opened = firstAt(world, /m-b +read_only=OFF/, 5000);
    expect(fenced).toBeDefined();
    expect(opened).toBeDefined();
    const outage = (opened as number) - (fenced as number);
    // The leader decides again as soon as a step succeeds, so the outage is one wait for the
    // old writer's guardian to publish its hold (one guardian cycle), then commit and open.
    expect(outage).toBeLessThanOrEqual(600);
    expect(world.writableNodes().map((n) => n.name)).toEqual(['m-b']);
  });

  it('a leader paused for twice its TTL is replaced, and writes nothing when it resumes', async () => {
    const { world, violation } = await runSeed(
      102,
      quiet([{ kind: 'pause-coordinator', target: 'a', start: 3000, duration: 10_000, amount: 0 }]),
    );
    expect(violation).toBeUndefined();
    expect(firstAt(world, /coord [bw] +elected/, 3000)).toBeDefined();
    // The lease checker looked at every writer write and every read_only=OFF: none came from a stale lease.
    expect(world.checkers.checked.openWrites).toBeGreaterThan(0);
    expect(world.writableNodes().map((n) => n.name)).toEqual(['m-a']);
  });

  it('with the watchdog, a dead guardian is no outage: the leader, outside the writer colo, stands in', async () => {
    const { world, violation } = await runSeed(
      107,
      quiet(
        [{ kind: 'crash-coordinator', target: 'a', start: 5000, duration: 20_000, amount: 0 }],
        'availability',
        false,
        true,
      ),
    );
    expect(violation).toBeUndefined();
    expect(firstAt(world, /put writer \{"node":"m-b"/, 5000)).toBeUndefined();
    expect(firstAt(world, /m-a +watchdog: read_only=ON/)).toBeUndefined();
    expect(world.writableNodes().map((n) => n.name)).toEqual(['m-a']);
  });

  it('a crashed writer fails over under availability, and comes back read-only', async () => {
    const { world, violation } = await runSeed(
      103,
      quiet(
        [{ kind: 'crash-node', target: 'm-a', start: 5000, duration: 20_000, amount: 0 }],
        'availability',
      ),
    );
    expect(violation).toBeUndefined();
    expect(firstAt(world, /put writer \{"node":"m-b"/, 5000)).toBeDefined();
    expect(world.node('m-a').readOnly).toBe(true);
    expect(world.writableNodes().map((n) => n.name)).toEqual(['m-b']);
  });

  it('the writer dies while its colo replica is ahead of the standby: the standby catches up from it first (issue 10)', async () => {
    const plan = quiet(
      [{ kind: 'crash-writer-behind', target: '', start: 5000, duration: 20_000, amount: 1500 }],
      'availability',
    );
    const { world, violation } = await runSeed(108, {
      ...plan,
      tweak: (o) => ({ ...plan.tweak(o), replicas: true, wanDelayMs: 30 }),
    });
    expect(violation).toBeUndefined();
    const crash = world.trace.lines.find((l) => l.includes('crash writer m-a'));
    expect(crash).toMatch(/its colo replica holds \d+ more than the standby/);
    expect(firstAt(world, /failing over to m-b: .*catching up from r-a first/, 5000)).toBeDefined();
    expect(
      firstAt(world, /action type=repoint ok=true reason=operation-step node=m-b source=r-a/),
    ).toBeDefined();
    // Nothing a survivor held is lost, and the failover says so.
    const [mb, ra] = [world.node('m-b'), world.node('r-a')];
    expect(mb.executed.get(1) ?? 0).toBeGreaterThanOrEqual(ra.executed.get(1) ?? 0);
    expect(firstAt(world, /put operation .*"step":"open-target".*"lostGtids":""/, 5000)).toBeDefined();
    expect(world.checkers.checked.failoverOpens).toBe(1);
    expect(world.writableNodes().map((n) => n.name)).toEqual(['m-b']);
  });

  it('a crashed writer does not fail over under consistency (its last writes are unknown)', async () => {
    const { world, violation } = await runSeed(
      104,
      quiet([{ kind: 'crash-node', target: 'm-a', start: 5000, duration: 10_000, amount: 0 }]),
    );
    expect(violation).toBeUndefined();
    expect(firstAt(world, /put writer \{"node":"m-b"/, 5000)).toBeUndefined();
    expect(world.writableNodes().map((n) => n.name)).toEqual(['m-a']);
  });

  it('a hung writer with a live guardian is not failed over while it hangs', async () => {
    const { world, violation } = await runSeed(
      105,
      quiet([{ kind: 'hang-node', target: 'm-a', start: 5000, duration: 15_000, amount: 0 }], 'availability'),
    );
    expect(violation).toBeUndefined();
    expect(firstAt(world, /put writer \{"node":"m-b"/, 5000)).toBeUndefined();
  });

  it('a hung writer is shot by its guardian (STONITH) on the quorum verdict, then failed over', async () => {
    const { world, violation } = await runSeed(
      105,
      quiet(
        [{ kind: 'hang-node', target: 'm-a', start: 5000, duration: 15_000, amount: 0 }],
        'availability',
        true,
      ),
    );
    expect(violation).toBeUndefined();
    const shot = firstLine(world, /stonith +a shoots m-a/, 5000);
    const promoted = firstLine(world, /put writer \{"node":"m-b"/, 5000);
    expect(shot).toBeDefined();
    expect(promoted).toBeGreaterThan(shot as number);
    expect(world.checkers.checked.shots).toBe(1);
  });

  it('a WAN cut between the database sites is not a dead writer (the witness still sees it)', async () => {
    const { world, violation } = await runSeed(
      106,
      quiet([{ kind: 'wan-cut', target: '', start: 5000, duration: 15_000, amount: 0 }], 'availability'),
    );
    expect(violation).toBeUndefined();
    expect(firstAt(world, /put writer \{"node":"m-b"/, 5000)).toBeUndefined();
  });

  it('a guardian that self-fenced while cut off from etcd records the fence in history when it is back', async () => {
    const { world, violation } = await runSeed(
      107,
      quiet([{ kind: 'etcd-link', target: 'a', start: 5000, duration: 10_000, amount: 0 }]),
    );
    expect(violation).toBeUndefined();
    const fences = world.etcd
      .getPrefix(world.keys.historyPrefix)
      .map(
        (kv) => JSON.parse(kv.value) as { event: string; node?: string; coordinator: string; reason: string },
      )
      .filter((e) => e.event === 'fence' && e.coordinator === 'a');
    expect(fences).toContainEqual(
      expect.objectContaining({ node: 'm-a', reason: 'guardian-session-invalid' }),
    );
  });
});
