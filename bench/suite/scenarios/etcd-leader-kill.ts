/**
 * Issue 4, scenario 4b: kill -9 of the etcd member that is raft leader (the witness's, where
 * `etcd.preferredLeader` keeps it). No failover and no writer change may follow; the figures are
 * the time to a new raft leader and the client's longest gap.
 */
import { DEFAULT_TIMINGS } from '../../../src/core/timings.js';
import type { SiteName } from '../../../src/lab/topology.js';
import { raftLeaderName } from '../../../test/integration/support/lab.js';
import { startScenario } from '../../../test/integration/support/scenario.js';
import { measured, notMeasured, type Measure } from '../measures.js';
import type { ScenarioResult } from '../run-record.js';
import { faultTime, observed, sleep, type RunContext } from './support.js';

/** A session that the kill made unprovable expires within a TTL; a failover would be decided by then. */
const WATCH_AFTER_KILL_MS = DEFAULT_TIMINGS.sessionTtlMs + 2_000;
const NEW_RAFT_LEADER_WINDOW_MS = 15_000;

export async function runEtcdLeaderKill(ctx: RunContext): Promise<ScenarioResult> {
  const scenario = await startScenario({ policy: ctx.policy, wan: ctx.wan });
  let killed: SiteName | undefined;
  return observed(
    scenario,
    async (observer) => {
      const member = killed as SiteName;
      await observer.baseline();
      const zeroAt = await faultTime(scenario.lab, 'kill', `etcd-${member}`);
      let newRaftLeader: Measure = notMeasured(`no other raft leader within ${NEW_RAFT_LEADER_WINDOW_MS} ms`);
      let newLeaderName: string | undefined;
      while (Date.now() < zeroAt + NEW_RAFT_LEADER_WINDOW_MS) {
        const name = await raftLeaderName(scenario.lab);
        if (name !== undefined && name !== member) {
          newRaftLeader = measured(Date.now() - zeroAt);
          newLeaderName = name;
          break;
        }
        await sleep(50);
      }
      const rest = zeroAt + WATCH_AFTER_KILL_MS - Date.now();
      if (rest > 0) await sleep(rest);
      return observer.finish({
        zeroAt,
        zeroLabel: `kill -9 of etcd-${member} (raft leader)`,
        extra: { newRaftLeaderMs: newRaftLeader },
        notes: [`raft leader ${member} → ${newLeaderName ?? 'none seen'}`],
      });
    },
    {
      // The watch must not sit on the member about to die.
      watchFrom: async () => {
        const leader = await raftLeaderName(scenario.lab);
        if (leader !== 'a' && leader !== 'b' && leader !== 'w')
          throw new Error(`no etcd raft leader (${leader})`);
        killed = leader;
        return leader === 'w' ? 'b' : 'w';
      },
    },
  );
}
