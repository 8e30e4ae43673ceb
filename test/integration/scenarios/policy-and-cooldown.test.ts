import { afterEach, expect, test } from 'vitest';
import { printOutages, sleep, startScenario, type Scenario } from '../support/scenario.js';

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.lab.down();
  scenario = undefined;
});

// Scenario 6 (consistency policy, async replication: no automatic promotion) is data-safety 10.3,
// which also loads the writer with 8 clients and checks the same outcome.

test('7. a second failure within the cooldown: no automatic failover', async () => {
  scenario = await startScenario({ policy: 'availability' });
  await scenario.lab.fault('kill', 'a1');
  const promoted = await scenario.waitForWriter('b1', 30_000);
  await scenario.lab.fault('kill', 'b1');
  const skipped = await scenario.waitForHistory('skipped-cooldown', 15_000);
  console.log(`[cooldown] ${JSON.stringify(skipped)}`);
  await scenario.lab.fault('start', 'a1');
  await sleep(5_000);
  const after = await scenario.clusterState();
  expect(after.writer?.node).toBe('b1');
  expect(after.writer?.epoch).toBe(promoted.writer?.epoch);
  const { outages } = await scenario.finish();
  printOutages('cooldown', outages);
});
