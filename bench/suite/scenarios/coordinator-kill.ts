/**
 * Issue 4, scenario 3: kill -9 of the coordinator holding the leader key
 * (`/baton/<cluster>/leader/<lease>`, the oldest candidate key). Another coordinator must lead
 * once the dead one's lease expires, and the writer must not change: the figures are the time
 * to a new leader and the client's longest gap.
 */
import { DEFAULT_TIMINGS } from '../../../src/core/timings.js';
import { startScenario } from '../../../test/integration/support/scenario.js';
import { measured, notMeasured } from '../measures.js';
import type { ScenarioResult } from '../run-record.js';
import { faultTime, observed, sleep, waitUpTo, type RunContext } from './support.js';

/** Long enough for the lease to expire and an election, with room for a slow WAN profile. */
const NEW_LEADER_WINDOW_MS = 3 * DEFAULT_TIMINGS.sessionTtlMs;
/** After the new leader: its first decisions, where a wrong failover would show. */
const AFTER_NEW_LEADER_MS = 2_000;

export async function runCoordinatorLeaderKill(ctx: RunContext): Promise<ScenarioResult> {
  const scenario = await startScenario({ policy: ctx.policy, wan: ctx.wan });
  return observed(scenario, async (observer) => {
    await observer.baseline();
    const leader = observer.watch.leaderChanges.at(-1)?.coordinator;
    if (leader === undefined) throw new Error('no coordinator holds the leader key');
    const zeroAt = await faultTime(scenario.lab, 'kill', `coord-${leader}`);
    const elected = await waitUpTo(
      () => observer.watch.leaderOtherThan(leader, zeroAt) !== undefined,
      NEW_LEADER_WINDOW_MS,
    );
    await sleep(AFTER_NEW_LEADER_MS);
    const next = observer.watch.leaderOtherThan(leader, zeroAt);
    return observer.finish({
      zeroAt,
      zeroLabel: `kill -9 of leader coord-${leader}`,
      extra: {
        newLeaderMs: next
          ? measured(next.seenAt - zeroAt)
          : notMeasured(`no other coordinator led within ${NEW_LEADER_WINDOW_MS} ms`),
      },
      notes: [elected && next ? `leader ${leader} → ${next.coordinator}` : `leader ${leader} → none`],
    });
  });
}
