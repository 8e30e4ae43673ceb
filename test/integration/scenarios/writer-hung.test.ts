import { afterEach, expect, test } from 'vitest';
import { printOutages, sleep, startScenario, type Scenario } from '../support/scenario.js';

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.lab.down();
  scenario = undefined;
});

test('2. SIGSTOP of the writer: shorter than the hysteresis window -> no failover; longer -> failover', async () => {
  scenario = await startScenario({ policy: 'availability' });
  const before = await scenario.clusterState();

  // Signalled directly: through the CLI the hang would last as long as two command starts.
  const a1Pid = (await scenario.lab.status()).nodes.find((n) => n.name === 'a1')?.pid as number;
  process.kill(a1Pid, 'SIGSTOP');
  await sleep(150);
  process.kill(a1Pid, 'SIGCONT');
  await sleep(3_000);
  const afterBlip = await scenario.clusterState();
  expect(afterBlip.writer?.node).toBe('a1');
  expect(afterBlip.writer?.epoch).toBe(before.writer?.epoch);

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
  expect(outages.filter((o) => o.ms > 1_000)).toHaveLength(1);
});
