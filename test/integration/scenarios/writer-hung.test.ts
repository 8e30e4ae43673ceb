import { afterEach, expect, test } from 'vitest';
import { keepLogsIfFailed, printOutages, sleep, startScenario, type Scenario } from '../support/scenario.js';

let scenario: Scenario | undefined;
afterEach(async (context) => {
  keepLogsIfFailed(scenario, context, 'writer hung');
  await scenario?.lab.down();
  scenario = undefined;
});

test('2. SIGSTOP of the writer: a stall shorter than the failover decision -> no fence, same epoch; longer -> failover', async () => {
  scenario = await startScenario({ policy: 'availability' });
  const before = await scenario.clusterState();

  // Issue 13: the guardian fences a writer its probes see down only once a failover away from it
  // is under way, so a stall that ends first costs no fence and no new epoch. Timed from when
  // it took effect (`--for`), not from the command's start.
  const stall = await scenario.lab.fault('stop', 'a1', '--for', '0.8');
  expect(stall).toMatch(/stopped for \d+ ms/);
  await sleep(3_000);
  const afterBlip = await scenario.clusterState();
  expect(afterBlip.writer?.node).toBe('a1');
  expect(afterBlip.writer?.epoch).toBe(before.writer?.epoch);
  const seen = new Set(before.history.map((h) => JSON.stringify(h)));
  const fences = afterBlip.history.filter((h) => h.event === 'fence' && !seen.has(JSON.stringify(h)));
  expect(fences).toEqual([]);

  const stoppedAt = Date.now();
  await scenario.lab.fault('stop', 'a1');
  await scenario.waitForWriter('b1', 20_000);
  console.log(`[writer hung] b1 writable ${Date.now() - stoppedAt} ms after SIGSTOP`);
  // The old writer comes back: continued if it is still stopped, restarted if the fence command
  // shot it. Either way it must never be writable beside b1 (the sampler checks).
  const a1 = (await scenario.lab.status()).nodes.find((n) => n.name === 'a1');
  console.log(`[writer hung] a1 after the failover: ${a1?.state}`);
  await scenario.lab.fault(a1?.state === 'stopped' ? 'cont' : 'start', 'a1');
  await sleep(3_000);
  const status = await scenario.lab.status();
  expect(status.writable).toEqual(['b1']);
  const { outages } = await scenario.finish();
  printOutages('writer hung', outages);
  expect(
    outages.filter((o) => o.ms > 1_000 && o.firstAckAfter > stoppedAt),
    JSON.stringify({ stoppedAt, outages }),
  ).toHaveLength(1);
});
