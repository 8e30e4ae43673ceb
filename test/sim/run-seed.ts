/**
 * One seed, two phases (FoundationDB/VOPR style): safety under the nemesis, with the checkers
 * looking at every instant; then everything healed and a liveness check: one writable node, the
 * one the writer record names, a leader, and every coordinator agreeing on the writer.
 */

import { Nemesis, planNemesis, type NemesisPlan } from './nemesis.js';
import { Prng } from './prng.js';
import type { Violation } from './checkers.js';
import { VETO_RETRY_MS } from '../../src/core/antiflap.js';
import { defaultWorldOptions, SimWorld, withWatchdogTimings, type WorldOptions } from './world.js';

export interface SeedOptions {
  faultPhaseMs?: number;
  livenessPhaseMs?: number;
  /** Adjust the drawn world options (tests: inject a broken coordinator, fix the policy). */
  tweak?: (options: WorldOptions) => WorldOptions;
  /** Replace the drawn nemesis plan (tests: a fault-free run). */
  plan?: (drawn: NemesisPlan) => NemesisPlan;
}

export interface SeedResult {
  seed: number;
  violation?: Violation;
  world: SimWorld;
  plan: NemesisPlan;
}

/** The hook's timeout in the simulated worlds that have one. */
const SIM_HOOK_TIMEOUT_MS = 2_000;

/**
 * A third of the worlds ask a beforePromote hook before every writer change. Drawn from a stream
 * of its own, so every other draw of a seed (its world, its faults) stays what it was.
 */
function withBeforePromoteHook(options: WorldOptions, seed: number): WorldOptions {
  const rng = new Prng((seed ^ 0x6b0a5eed) >>> 0);
  if (!rng.chance(1 / 3)) return options;
  return {
    ...options,
    core: { ...options.core, beforePromoteTimeoutMs: SIM_HOOK_TIMEOUT_MS },
    beforePromote: { maxDelayMs: rng.pick([200, 1_000, 2_500]), vetoChance: rng.pick([0, 0.2, 0.5]), rng },
  };
}

export async function runSeed(seed: number, opts: SeedOptions = {}): Promise<SeedResult> {
  const rng = new Prng(seed);
  const drawn = withBeforePromoteHook(defaultWorldOptions(rng), seed);
  const tweaked = opts.tweak ? opts.tweak(drawn) : drawn;
  const options = tweaked.watchdog ? { ...tweaked, timings: withWatchdogTimings(tweaked.timings) } : tweaked;
  const faultPhaseMs = opts.faultPhaseMs ?? 30_000;
  const world = new SimWorld(rng.fork(), options);
  const drawnPlan = planNemesis(
    rng.fork(),
    faultPhaseMs,
    options.timings.sessionTtlMs,
    world.cluster.nodes.map((n) => n.name),
  );
  const plan = opts.plan ? opts.plan(drawnPlan) : drawnPlan;
  const nemesis = new Nemesis(world, plan);
  world.trace.add(
    'sim',
    `seed ${seed} replicas=${options.replicas} policy=${options.policy} ttl=${options.timings.sessionTtlMs} cooldown=${options.core.cooldownMs} budget=${options.core.failoverBudget.count} maxLag=${options.core.maxLagOnFailoverMs} catchup=${options.core.catchupTimeoutMs} wanDelay=${options.wanDelayMs} quietProbes=${options.timings.quietProbeIntervalMs ?? 'off'} watchdog=${options.watchdog} beforePromote=${options.beforePromote ? `${options.beforePromote.maxDelayMs}ms/veto${options.beforePromote.vetoChance}` : 'none'}`,
  );
  nemesis.schedule();

  const sample = (): void => world.checkers.singleWriter();
  await world.scheduler
    .runUntil(faultPhaseMs, () => {
      sample();
      if (world.checkers.violation) throw new StopRun();
    })
    .catch(ignoreStop);
  if (world.checkers.violation) return { seed, violation: world.checkers.violation, world, plan };

  nemesis.healAll();
  // Long enough for a cooldown to pass and a failover (hysteresis + TTL + catch-up) to finish.
  const livenessPhaseMs =
    opts.livenessPhaseMs ??
    Math.max(30_000, options.core.cooldownMs + 3 * options.timings.sessionTtlMs + 10_000) +
      // A vetoing hook holds each try off for VETO_RETRY_MS; give a few tries.
      (options.beforePromote && options.beforePromote.vetoChance > 0 ? 4 * VETO_RETRY_MS : 0);
  // Which servers are diverged or broken, and since when (checked at the end of the phase).
  const watch = (): void => {
    world.checkers.watchReplicas(recordedWriter(world)?.node);
    world.scheduler.after(500, watch);
  };
  watch();
  await world.scheduler
    .runUntil(faultPhaseMs + livenessPhaseMs, () => {
      sample();
      if (world.checkers.violation) throw new StopRun();
    })
    .catch(ignoreStop);
  if (world.checkers.violation) return { seed, violation: world.checkers.violation, world, plan };

  const liveness = checkLiveness(world);
  if (liveness)
    return {
      seed,
      violation: { at: world.scheduler.now(), checker: 'liveness', message: liveness },
      world,
      plan,
    };
  const writer = recordedWriter(world);
  const leftBehind = writer ? world.checkers.endOfRun(writer.node) : undefined;
  if (leftBehind) return { seed, violation: leftBehind, world, plan };
  return { seed, world, plan };
}

function recordedWriter(world: SimWorld): { node: string; epoch: number } | undefined {
  const record = world.etcd.get(world.keys.writer);
  return record ? (JSON.parse(record.value) as { node: string; epoch: number }) : undefined;
}

class StopRun extends Error {}

function ignoreStop(error: unknown): void {
  if (!(error instanceof StopRun)) throw error;
}

/** After healing: exactly one writer, the recorded one, a leader, and agreement. */
export function checkLiveness(world: SimWorld): string | undefined {
  const writable = world.writableNodes();
  const record = world.etcd.get(world.keys.writer);
  const writer = record ? (JSON.parse(record.value) as { node: string; epoch: number }) : undefined;
  if (writable.length !== 1) {
    return `after healing: ${writable.length} writable nodes (writer record ${record?.value ?? 'absent'})`;
  }
  if (!writer || writable[0]?.name !== writer.node) {
    return `after healing: ${writable[0]?.name} is writable but the writer record is ${record?.value ?? 'absent'}`;
  }
  const leaders = [...world.processes.values()].filter((p) => p.coordinator.isLeader());
  if (leaders.length !== 1) return `after healing: ${leaders.length} coordinators believe they lead`;
  for (const p of world.processes.values()) {
    const known = p.coordinator.knownWriter();
    if (!known || known.node !== writer.node || known.epoch !== writer.epoch) {
      return `after healing: coordinator ${p.spec.name} knows writer ${known ? `${known.node}@${known.epoch}` : 'none'}, record says ${writer.node}@${writer.epoch}`;
    }
  }
  return undefined;
}
