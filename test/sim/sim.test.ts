/**
 * A few hundred seeds of the full simulation on every test run (CI runs thousands with
 * `npm run sim`). A failure names the seed: replay it with `SEED=<seed> npm run sim`.
 */

import { describe, expect, it } from 'vitest';
import { runSeed } from './run-seed.js';

const SEEDS = Number(process.env.SIM_TEST_SEEDS ?? 300);
const START = 1_000_000;

describe('seeded simulation', () => {
  it(`keeps every invariant for seeds ${START}..${START + SEEDS - 1}`, async () => {
    const failures: string[] = [];
    let failovers = 0;
    for (let seed = START; seed < START + SEEDS; seed++) {
      const result = await runSeed(seed);
      if (result.violation) {
        failures.push(
          `seed ${seed}: ${result.violation.checker}: ${result.violation.message} (SEED=${seed} npm run sim)`,
        );
        break;
      }
      failovers += result.world.checkers.checked.writerCommits;
    }
    expect(failures).toEqual([]);
    // The sweep must exercise writer changes, or it proves nothing.
    expect(failovers).toBeGreaterThan(SEEDS / 10);
  }, 120_000);
});
