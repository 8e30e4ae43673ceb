/**
 * Issue 12: kill, cut and switchover for a client that knows only HAProxy's write port
 * (`lab up --haproxy`). The routed client is the measuring client: its longest gap is the outage,
 * and each of its acknowledgements is checked against the writer record of that moment.
 */
import { RoutedWriteClient } from '../../../test/integration/support/routed-write-client.js';
import { startScenario } from '../../../test/integration/support/scenario.js';
import {
  applyWriterFault,
  describeWriterFault,
  healWriterFault,
  undoWriterFault,
} from '../../writer-faults.js';
import type { ScenarioResult } from '../run-record.js';
import {
  ACKS_ON_NEW_WRITER,
  observed,
  requestSwitchover,
  waitForAcksOn,
  waitForGuardianBack,
  type RunContext,
} from './support.js';

export type RoutedMove = 'kill' | 'cut' | 'switchover';

export async function runRouted(move: RoutedMove, ctx: RunContext): Promise<ScenarioResult> {
  const scenario = await startScenario({ policy: ctx.policy, wan: ctx.wan, haproxy: true });
  let client: RoutedWriteClient | undefined;
  let healed = false;
  return observed(
    scenario,
    async (observer) => {
      client = new RoutedWriteClient(await scenario.lab.status()).start();
      await waitForAcksOn(client, 'a1', 0, 10_000, ACKS_ON_NEW_WRITER);
      await observer.baseline();
      const zeroAt =
        move === 'switchover'
          ? await requestSwitchover(scenario)
          : await applyWriterFault(scenario.lab, move);
      await scenario.waitForWriter('b1', 30_000);
      await waitForAcksOn(client, 'b1', zeroAt, 15_000);
      return observer.finish({
        zeroAt,
        zeroLabel: move === 'switchover' ? 'switchover to b1 requested' : describeWriterFault(move),
        planned: move === 'switchover',
        client,
        notes: [`routed client: ${client.acks.length} acknowledged writes, ${client.reconnects} reconnects`],
        settle:
          move === 'cut'
            ? async () => {
                await healWriterFault(scenario.lab, move);
                healed = true;
                await waitForGuardianBack(scenario, 'a');
              }
            : undefined,
      });
    },
    {
      cleanUp: async () => {
        await client?.stop();
        if (move !== 'switchover' && !healed) await undoWriterFault(scenario.lab, move);
      },
    },
  );
}
