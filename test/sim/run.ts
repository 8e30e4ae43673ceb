/**
 * Simulation runner.
 *   npm run sim -- --seeds N [--start S]   run seeds S..S+N-1, stop at the first violation
 *   SEED=X npm run sim                     replay seed X and print its trace
 * Exits non-zero on a violation, after printing the seed and the trace that led to it.
 */

import { runSeed, type SeedResult } from './run-seed.js';

// Timeouts are the common case in a simulated outage; their stack traces are never printed.
Error.stackTraceLimit = 0;

function argValue(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${name} needs a non-negative integer`);
  return v;
}

function printFailure(result: SeedResult): void {
  const v = result.violation;
  if (!v) return;
  console.log(`\nVIOLATION seed=${result.seed} checker=${v.checker} at ${v.at} ms: ${v.message}`);
  console.log(`replay: SEED=${result.seed} npm run sim\n`);
  console.log(result.world.trace.tail(400).join('\n'));
  console.log(`\nVIOLATION seed=${result.seed} checker=${v.checker} at ${v.at} ms: ${v.message}`);
}

async function main(): Promise<void> {
  const replay = process.env.SEED;
  if (replay !== undefined && replay !== '') {
    const seed = Number(replay);
    const result = await runSeed(seed);
    console.log(result.world.trace.lines.join('\n'));
    if (result.violation) {
      printFailure(result);
      process.exitCode = 1;
      return;
    }
    console.log(`\nseed ${seed}: ok`);
    return;
  }
  const count = argValue('--seeds') ?? 100;
  const start = argValue('--start') ?? 0;
  // --keep-going: survey mode for debugging, one line per failing seed, never stops early.
  const keepGoing = process.argv.includes('--keep-going');
  let failures = 0;
  const began = performance.now();
  const end = start + count;
  for (let seed = start; seed < end; seed++) {
    const result = await runSeed(seed);
    if (result.violation && keepGoing) {
      failures++;
      console.log(
        `FAIL seed=${seed} ${result.violation.checker} at ${result.violation.at} ms: ${result.violation.message}`,
      );
      continue;
    }
    if (result.violation) {
      printFailure(result);
      console.log(
        `seeds ${start}..${seed} ran; seed ${seed} failed (${((performance.now() - began) / 1000).toFixed(1)} s)`,
      );
      process.exitCode = 1;
      return;
    }
    if ((seed - start + 1) % 1000 === 0) {
      const s = (performance.now() - began) / 1000;
      console.log(`  ${seed - start + 1}/${count} seeds ok (${s.toFixed(1)} s)`);
    }
  }
  const ms = performance.now() - began;
  if (failures > 0) {
    console.log(`${failures} of ${count} seeds (${start}..${end - 1}) failed`);
    process.exitCode = 1;
    return;
  }
  console.log(
    `seeds ${start}..${end - 1} (${count}) passed in ${(ms / 1000).toFixed(1)} s, ${(ms / count).toFixed(2)} ms/seed`,
  );
}

await main();
