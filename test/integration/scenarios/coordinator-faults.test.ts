import { afterAll, afterEach, expect, test } from 'vitest';
import { eventually, raftLeaderName } from '../support/lab.js';
import {
  continueScenario,
  keepLogsIfFailed,
  printOutages,
  sleep,
  startScenario,
  type Scenario,
} from '../support/scenario.js';

/**
 * No test here changes the writer, so they share one lab: each after the first starts once
 * continueScenario has restarted what the last one killed and verified the lab is where a fresh
 * one starts (about 8 s of lab start-up and bootstrap saved per test). A test that fails leaves
 * its lab to no one: the next starts a fresh one.
 */
let scenario: Scenario | undefined;
const scenarioForTest = async (): Promise<Scenario> =>
  scenario ? continueScenario(scenario) : startScenario();
afterEach(async (context) => {
  if (!keepLogsIfFailed(scenario, context, 'coordinator faults')) return;
  await scenario?.lab.down();
  scenario = undefined;
});
afterAll(async () => {
  await scenario?.lab.down();
  scenario = undefined;
});

test('3. kill -9 of the leader coordinator: another leads within about one TTL, the writer stays', async () => {
  scenario = await scenarioForTest();
  const before = await scenario.clusterState();
  const leader = before.leader?.coordinator as string;
  expect(leader).toBeTruthy();
  const killedAt = Date.now();
  await scenario.lab.fault('kill', `coord-${leader}`);
  const after = await eventually(
    async () => {
      const state = await scenario!.clusterState();
      return state.leader && state.leader.coordinator !== leader ? state : undefined;
    },
    20_000,
    'a new leader',
  );
  console.log(`[leader killed] new leader ${after.leader?.coordinator} after ${Date.now() - killedAt} ms`);
  await sleep(1_000);
  const final = await scenario.clusterState();
  expect(final.writer?.node).toBe('a1');
  expect(final.writer?.epoch).toBe(before.writer?.epoch);
  const { outages } = await scenario.finish();
  printOutages('leader killed', outages);
  expect(outages).toEqual([]);
});

test("9. kill -9 of only the writer colo's coordinator: no failover, writes continue", async () => {
  scenario = await scenarioForTest();
  const before = await scenario.clusterState();
  await scenario.lab.fault('kill', 'coord-a');
  // Longer than the session TTL, so the dead guardian's lease has expired.
  await sleep(8_000);
  const after = await scenario.clusterState();
  expect(after.writer?.node).toBe('a1');
  expect(after.writer?.epoch).toBe(before.writer?.epoch);
  const acksOnA1 = scenario.client.acks.filter(
    (a) => a.node === 'a1' && a.sentAt > Date.now() - 2_000,
  ).length;
  expect(acksOnA1).toBeGreaterThan(10);
  const { outages } = await scenario.finish();
  printOutages('writer colo coordinator killed', outages);
  expect(outages).toEqual([]);
});

test("9b. SIGTERM of the writer colo's coordinator: its lease is released at once, the writer stays open", async () => {
  scenario = await scenarioForTest();
  const before = await scenario.clusterState();
  expect(Object.keys(before.observations)).toContain('a');
  const coordA = (await scenario.lab.status()).processes.find((p) => p.name === 'coord-a');
  const stoppedAt = Date.now();
  process.kill(coordA?.pid as number, 'SIGTERM');
  // Revoked, not left to expire: its report (bound to the lease) goes well within one TTL (4 s).
  await eventually(
    async () => (Object.keys((await scenario!.clusterState()).observations).includes('a') ? undefined : true),
    2_000,
    "coord-a's report gone",
  );
  console.log(`[graceful stop] coord-a's lease gone ${Date.now() - stoppedAt} ms after SIGTERM`);
  // Past the TTL, when the session's own deadline used to fire and fence a1.
  await sleep(6_000);
  const status = await scenario.lab.status();
  expect(status.processes.find((p) => p.name === 'coord-a')?.alive).toBe(false);
  expect(status.writable).toEqual(['a1']);
  const after = await scenario.clusterState();
  expect(after.writer).toEqual(before.writer);
  const recentAcks = scenario.client.acks.filter((a) => a.node === 'a1' && a.sentAt > Date.now() - 2_000);
  expect(recentAcks.length).toBeGreaterThan(10);
  const { outages } = await scenario.finish();
  printOutages('writer colo coordinator stopped', outages);
  expect(outages).toEqual([]);
});

test("4b. kill of etcd's raft leader (the witness member): no failover; once it is back, the coordinators move raft leadership back to it", async () => {
  scenario = await scenarioForTest();
  const before = await scenario.clusterState();
  expect(await raftLeaderName(scenario.lab)).toBe('w');
  await scenario.lab.fault('kill', 'etcd-w');
  await sleep(6_000);
  const after = await scenario.clusterState();
  expect(after.writer?.node).toBe('a1');
  // No failover. The election that follows can outlast the guardian's proof of its lease (one
  // took about 4 s in CI, split votes between the two members left at 900 ms election timeouts):
  // then colo a's guardian must fence a1, and the leader reopens the same a1 at a new epoch.
  if (after.writer?.epoch !== before.writer?.epoch) {
    console.log(
      `[raft leader] the election outlasted a's lease: a1 fenced and reopened at epoch ${after.writer?.epoch}`,
    );
    expect(after.writer?.reason).toBe('writer-reopen');
  }
  const interim = await raftLeaderName(scenario.lab);
  expect(['a', 'b']).toContain(interim);
  await scenario.lab.fault('start', 'etcd-w');
  const backAt = Date.now();
  await eventually(
    async () => ((await raftLeaderName(scenario!.lab)) === 'w' ? true : undefined),
    20_000,
    'raft leader w',
  );
  console.log(`[raft leader] back on w ${Date.now() - backAt} ms after etcd-w restarted (was on ${interim})`);
  const { outages } = await scenario.finish();
  printOutages('etcd raft leader killed', outages);
});

test('4. kill of one site etcd member: no failover, no writer change', async () => {
  scenario = await scenarioForTest();
  const before = await scenario.clusterState();
  await scenario.lab.fault('kill', 'etcd-a');
  await sleep(8_000);
  const after = await scenario.clusterState();
  expect(after.writer?.node).toBe('a1');
  expect(after.writer?.epoch).toBe(before.writer?.epoch);
  const { outages } = await scenario.finish();
  printOutages('etcd member killed', outages);
});
