/**
 * Fuzz of intent values written to etcd by hand (issue 15): valid intents of every kind, broken
 * at one place per case (a wrong type, a number out of range, a huge string, a control character,
 * an unknown field, deep nesting), cut short, or not an object at all. Each reads back as an
 * invalid intent whose problem names the place, never as an exception and never as a request
 * the leader would act on; and what the leader then stores reads back as itself, already
 * answered, so nothing is answered twice. The seed is printed: FUZZ_SEED=N replays a run,
 * FUZZ_SEED=random explores, FUZZ_CASES=N searches longer.
 */

import { describe, expect, test } from 'vitest';
import { readIntentRecord, MAX_INTENT_CHARS } from '../../../src/coordinator/intent-record.js';
import { clusterKeys } from '../../../src/coordinator/keys.js';
import type { Intent } from '../../../src/core/index.js';
import { CONTROL_CHARACTERS } from '../../../src/problem-text.js';
import { Prng } from '../../sim/prng.js';
import { CANARY, formatDocPath, fuzzCases, fuzzSeed, mutate, serialize } from '../fuzz/value-mutations.js';

const keys = clusterKeys('orders');
const at = Date.UTC(2026, 0, 2, 3, 4, 5);

/** Every kind, every optional field set (what the CLI writes, and what the leader adds). */
const VALID: Intent[] = [
  {
    id: '20260102T030405000Z-a1b2c3',
    kind: 'pin',
    node: 'db-b1',
    by: 'ops@host',
    at,
    status: 'pending',
    reason: 'maintenance',
  },
  { id: 'unpin-1', kind: 'unpin', by: 'ops@host', at, status: 'pending', reason: 'done' },
  { id: 'switch.2', kind: 'switchover', target: 'db-b1', by: 'ops@host', at, status: 'pending' },
  {
    id: 'op:3',
    kind: 'failover',
    target: 'db-b1',
    acceptDataLoss: true,
    by: 'ops@host',
    at,
    status: 'pending',
  },
  { id: 'rejoin_4', kind: 'rejoin', node: 'db-a1', by: 'ops@host', at, status: 'in-progress' },
  {
    id: 'answered-5',
    kind: 'switchover',
    by: 'ops@host',
    at,
    status: 'failed',
    outcome: { reason: 'skipped-no-candidate', message: 'db-b1 is not reachable', at: at + 1 },
  },
];

const SEED = fuzzSeed(15);
/** A case costs about 2 ms with its checks, most of it in the expectations. */
const CASES = fuzzCases(1_000);
/** Room for a loaded 2-core machine, and for FUZZ_CASES. */
const TIMEOUT_MS = Math.max(30_000, CASES * 10);

function read(key: string, value: string, context: string) {
  try {
    return readIntentRecord(key, value);
  } catch (error) {
    throw new Error(`${context}: threw ${(error as Error).name}: ${(error as Error).message}`);
  }
}

/** What the leader stores once it has marked an intent failed (executor, resolve-intent). */
function answered(intent: Intent): string {
  return JSON.stringify({
    ...intent,
    status: 'failed',
    outcome: {
      reason: 'intent-invalid',
      message: `not a request baton can act on: ${'problem' in intent ? intent.problem : ''}`,
      at: at + 10,
    },
  });
}

