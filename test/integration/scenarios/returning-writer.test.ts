import { afterEach, expect, test } from 'vitest';
import { asRoot, eventually } from '../support/lab.js';
import { keepLogsIfFailed, printOutages, sleep, startScenario, type Scenario } from '../support/scenario.js';

let scenario: Scenario | undefined;
afterEach(async (context) => {
  keepLogsIfFailed(scenario, context, 'returning writer');
  await scenario?.lab.down();
  scenario = undefined;
});

async function gtidOf(scenario: Scenario, node: string): Promise<string> {
  const status = await scenario.lab.status();
  return status.nodes.find((n) => n.name === node)?.gtidCurrentPos ?? '';
}

test('8a. writer killed mid-write with transactions no survivor received: it returns quarantined, b1 stops replicating from it', async () => {
  scenario = await startScenario({ policy: 'availability' });
  // b1 stops receiving, so a1 holds committed writes b1 never got when it dies; a2, which has
  // them, dies first, so no survivor can give them to b1 (else b1 catches up from a2 and
  // nothing is lost: data-safety.test.ts).
  await scenario.lab.fault('kill', 'a2');
  await asRoot(scenario.lab, 'b1', 'STOP SLAVE IO_THREAD');
  // Briefly: more than maxLagOnFailover behind, b1 would not be promoted at all.
  await sleep(500);
  await scenario.lab.fault('kill', 'a1');
  await scenario.waitForWriter('b1', 30_000);
  await scenario.lab.fault('start', 'a1');
  const quarantined = await eventually(
    async () => {
      const state = await scenario!.clusterState();
      return JSON.stringify(state.quarantine ?? '').includes('errant') ? state : undefined;
    },
    30_000,
    'a1 quarantined with errant transactions',
  );
  console.log(
    `[errant] quarantine ${JSON.stringify(quarantined.quarantine)}; a1 ${await gtidOf(scenario, 'a1')} b1 ${await gtidOf(scenario, 'b1')}`,
  );
  const b1 = (await scenario.lab.status()).nodes.find((n) => n.name === 'b1');
  expect(b1?.replication?.ioRunning).not.toBe('Yes');
  // The rows only a1 holds are its errant transactions; they must never reach the new writer.
  const seqs = async (node: string): Promise<Set<number>> => {
    const conn = await scenario!.lab.connect(node);
    try {
      const [rows] = await conn.query('SELECT seq FROM writes WHERE client = ?', [scenario!.client.clientId]);
      return new Set((rows as { seq: number }[]).map((r) => Number(r.seq)));
    } finally {
      conn.destroy();
    }
  };
  // a1 first: a new write to b1 that reaches a1 between the two reads is then already on b1.
  const onA1 = await seqs('a1');
  const onB1 = await seqs('b1');
  const onlyOnA1 = [...onA1].filter((seq) => !onB1.has(seq));
  console.log(
    `[errant] ${onlyOnA1.length} rows only on a1 (seq ${Math.min(...onlyOnA1)}..${Math.max(...onlyOnA1)})`,
  );
  expect(onlyOnA1.length).toBeGreaterThan(0);
  expect((await scenario.lab.status()).nodes.find((n) => n.name === 'a1')?.readOnly).toBe(true);
  await sleep(2_000);
  const laterOnB1 = await seqs('b1');
  expect(onlyOnA1.filter((seq) => laterOnB1.has(seq))).toEqual([]);
  // a2 returns holding a1's transactions b1 lacks: diverged, so quarantined, never repointed.
  await scenario.lab.fault('start', 'a2');
  const diverged = await scenario.waitForHistory('replica-diverged', 30_000);
  console.log(`[errant] ${diverged.message}`);
  expect(diverged.node).toBe('a2');
  const { outages } = await scenario.finish();
  printOutages('errant return', outages);
});

test('8b. writer killed without errant transactions: it rejoins as standby with circular replication restored', async () => {
  scenario = await startScenario({ policy: 'availability' });
  await scenario.client.stop();
  await sleep(1_000);
  await scenario.lab.fault('kill', 'a1');
  await scenario.waitForWriter('b1', 30_000);
  await scenario.lab.fault('start', 'a1');
  await eventually(
    async () => {
      const nodes = (await scenario!.lab.status()).nodes;
      const a1 = nodes.find((n) => n.name === 'a1');
      const b1 = nodes.find((n) => n.name === 'b1');
      if (
        a1?.readOnly === true &&
        a1.replication?.ioRunning === 'Yes' &&
        b1?.replication?.ioRunning === 'Yes'
      )
        return true;
      throw new Error(
        `a1 read_only ${String(a1?.readOnly)} ${JSON.stringify(a1?.replication)}; b1 ${JSON.stringify(b1?.replication)}`,
      );
    },
    30_000,
    'a1 standby and circular replication restored',
  );
  const conn = await scenario.lab.connect('b1');
  await conn.query('INSERT INTO writes (client, seq) VALUES (?, ?)', ['rejoin-check', 1]);
  conn.destroy();
  await eventually(
    async () => {
      const a1 = await scenario!.lab.connect('a1');
      const [rows] = await a1.query("SELECT COUNT(*) AS n FROM writes WHERE client = 'rejoin-check'");
      a1.destroy();
      return (rows as { n: number }[])[0]?.n === 1 ? true : undefined;
    },
    10_000,
    'a row written on b1 to reach a1',
  );
  await scenario.finish();
});
