import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLab, type Lab } from './support/lab.js';
import { SplitBrainSampler } from './support/split-brain-sampler.js';
import { WriteClient } from './support/write-client.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The fault scenarios' own instruments must be able to fail: prove it on a bare lab. */
describe('scenario harness', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab();
  });

  afterAll(async () => {
    await lab?.down();
  });

  async function setReadOnly(node: string, readOnly: boolean): Promise<void> {
    const conn = await lab.connect(node, 'baton');
    try {
      await conn.query(`SET GLOBAL read_only = ${readOnly ? 'ON' : 'OFF'}`);
    } finally {
      conn.destroy();
    }
  }

  test('a healthy lab: every write acknowledged by a1, no outage, no split brain', async () => {
    const status = await lab.status();
    const sampler = new SplitBrainSampler(status).start();
    const client = new WriteClient(status).start();
    await sleep(1_000);
    await client.stop();
    expect(await sampler.stop()).toEqual([]);
    expect(client.acks.length).toBeGreaterThan(20);
    expect(new Set(client.acks.map((a) => a.node))).toEqual(new Set(['a1']));
    expect(client.outages()).toEqual([]);
  });

  test('the sampler proves two writers when b1 is opened beside a1', async () => {
    const sampler = new SplitBrainSampler(await lab.status()).start();
    await sleep(200);
    await setReadOnly('b1', false);
    await sleep(300);
    await setReadOnly('b1', true);
    const violations = await sampler.stop();
    expect(violations.length).toBeGreaterThan(0);
    expect(violations[0]?.nodes.sort()).toEqual(['a1', 'b1']);
  });

  test('the client measures a write outage while no node is writable', async () => {
    const client = new WriteClient(await lab.status()).start();
    await sleep(300);
    await setReadOnly('a1', true);
    await sleep(600);
    await setReadOnly('a1', false);
    await sleep(300);
    await client.stop();
    const outages = client.outages();
    console.log(
      `measured outage: ${outages.map((o) => `${o.ms} ms`).join(', ')} for a 600 ms read-only window`,
    );
    expect(outages).toHaveLength(1);
    expect(outages[0]?.ms).toBeGreaterThanOrEqual(550);
    expect(outages[0]?.ms).toBeLessThan(2_000);
    expect(client.errors.some((e) => /read-only/.test(e.message))).toBe(true);
  });
});
