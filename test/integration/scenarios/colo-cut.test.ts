import { afterEach, expect, test } from 'vitest';
import { batonOk, eventually, faultEffectiveAt } from '../support/lab.js';
import { printOutages, sleep, startScenario, type Scenario } from '../support/scenario.js';

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.lab.down().catch(() => undefined);
  scenario = undefined;
});

test("5. cut of the writer's colo: a 1.5 s blip is ridden out; a long cut: a1 fenced by its guardian before b1 opens; after heal a1 rejoins or is quarantined", async () => {
  scenario = await startScenario({ policy: 'availability' });
  // First a blip (issue 13): a 1.5 s cut of a's colo is ridden out, with no fence and no new
  // epoch (the session outlives it; the leader waits for a's guardian, which never lets go).
  const before = await scenario.clusterState();
  expect(await scenario.lab.fault('cut', 'a', '--for', '1.5')).toMatch(/cut for \d+ ms/);
  await sleep(2_000);
  const afterBlip = await scenario.clusterState();
  expect(afterBlip.writer).toMatchObject({ node: 'a1', epoch: before.writer?.epoch });
  const seen = new Set(before.history.map((h) => JSON.stringify(h)));
  expect(afterBlip.history.filter((h) => h.event === 'fence' && !seen.has(JSON.stringify(h)))).toEqual([]);

  const cutAt = Date.now();
  await scenario.lab.fault('cut', 'a');
  await scenario.waitForWriter('b1', 20_000);
  const b1Open = scenario.sampler.firstWritable('b1', cutAt);
  const a1LastWritable = scenario.sampler.lastWritable('a1');
  expect(b1Open).toBeDefined();
  console.log(
    `[colo cut] a1 last seen writable ${(a1LastWritable?.receivedAt ?? 0) - cutAt} ms after the cut, b1 open ${(b1Open?.receivedAt ?? 0) - cutAt} ms after the cut`,
  );
  // Fenced before b1 opened: a1's last writable reply precedes b1's first writable query.
  expect(a1LastWritable!.receivedAt).toBeLessThan(b1Open!.sentAt);
  // No write sent after b1 was certainly open was acknowledged by a1.
  const lateOnA1 = scenario.client.acks.filter((a) => a.node === 'a1' && a.sentAt > b1Open!.receivedAt);
  expect(lateOnA1).toEqual([]);

  await scenario.lab.fault('heal');
  const settled = await eventually(
    async () => {
      const state = await scenario!.clusterState();
      const a1 = (await scenario!.lab.status()).nodes.find((n) => n.name === 'a1');
      const rejoined =
        a1?.readOnly === true && a1.replication?.ioRunning === 'Yes' && a1.replication.sqlRunning === 'Yes';
      return rejoined || state.quarantine ? { state, rejoined } : undefined;
    },
    30_000,
    'a1 rejoined as standby or quarantined',
  );
  console.log(
    `[colo cut] after heal: ${settled.rejoined ? 'a1 rejoined as standby' : `quarantine ${JSON.stringify(settled.state.quarantine)}`}`,
  );
  expect(settled.state.writer?.node).toBe('b1');
  await sleep(500);
  const { outages } = await scenario.finish();
  printOutages('colo cut', outages);
});

test("5b. the writer colo's coordinator dead, then its colo cut: a1's own watchdog closes it before b1 opens", async () => {
  scenario = await startScenario({ policy: 'availability' });
  const shown = await batonOk(['status', '--lab', scenario.lab.dir]);
  expect(shown).toMatch(/^ {2}watchdog: +a1 armed, a2 armed, b1 armed, b2 armed$/m);
  await scenario.lab.fault('kill', 'coord-a');
  // Past the TTL: a1's guardian is gone, and the leader alone vouches for a1 (scenario 9).
  await sleep(6_000);
  expect((await scenario.lab.status()).writable).toEqual(['a1']);
  const cutAt = faultEffectiveAt(await scenario.lab.fault('cut', 'a'));
  await scenario.waitForWriter('b1', 20_000);
  const b1Open = scenario.sampler.firstWritable('b1', cutAt);
  const a1LastWritable = scenario.sampler.lastWritable('a1');
  expect(b1Open).toBeDefined();
  console.log(
    `[dead guardian, colo cut] a1 last seen writable ${(a1LastWritable?.receivedAt ?? 0) - cutAt} ms after the cut, b1 open ${(b1Open?.receivedAt ?? 0) - cutAt} ms after the cut`,
  );
  // Nobody could reach a1 to fence it: it closed itself before b1 opened.
  expect(a1LastWritable!.receivedAt).toBeLessThan(b1Open!.sentAt);
  const lateOnA1 = scenario.client.acks.filter((a) => a.node === 'a1' && a.sentAt > b1Open!.receivedAt);
  expect(lateOnA1).toEqual([]);
  await scenario.lab.fault('heal');
  const { outages } = await scenario.finish();
  printOutages('dead guardian, colo cut', outages);
});
