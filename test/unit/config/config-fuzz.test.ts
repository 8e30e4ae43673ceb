/**
 * Fuzz of config files (issue 15): a valid config with every field set, broken at one place per
 * case (a wrong type, a number out of any range, a huge string, a control character, an unknown
 * field, deep nesting, a huge list) or cut short. Every broken file is refused with a ConfigError
 * whose problems name the place; nothing else is ever thrown; the error is one bounded line per
 * problem and never echoes a planted value. The seed is printed: FUZZ_SEED=N replays a run,
 * FUZZ_SEED=random explores.
 */

import { describe, expect, test } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { ConfigError, MAX_CONFIG_BYTES, parseConfig } from '../../../src/config/load-config.js';
import { CONTROL_CHARACTERS } from '../../../src/problem-text.js';
import { Prng } from '../../sim/prng.js';
import {
  CANARY,
  formatDocPath,
  fuzzCases,
  fuzzSeed,
  mutate,
  serialize,
  type Mutation,
} from '../fuzz/value-mutations.js';

/** Every section and optional field present, so that every field can be the one broken. */
const FULL_CONFIG = {
  coordinator: { name: 'east', colo: 'east' },
  coordinators: [
    { name: 'east', colo: 'east' },
    { name: 'west', colo: 'west' },
    { name: 'witness', colo: 'witness' },
  ],
  etcd: {
    endpoints: ['https://etcd-east:2379', 'https://10.0.0.2:2379'],
    auth: { user: 'baton', passwordFile: '/etc/baton/etcd.password' },
    tls: {
      caFile: '/etc/baton/etcd-ca.pem',
      certFile: '/etc/baton/etcd.pem',
      keyFile: '/etc/baton/etcd.key',
    },
    preferredLeader: 'etcd-witness',
    memberSites: { 'etcd-1': 'east', 'etcd-2': 'west', 'etcd-3': 'witness' },
  },
  mysql: { user: 'baton', passwordEnv: 'BATON_MYSQL_PASSWORD' },
  replication: { user: 'repl', passwordFile: '/etc/baton/repl.password' },
  clusters: [
    {
      name: 'orders',
      flavor: 'mariadb',
      policy: 'consistency',
      maxLagOnFailoverMs: 5000,
      cooldownMs: 300000,
      failoverBudget: { count: 3, windowMs: 3600000 },
      catchupTimeoutMs: 10000,
      fenceCommand: ['/usr/local/sbin/stonith', '--host', '{host}'],
      fenceCommandTimeoutMs: 5000,
      hooks: {
        beforePromote: { argv: ['/usr/local/lib/baton/hooks/approve'], timeoutMs: 2000 },
        afterWriterChange: { argv: ['/usr/local/lib/baton/hooks/dns', '--zone', 'db.'] },
      },
      watchdog: true,
      tls: {
        caFile: '/etc/baton/mysql-ca.pem',
        certFile: '/etc/baton/mysql-client.pem',
        keyFile: '/etc/baton/mysql-client.key',
        verifyIdentity: true,
      },
      nodes: [
        { name: 'east1', colo: 'east', role: 'candidate', host: 'db-east1', port: 3306, priority: 100 },
        {
          name: 'east2',
          colo: 'east',
          role: 'replica',
          replicatesFrom: 'east1',
          host: '10.1.0.2',
          port: 3306,
        },
        { name: 'west1', colo: 'west', role: 'candidate', host: 'db-west1.example.com', port: 3306 },
      ],
    },
  ],
  timings: {
    cycleIntervalMs: 200,
    probeTimeoutMs: 150,
    storeTimeoutMs: 500,
    commandTimeoutMs: 1000,
    sessionTtlMs: 4000,
    publishRefreshMs: 1000,
    quietProbeIntervalMs: 1000,
    reportFreshMs: 2500,
    downAfterFailures: 3,
    downAfterMs: 300,
    upAfterSuccesses: 3,
  },
  http: { listen: '0.0.0.0:8008' },
  doctor: { appUsers: [{ user: 'app', passwordFile: '/etc/baton/app.password' }] },
  log: { level: 'info' },
};

const SEED = fuzzSeed(15);
/**
 * A case costs 3-5 ms of CPU, most of it parsing YAML, so the file takes a few seconds; the
 * timeout leaves room for a loaded 2-core machine. To search longer:
 * FUZZ_SEED=random FUZZ_CASES=20000 npx vitest run test/unit/config/config-fuzz.test.ts
 */
const CASES = fuzzCases(300);
const CUTS = Math.ceil(CASES / 2);
const TIMEOUT_MS = Math.max(30_000, CASES * 50);

/** The config text a case writes: YAML, or JSON (which is YAML too). */
function textOf(mutation: Mutation, json: boolean): string {
  return serialize(mutation, (doc) => (json ? JSON.stringify(doc) : toYaml(doc)));
}

