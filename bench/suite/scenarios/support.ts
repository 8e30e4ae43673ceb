/** What every scenario's run needs: its settings, and waits that read like the scenario. */
import type { SiteName } from '../../../src/lab/topology.js';
import type { WanProfileName } from '../../../src/lab/wan-profile.js';
import { baton, eventually, faultEffectiveAt, type Lab } from '../../../test/integration/support/lab.js';
import type { Scenario } from '../../../test/integration/support/scenario.js';
import type { Ack } from '../../../test/integration/support/write-client.js';
import type { Policy } from '../../goals.js';
import { RunObserver } from '../run-observer.js';
import type { ScenarioResult } from '../run-record.js';

export interface RunContext {
  wan: WanProfileName;
  policy: Policy;
  /** The flap soak's length and seed (the other scenarios ignore them). */
  flapMinutes?: number;
  seed?: number;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Applies a `baton lab fault` and returns when it took effect, as the command reports it. */
export async function faultTime(lab: Lab, ...args: string[]): Promise<number> {
  const output = await lab.fault(...args);
  const at = faultEffectiveAt(output);
  if (Number.isNaN(at)) throw new Error(`fault command did not say when it took effect: ${output}`);
  return at;
}

/** Acknowledgements on the new writer after time zero that show the writes have settled there. */
export const ACKS_ON_NEW_WRITER = 20;

export function waitForAcksOn(
  client: { acks: readonly Ack[] },
  node: string,
  after: number,
  timeoutMs: number,
  count = ACKS_ON_NEW_WRITER,
): Promise<true> {
  return eventually(
    async () =>
      client.acks.filter((a) => a.node === node && a.ackedAt > after).length >= count ? true : undefined,
    timeoutMs,
    `${count} writes acknowledged by ${node}`,
  );
}

/** Like eventually(), but running out of time is an answer (false), not an error. */
export async function waitUpTo(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(50);
  }
  return check();
}

/**
 * `baton switchover --to b1`, as an operator runs it; returns when the request was made: the
 * intent's own time in etcd, not the start of the CLI (half a second of Node start-up).
 */
export async function requestSwitchover(scenario: Scenario): Promise<number> {
  const result = await baton(['switchover', '--lab', scenario.lab.dir, '--to', 'b1', '--timeout', '30']);
  if (result.code !== 0) throw new Error(`switchover failed: ${result.stderr.trim()}`);
  const intent = (await scenario.clusterState()).intents.find((i) => i.kind === 'switchover');
  if (!intent) throw new Error('the switchover intent is not in etcd');
  return intent.at;
}

/**
 * After a heal: the cut-off colo's coordinator is back once its guardian record is (a new
 * session); a few cycles later it has written the history it kept meanwhile.
 */
export async function waitForGuardianBack(scenario: Scenario, coordinator: string): Promise<void> {
  await eventually(
    async () => ((await scenario.clusterState()).guardians[coordinator] !== undefined ? true : undefined),
    20_000,
    `coordinator ${coordinator}'s guardian back in etcd`,
  );
  await sleep(1_000);
}

/**
 * Runs the body with an observer on a started scenario, and always takes the lab down; a body
 * that fails leaves no watch behind. `watchFrom` may first need to look at the lab (which etcd
 * member is about to be killed).
 */
export async function observed(
  scenario: Scenario,
  body: (observer: RunObserver) => Promise<ScenarioResult>,
  options: { watchFrom?: () => Promise<SiteName>; cleanUp?: () => Promise<void> } = {},
): Promise<ScenarioResult> {
  try {
    const observer = await RunObserver.start(scenario, await options.watchFrom?.());
    try {
      return await body(observer);
    } catch (error) {
      await observer.abandon();
      throw error;
    }
  } finally {
    await options.cleanUp?.().catch(() => undefined);
    await scenario.lab.down();
  }
}
