import { afterEach, expect, test } from 'vitest';
import { printOutages, sleep, startScenario, type Scenario } from '../support/scenario.js';

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.lab.down();
  scenario = undefined;
});

test('1. kill -9 of the writer: b1 becomes the writer, no acknowledged write lost from what b1 received', async () => {
  scenario = await startScenario();
  await scenario.lab.fault('kill', 'a1');
  const state = await scenario.waitForWriter('b1', 30_000);
  await sleep(500);
  const { outages } = await scenario.finish();
  printOutages('writer killed', outages);
  expect(state.writer?.epoch).toBeGreaterThan(1);
  expect(outages).toHaveLength(1);
  expect(outages[0]?.toNode).toBe('b1');
});
