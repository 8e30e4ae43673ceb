import { afterEach, expect, test } from 'vitest';
import { baton } from '../support/lab.js';
import { printOutages, sleep, startScenario, type Scenario } from '../support/scenario.js';

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.lab.down();
  scenario = undefined;
});

test('planned switchover through the CLI: b1 becomes writer, every acknowledged write is on it', async () => {
  scenario = await startScenario({ policy: 'consistency' });
  const before = await scenario.clusterState();
  const result = await baton(['switchover', '--lab', scenario.lab.dir, '--to', 'b1', '--timeout', '30']);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toMatch(/switchover done/);
  const after = await scenario.waitForWriter('b1', 10_000);
  expect(after.writer?.epoch).toBeGreaterThan(before.writer?.epoch ?? 0);
  await sleep(1_000);
  const { outages } = await scenario.finish();
  printOutages('switchover', outages);
  // Zero loss: every write acknowledged by either node is on the new writer.
  const conn = await scenario.lab.connect('b1');
  const [rows] = await conn.query('SELECT seq FROM writes WHERE client = ?', [scenario.client.clientId]);
  conn.destroy();
  const onB1 = new Set((rows as { seq: number }[]).map((r) => Number(r.seq)));
  const lost = scenario.client.acks.filter((a) => !onB1.has(a.seq));
  expect(lost).toEqual([]);
  expect(scenario.client.acks.some((a) => a.node === 'b1')).toBe(true);
});

test('pin stops an automatic failover; unpin lets the leader act again', async () => {
  scenario = await startScenario({ policy: 'availability' });
  const pin = await baton(['pin', '--lab', scenario.lab.dir, '--reason', 'maintenance']);
  expect(pin.code, pin.stderr).toBe(0);
  expect((await scenario.clusterState()).pin).toBeDefined();
  await scenario.lab.fault('kill', 'a1');
  const skipped = await scenario.waitForHistory('skipped-pinned', 15_000);
  console.log(`[pinned] ${JSON.stringify(skipped)}`);
  expect((await scenario.clusterState()).writer?.node).toBe('a1');
  const unpin = await baton(['unpin', '--lab', scenario.lab.dir]);
  expect(unpin.code, unpin.stderr).toBe(0);
  await scenario.waitForWriter('b1', 20_000);
  const { outages } = await scenario.finish();
  printOutages('pinned then unpinned', outages);
});