/** Parses `text`; returns the ConfigError, fails on anything else thrown. */
function rejection(text: string, context: string): ConfigError | undefined {
  try {
    parseConfig(text, 'fuzz.yaml');
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw new Error(
      `${context}: threw ${(error as Error).name}, not ConfigError: ${(error as Error).message}`,
    );
  }
}

/** What every ConfigError must look like, whatever the input. */
function expectWellFormed(error: ConfigError, context: string): void {
  expect(error.message, context).not.toContain(CANARY);
  expect(error.message, context).not.toMatch(/\n\s+at /); // no stack frames
  for (const p of error.problems) {
    expect(`${p.path}: ${p.message}`, context).not.toMatch(CONTROL_CHARACTERS);
    expect(p.path.length + p.message.length, context).toBeLessThanOrEqual(600);
  }
  expect(error.message.split('\n').length, context).toBeLessThanOrEqual(32);
}

describe('config fuzz', () => {
  test('the full config is valid (so every case breaks exactly what it mutates)', () => {
    expect(() => parseConfig(toYaml(FULL_CONFIG), 'full.yaml')).not.toThrow();
    expect(() => parseConfig(JSON.stringify(FULL_CONFIG), 'full.json')).not.toThrow();
  });

  test(
    `${CASES} broken configs are each refused, naming where (seed ${SEED})`,
    () => {
      console.log(`config fuzz: seed ${SEED}, ${CASES} cases (FUZZ_SEED=${SEED} replays)`);
      const rng = new Prng(SEED);
      const kinds = new Map<string, number>();
      for (let i = 0; i < CASES; i++) {
        const mutation = mutate(rng, FULL_CONFIG);
        const json = rng.chance(0.5);
        const text = textOf(mutation, json);
        const context = `seed ${SEED} case ${i}: ${mutation.kind} ${mutation.describe} (${json ? 'JSON' : 'YAML'})`;
        const error = rejection(text, context);
        expect(error, `${context}: accepted`).toBeDefined();
        if (!error) continue;
        expectWellFormed(error, context);
        const where = formatDocPath(mutation.path);
        const named = error.problems.some(
          (p) => p.path === where || p.path.startsWith(`${where}.`) || p.path.startsWith(`${where}[`),
        );
        const tooBig = text.length > MAX_CONFIG_BYTES;
        // Nesting deeper than the parser's stack is refused by the parser, which names line and column.
        const tooDeep =
          mutation.kind === 'deep-nesting' &&
          error.problems.some((p) => /line \d+, column \d+/.test(p.message));
        const problems = error.problems.map((p) => `${p.path}: ${p.message}`).join(' | ');
        if (tooBig) expect(problems, context).toMatch(/more than a config may have/);
        else
          expect(
            named || tooDeep,
            `${context}: problems do not name ${where || '(top level)'}: ${problems}`,
          ).toBe(true);
        kinds.set(mutation.kind, (kinds.get(mutation.kind) ?? 0) + 1);
      }
      console.log(`config fuzz: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`);
      expect(kinds.size).toBe(7);
    },
    TIMEOUT_MS,
  );

  test(
    `a config cut anywhere is refused or still valid, never anything else (seed ${SEED})`,
    () => {
      const rng = new Prng(SEED ^ 0x7a11);
      const texts = [toYaml(FULL_CONFIG), JSON.stringify(FULL_CONFIG, null, rng.pick([0, 2]))];
      let refused = 0;
      for (let i = 0; i < CUTS; i++) {
        const whole = rng.pick(texts);
        const cut = rng.int(0, whole.length - 1);
        const context = `seed ${SEED} cut ${i}: at ${cut} of ${whole.length}`;
        const error = rejection(whole.slice(0, cut), context);
        if (!error) continue;
        refused++;
        expectWellFormed(error, context);
        expect(error.problems.length, context).toBeGreaterThan(0);
      }
      console.log(`config fuzz: ${refused} of ${CUTS} cut configs refused`);
      // Most cuts break the YAML or drop a required section; a few fall between optional fields.
      expect(refused).toBeGreaterThan(CUTS * 0.8);
    },
    TIMEOUT_MS,
  );

  test('the longest list is refused at its bound, not by the file size', () => {
    const cluster = {
      name: 'c',
      policy: 'availability',
      nodes: [
        { name: 'a1', colo: 'east', role: 'candidate', host: 'a1', port: 3306 },
        { name: 'b1', colo: 'west', role: 'candidate', host: 'b1', port: 3306 },
      ],
    };
    const text = JSON.stringify({ ...FULL_CONFIG, clusters: Array.from({ length: 1_001 }, () => cluster) });
    expect(text.length).toBeLessThan(MAX_CONFIG_BYTES);
    const error = rejection(text, 'clusters');
    expect(error?.problems).toEqual([{ path: 'clusters', message: 'expected at most 1000 entries' }]);
  });

  test('a file that is not a mapping is refused at the top level', () => {
    for (const text of ['just words', '- a\n- b', '42', 'true', '"quoted"', '[]']) {
      const error = rejection(text, text);
      expect(error?.problems[0]?.path, text).toBe('');
    }
  });
});
