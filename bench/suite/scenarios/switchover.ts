/**
 * Planned switchovers a1 → b1 through the CLI: with the client writing straight to the masters,
 * and the same under `sysbench oltp_write_only` through HAProxy's write port. Time zero is the
 * request (the intent's time in etcd).
 */
import { startScenario } from '../../../test/integration/support/scenario.js';
import { prepareSysbenchTable, runSysbenchWriteOnly } from '../../../test/integration/support/sysbench.js';
import { measured } from '../measures.js';
import type { ScenarioResult } from '../run-record.js';
import { observed, requestSwitchover, sleep, waitForAcksOn, type RunContext } from './support.js';

export async function runSwitchover(ctx: RunContext): Promise<ScenarioResult> {
  const scenario = await startScenario({ policy: ctx.policy, wan: ctx.wan });
  return observed(scenario, async (observer) => {
    await observer.baseline();
    const zeroAt = await requestSwitchover(scenario);
    await scenario.waitForWriter('b1', 10_000);
    await waitForAcksOn(scenario.client, 'b1', zeroAt, 10_000);
    return observer.finish({ zeroAt, zeroLabel: 'switchover to b1 requested', planned: true });
  });
}

/** sysbench runs this long; the switchover is requested once it has run for SYSBENCH_LEAD_S. */
const SYSBENCH_SECONDS = 8;
const SYSBENCH_LEAD_S = 2;

export async function runSwitchoverUnderSysbench(ctx: RunContext): Promise<ScenarioResult> {
  const scenario = await startScenario({ policy: ctx.policy, wan: ctx.wan, haproxy: true });
  return observed(scenario, async (observer) => {
    const status = await scenario.lab.status();
    await prepareSysbenchTable(scenario.lab, 'a1');
    const load = runSysbenchWriteOnly(scenario.lab, status, SYSBENCH_SECONDS);
    await sleep(SYSBENCH_LEAD_S * 1000);
    const zeroAt = await requestSwitchover(scenario);
    const bench = await load;
    await scenario.waitForWriter('b1', 10_000);
    await waitForAcksOn(scenario.client, 'b1', zeroAt, 10_000);
    return observer.finish({
      zeroAt,
      zeroLabel: 'switchover to b1 requested (under sysbench)',
      planned: true,
      extra: {
        sysbenchTransactions: measured(bench.transactions),
        sysbenchRestarts: measured(bench.restarts),
      },
      notes: [
        `sysbench oltp_write_only, 4 threads through the write port: ${bench.summary}`,
        // The shared sysbench helper keeps totals only, so the outage is the measuring client's.
        "write outage: the direct client's longest gap (sysbench's per-second reports are not kept)",
      ],
    });
  });
}