describe('intent values read back from etcd', () => {
  test('every valid intent reads back as itself', () => {
    for (const intent of VALID)
      expect(readIntentRecord(keys.intent(intent.id), JSON.stringify(intent))).toEqual({ intent });
  });

  test(
    `${CASES} broken intents are each invalid, naming where (seed ${SEED})`,
    () => {
      console.log(`intent fuzz: seed ${SEED}, ${CASES} cases (FUZZ_SEED=${SEED} replays)`);
      const rng = new Prng(SEED);
      const kinds = new Map<string, number>();
      for (let i = 0; i < CASES; i++) {
        const original = rng.pick(VALID);
        const mutation = mutate(rng, original);
        const key = keys.intent(original.id);
        const value = serialize(mutation, JSON.stringify);
        const context = `seed ${SEED} case ${i}: ${original.kind} ${mutation.kind} ${mutation.describe}`;
        const { intent, problems } = read(key, value, context);

        expect(problems, `${context}: accepted`).toBeDefined();
        expect(intent.kind, context).toBe('invalid');
        if (intent.kind !== 'invalid' || !problems) continue;
        const where = formatDocPath(mutation.path);
        const named = problems.some((p) =>
          where === '' ? p.path === '' : p.path === where || p.path.startsWith(`${where}.`),
        );
        const list = problems.map((p) => `${p.path}: ${p.message}`).join(' | ');
        if (value.length > MAX_INTENT_CHARS) expect(list, context).toMatch(/more than an intent may have/);
        else expect(named, `${context}: problems do not name ${where || '(top level)'}: ${list}`).toBe(true);
        // Path-qualified and safe to log: one line, bounded, nothing of the value echoed.
        expect(intent.problem, context).not.toMatch(CONTROL_CHARACTERS);
        expect(intent.problem, context).not.toContain(CANARY);
        expect(intent.problem.length, context).toBeLessThanOrEqual(1_000);
        if (!problems.some((p) => p.path === 'id'))
          expect(intent.problem, context).toContain(problems[0]?.path || '(top level)');
        // Under the key's id, so the answer lands on this key; answered unless it says it was.
        expect(intent.id, context).toBe(original.id);
        const saysAnswered =
          original.status === 'failed' && mutation.path[0] !== 'status' && value.length <= MAX_INTENT_CHARS;
        expect(intent.status, context).toBe(saysAnswered ? 'failed' : 'pending');
        // The answer the leader stores reads back as answered: it is never answered again.
        const again = read(key, answered(intent), `${context} (answered)`);
        expect(again, `${context}: the stored answer`).toEqual({
          intent: { ...intent, status: 'failed', outcome: expect.any(Object) },
        });
        kinds.set(mutation.kind, (kinds.get(mutation.kind) ?? 0) + 1);
      }
      console.log(`intent fuzz: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`);
      expect(kinds.size).toBe(6); // every kind of mutation but huge-array (an intent has no list)
    },
    TIMEOUT_MS,
  );

  test(`an intent cut anywhere is invalid as not JSON, never a throw (seed ${SEED})`, () => {
    const rng = new Prng(SEED ^ 0x1d3a);
    for (let i = 0; i < 500; i++) {
      const original = rng.pick(VALID);
      const whole = JSON.stringify(original);
      const cut = rng.int(0, whole.length - 1);
      const context = `seed ${SEED} cut ${i}: ${whole.slice(0, cut)}`;
      const { intent, problems } = read(keys.intent(original.id), whole.slice(0, cut), context);
      expect(intent.kind, context).toBe('invalid');
      expect(problems, context).toEqual([{ path: '', message: expect.stringMatching(/^not JSON/) }]);
    }
  });

  test('values that are not an object, or too large, are invalid at the top level', () => {
    const key = keys.intent('x');
    for (const value of [
      '42',
      '"pin"',
      'null',
      'true',
      '[]',
      '[{"kind":"pin"}]',
      '',
      ' ',
      `"${'x'.repeat(MAX_INTENT_CHARS)}"`,
    ]) {
      const { intent, problems } = readIntentRecord(key, value);
      expect(intent, value.slice(0, 20)).toMatchObject({
        id: 'x',
        kind: 'invalid',
        status: 'pending',
        by: 'unknown',
        at: 0,
      });
      expect(
        problems?.map((p) => p.path),
        value.slice(0, 20),
      ).toEqual(['']);
      expect(intent.kind === 'invalid' && intent.problem, value.slice(0, 20)).toMatch(/^\(top level\): /);
    }
  });

  test('examples: what an operator sees', () => {
    const key = keys.intent('op-7');
    const problem = (value: object) => {
      const { intent } = readIntentRecord(
        key,
        JSON.stringify({ id: 'op-7', by: 'me@host', at, status: 'pending', ...value }),
      );
      return intent.kind === 'invalid' ? intent.problem : undefined;
    };
    // A string where a boolean belongs is not "true": the leader never sees this as consent.
    expect(problem({ kind: 'failover', acceptDataLoss: 'false' })).toBe(
      'acceptDataLoss: expected true or false',
    );
    expect(problem({ kind: 'switchover', target: 42 })).toBe('target: expected a node name');
    expect(problem({ kind: 'reboot' })).toBe('kind: expected kind pin, unpin, switchover, failover, rejoin');
    expect(problem({ kind: 'rejoin' })).toBe('node: required');
    expect(problem({ kind: 'pin', node: 'db-a1', force: true })).toBe('(top level): unknown field(s): force');
    expect(problem({ kind: 'pin', id: 'op-8' })).toBe('id: expected "op-7", the last part of its key');
    expect(problem({ kind: 'unpin', at: -1, by: '' })).toBe(
      'by: expected who asked (user@host); at: expected wall-clock milliseconds (an integer)',
    );
  });
});
