/**
 * A fault on the writer a1 or its site a (kill, hang, cut, cut with the raft leader in a), with a
 * client writing straight to the masters. Under availability b1 must take over; under
 * consistency (asynchronous replication) the run watches for a fixed window, since not
 * promoting may be the right outcome.
 */
import { startScenario } from '../../../test/integration/support/scenario.js';
import {
  applyWriterFault,
  describeWriterFault,
  healWriterFault,
  undoWriterFault,
  type WriterFault,
} from '../../writer-faults.js';
import type { ScenarioResult } from '../run-record.js';
import { observed, waitForAcksOn, waitForGuardianBack, waitUpTo, type RunContext } from './support.js';

/** Longer than any failover the goals allow at `intercontinental` (a cut: TTL + 2 s + 8·L ≈ 6.6 s). */
export const NO_FAILOVER_WINDOW_MS = 12_000;

const isCut = (fault: WriterFault) => fault === 'cut' || fault === 'cut-raft-a';

export async function runWriterFault(fault: WriterFault, ctx: RunContext): Promise<ScenarioResult> {
  const scenario = await startScenario({ policy: ctx.policy, wan: ctx.wan });
  let healed = false;
  return observed(
    scenario,
    async (observer) => {
      await observer.baseline();
      const zeroAt = await applyWriterFault(scenario.lab, fault);
      const notes: string[] = [];
      if (ctx.policy === 'availability') {
        await scenario.waitForWriter('b1', 30_000);
        await waitForAcksOn(scenario.client, 'b1', zeroAt, 10_000);
      } else {
        const moved = await waitUpTo(
          () => scenario.client.acks.some((a) => a.node === 'b1' && a.ackedAt > zeroAt),
          NO_FAILOVER_WINDOW_MS,
        );
        if (moved) await waitForAcksOn(scenario.client, 'b1', zeroAt, 10_000);
        else notes.push(`no write on b1 within ${NO_FAILOVER_WINDOW_MS / 1000} s of the fault`);
      }
      return observer.finish({
        zeroAt,
        zeroLabel: describeWriterFault(fault),
        notes,
        // The cut-off guardian writes its fences to history only once it has a session again.
        settle: isCut(fault)
          ? async () => {
              await healWriterFault(scenario.lab, fault);
              healed = true;
              await waitForGuardianBack(scenario, 'a');
            }
          : undefined,
      });
    },
    { cleanUp: () => (healed ? Promise.resolve() : undoWriterFault(scenario.lab, fault)) },
  );
}
