import type { ClusterState } from '../../../src/ops/cluster-state.js';
import { idsOn } from './data-check.js';
import { eventually } from './lab.js';
import type { Scenario } from './scenario.js';
import type { ConcurrentWriters } from './writers.js';

/** Rows acknowledged before the kill: enough in flight that a lost tail would show. */
const ROWS_BEFORE_THE_KILL = 400;

/**
 * Issue 10's fault: `writers` load a1 until 400 rows are acknowledged, a1 is killed -9, and this
 * returns once b1 is the recorded writer and has acknowledged a row of theirs. The writers keep
 * running: the caller stops them before it compares data (rows arriving between reads are no
 * verdict).
 */
export async function killWriterUnderLoad(s: Scenario, writers: ConcurrentWriters): Promise<ClusterState> {
  writers.start();
  await eventually(
    async () => (writers.acked.length >= ROWS_BEFORE_THE_KILL ? true : undefined),
    30_000,
    `${ROWS_BEFORE_THE_KILL} acknowledged rows`,
  );
  await s.lab.fault('kill', 'a1');
  const state = await s.waitForWriter('b1', 30_000);
  await eventually(
    async () => (writers.acked.some((r) => r.node === 'b1') ? true : undefined),
    15_000,
    'a row on b1',
  );
  return state;
}

/** The acknowledged rows `node` does not hold. */
export async function ackedRowsMissingOn(
  s: Scenario,
  writers: ConcurrentWriters,
  node: string,
): Promise<number[]> {
  const held = await idsOn(await s.lab.status(), node);
  return [...writers.ids()].filter((id) => !held.has(id));
}
