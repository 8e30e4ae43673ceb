import { afterEach, expect, test } from 'vitest';
import { printOutages, sleep, startScenario, type Scenario } from '../support/scenario.js';

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.lab.down();
  scenario = undefined;
});

test('10. every etcd member stalled for 5 s: the writer is fenced while no lease can be proven, then the same writer reopens', async () => {
  scenario = await startScenario({ policy: 'availability' });
  const before = await scenario.clusterState();
  const stalledAt = Date.now();
  for (const member of ['etcd-a', 'etcd-b', 'etcd-w']) await scenario.lab.fault('stop', member);
  await sleep(5_000);
  for (const member of ['etcd-a', 'etcd-b', 'etcd-w']) await scenario.lab.fault('cont', member);
  const after = await scenario.waitForWriter('a1', 30_000);
  // Same node, no failover. Reopening after a fence may go through a new epoch, never a new writer.
  expect(
    after.history.some(
      (h) =>
        (h as { node?: string; event?: string }).event === 'promote' &&
        (h as { node?: string }).node !== 'a1',
    ),
  ).toBe(false);
  console.log(`[etcd stall] writer a1 epoch ${before.writer?.epoch} -> ${after.writer?.epoch}`);
  // a1 was seen read-only during the stall: fenced while no lease could be proven.
  const fenced = scenario.sampler.samples.find(
    (s) => s.node === 'a1' && s.writable === false && s.sentAt > stalledAt,
  );
  expect(fenced).toBeDefined();
  console.log(`[etcd stall] a1 fenced ${fenced!.sentAt - stalledAt} ms after the stall began`);
  await sleep(500);
  const { outages } = await scenario.finish();
  printOutages('etcd stalled', outages);
  expect(outages.length).toBeGreaterThanOrEqual(1);
});
