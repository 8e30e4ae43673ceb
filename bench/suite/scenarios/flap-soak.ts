/**
 * Issue 13's flap soak: `lab fault flap` (writer stalls, writer-colo cuts, etcd-member stalls,
 * seeded) under the measuring client. baton must ride every blip out: no writer change, no
 * fence. Besides the standard measures: the client's longest gap around any blip, and how far
 * it went beyond the blip itself.
 */
import { randomInt } from 'node:crypto';
import { flapFault, type BlipRecord } from '../../../src/lab/lab-flap.js';
import { startScenario } from '../../../test/integration/support/scenario.js';
import { blipOutcomes, describeBlipOutcomes } from '../../flap-soak.js';
import { measured, notMeasured } from '../measures.js';
import type { ScenarioResult } from '../run-record.js';
import { observed, sleep, type RunContext } from './support.js';

const DEFAULT_MINUTES = 2;

export async function runFlapSoak(ctx: RunContext): Promise<ScenarioResult> {
  const minutes = ctx.flapMinutes ?? DEFAULT_MINUTES;
  const seed = ctx.seed ?? randomInt(1, 2 ** 31);
  const scenario = await startScenario({ policy: ctx.policy, wan: ctx.wan });
  return observed(scenario, async (observer) => {
    await observer.baseline();
    const zeroAt = Date.now();
    const blips: BlipRecord[] = [];
    await flapFault(
      scenario.lab.dir,
      { minutes: String(minutes), seed: String(seed), json: true },
      (line) => {
        const parsed = JSON.parse(line) as BlipRecord | { message: string };
        if ('kind' in parsed) blips.push(parsed);
      },
    );
    await sleep(2_000);
    const outcomes = blipOutcomes(blips, scenario.client.acks);
    const gaps = outcomes.map((o) => o.longestGapMs);
    const beyond = outcomes.map((o) => o.longestGapMs - o.blip.effectiveMs);
    return observer.finish({
      zeroAt,
      zeroLabel: `flap ${minutes} min, seed ${seed}`,
      extra: {
        blips: measured(blips.length),
        longestBlipGapMs:
          gaps.length > 0 ? measured(Math.max(...gaps)) : notMeasured('no blip fitted in the soak'),
        gapBeyondBlipMs:
          beyond.length > 0 ? measured(Math.max(...beyond)) : notMeasured('no blip fitted in the soak'),
      },
      notes: [`seed ${seed} (replay: --seed ${seed})`, ...describeBlipOutcomes(outcomes)],
    });
  });
}
