import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  ConfigError,
  loadConfig,
  MAX_CONFIG_BYTES,
  parseConfig,
  readClusterTls,
  readEtcdTls,
  resolvePassword,
} from '../../../src/config/load-config.js';
import { timingsSchema } from '../../../src/config/schema.js';
import { coreTimings, DEFAULT_CORE_CONFIG, DEFAULT_TIMINGS, loopTimings } from '../../../src/core/index.js';
import { toCoordinatorConfig } from '../../../src/daemon/coordinator-config.js';

const VALID = `
coordinator: { name: a, colo: a }
coordinators:
  - { name: a, colo: a }
  - { name: b, colo: b }
  - { name: w, colo: w }
etcd:
  endpoints: [http://127.0.0.1:2379, http://127.0.0.2:2379]
mysql: { user: baton, passwordFile: /etc/baton/mysql.password }
clusters:
  - name: orders
    policy: availability
    nodes:
      - { name: a1, colo: a, role: candidate, host: db-a1, port: 3306 }
      - { name: a2, colo: a, role: replica, replicatesFrom: a1, host: db-a2, port: 3306 }
      - { name: b1, colo: b, role: candidate, host: db-b1, port: 3306 }
`;

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'test.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('config loading', () => {
  test('a valid file gets defaults for everything optional', () => {
    const config = parseConfig(VALID, 'test.yaml');
    expect(config.clusters[0]?.flavor).toBe('mariadb');
    expect(config.clusters[0]?.nodes[0]?.priority).toBe(100);
    expect(config.timings.sessionTtlMs).toBe(4_000);
    expect(config.log.level).toBe('info');
  });

  const cases: [string, string, string[]][] = [
    [
      'port out of range',
      VALID.replace('host: db-b1, port: 3306', 'host: db-b1, port: 70000'),
      ['clusters[0].nodes[2].port: expected integer 1-65535'],
    ],
    [
      'port not an integer',
      VALID.replace('host: db-a2, port: 3306', 'host: db-a2, port: "x"'),
      ['clusters[0].nodes[1].port: expected integer 1-65535'].map((s) => s),
    ],
    [
      'unknown field',
      VALID.replace('mysql: { user: baton,', 'mysql: { user: baton, password: hunter2,'),
      ['mysql: unknown field(s): password'],
    ],
    ['missing section', VALID.replace(/etcd:\n.*\n/, ''), ['etcd: required']],
    [
      'one candidate only',
      VALID.replace(
        '{ name: b1, colo: b, role: candidate',
        '{ name: b1, colo: b, role: replica, replicatesFrom: a1',
      ),
      ['clusters[0].nodes: expected exactly 2 candidate masters, found 1'],
    ],
    [
      'replica of a replica',
      VALID.replace('replicatesFrom: a1', 'replicatesFrom: a2'),
      ['clusters[0].nodes[1].replicatesFrom: "a2" is not a candidate master of orders'],
    ],
    [
      'probe timeout longer than the cycle',
      VALID + 'timings: { probeTimeoutMs: 900, cycleIntervalMs: 500 }\n',
      ['timings.probeTimeoutMs: must be below timings.cycleIntervalMs (500): one cycle in flight'],
    ],
    [
      'TTL too short to fence before expiry',
      VALID + 'timings: { sessionTtlMs: 1500 }\n',
      [
        'timings.sessionTtlMs: must exceed 3 × (storeTimeoutMs + cycleIntervalMs) = 2100: otherwise the guardian cannot fence before its lease expires',
      ],
    ],
    [
      'quiet probes more often than the cycle',
      VALID + 'timings: { quietProbeIntervalMs: 100 }\n',
      [
        'timings.quietProbeIntervalMs: must be at least timings.cycleIntervalMs (200): it spaces probes out, never in',
      ],
    ],
    [
      'quiet interval so long a quiet leader sees reports stale',
      VALID + 'timings: { quietProbeIntervalMs: 2000 }\n',
      [
        'timings.quietProbeIntervalMs: plus timings.publishRefreshMs (1000) must be below timings.reportFreshMs (2500), or live observers look stale to a quiet leader',
      ],
    ],
    [
      'TTL too short for the watchdog',
      VALID + 'timings: { sessionTtlMs: 3000 }\n',
      [
        "clusters[0].watchdog: the watchdog needs sessionTtlMs of at least 3450 with these timings (its event acts within 1250 ms of a deadline that must fall before the stamper's lease can expire, and a stamp must outlast two cycles); or set it to false",
      ],
    ],
    [
      'two sites only',
      VALID.replace('  - { name: w, colo: w }\n', ''),
      [
        'coordinators: expected coordinators in at least 3 sites (two colos and a witness): with 2, losing either loses quorum',
      ],
    ],
    [
      'self not listed',
      VALID.replace('coordinator: { name: a, colo: a }', 'coordinator: { name: z, colo: a }'),
      ['coordinator.name: "z" is not listed in coordinators'],
    ],
    ['not YAML', 'clusters: [', ['not valid YAML']],
  ];
  test.each(cases)('%s', (_name, text, expected) => {
    const problems = problemsOf(text);
    for (const want of expected) expect(problems.some((p) => p.includes(want))).toBe(true);
    expect(problems.length).toBeGreaterThan(0);
  });

  test('every problem is listed at once, with its path', () => {
    const text = VALID.replace('port: 70000', '')
      .replace('host: db-b1, port: 3306', 'host: db-b1, port: 0')
      .replace('policy: availability', 'policy: yolo');
    const problems = problemsOf(text);
    expect(problems).toContain('clusters[0].nodes[2].port: expected integer 1-65535');
    expect(problems.some((p) => p.startsWith('clusters[0].policy:'))).toBe(true);
  });

  test('strings, lists and files are bounded, each refusal naming its field', () => {
    const problems = problemsOf(
      VALID.replace('host: db-a1', 'host: "db a1"')
        .replace('user: baton', `user: ${'u'.repeat(200)}`)
        .replace('policy: availability', `policy: availability\n    fenceCommand: ["/bin/stonith", "a\\nb"]`),
    );
    expect(problems).toEqual([
      'mysql.user: expected a string of 1-128 characters',
      'clusters[0].fenceCommand[1]: expected no control characters (newline, tab, NUL...)',
      'clusters[0].nodes[0].host: expected a host name or IP address (max 253 characters)',
    ]);
    const endpoints = Array.from({ length: 33 }, (_, i) => `http://10.0.0.${i}:2379`).join(', ');
    expect(problemsOf(VALID.replace(/endpoints: \[.*\]/, `endpoints: [${endpoints}]`))).toEqual([
      'etcd.endpoints: expected at most 32 entries',
    ]);
  });

  test('an unknown key that is not a plain word is quoted, escaped and cut', () => {
    const key = `"${'k'.repeat(100)}\\nx"`;
    expect(problemsOf(VALID.replace('mysql: { user: baton,', `mysql: { ${key}: 1, user: baton,`))).toEqual([
      `mysql: unknown field(s): "${'k'.repeat(59)}…"`,
    ]);
  });

  test('a file wrong everywhere lists 30 problems and counts the rest', () => {
    const nodes = Array.from(
      { length: 40 },
      (_, i) => `      - { name: n${i}, colo: a, role: replica, host: h${i}, port: 0 }`,
    );
    const text = VALID.replace(/ {4}nodes:\n[\s\S]*$/, `    nodes:\n${nodes.join('\n')}\n`);
    const error = (() => {
      try {
        parseConfig(text, 'x.yaml');
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error?.problems).toHaveLength(40);
    const lines = error?.message.split('\n') ?? [];
    expect(lines).toHaveLength(32);
    expect(lines[31]).toBe('  … and 10 more');
  });

  test('a file larger than any config is refused before it is parsed', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-config-'));
    const file = path.join(dir, 'huge.yaml');
    writeFileSync(file, `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
    try {
      expect(() => loadConfig(file)).toThrow(
        `invalid config ${file}:\n  (top level): ${MAX_CONFIG_BYTES + 3} bytes, more than a config may have (${MAX_CONFIG_BYTES})`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the error message lists one problem per line', () => {
    expect(() =>
      parseConfig(
        VALID.replace('port: 3306 }\n      - { name: b1', 'port: -1 }\n      - { name: b1'),
        'x.yaml',
      ),
    ).toThrow(/invalid config x\.yaml:\n {2}clusters\[0\]\.nodes\[1\]\.port: expected integer 1-65535/);
  });
});

describe('timings have one home', () => {
  test('the file, the loop and the decision core start from the same defaults', () => {
    expect(timingsSchema.parse({})).toEqual(DEFAULT_TIMINGS);
    const file = parseConfig(VALID, 'test.yaml');
    expect(file.timings).toEqual(DEFAULT_TIMINGS);
    const loop = toCoordinatorConfig(file, file.clusters[0]!);
    expect(loop.timings).toEqual(loopTimings(DEFAULT_TIMINGS));
    expect(loop.core).toMatchObject(coreTimings(DEFAULT_TIMINGS));
    expect(DEFAULT_CORE_CONFIG).toMatchObject(coreTimings(DEFAULT_TIMINGS));
  });

  test('a cluster without the watchdog is not held to its rule', () => {
    const text = VALID.replace('policy: availability', 'policy: availability\n    watchdog: false');
    expect(problemsOf(text + 'timings: { sessionTtlMs: 3000 }\n')).toEqual([]);
  });
});

describe('secrets', () => {
  test('a password file is read and its trailing newline dropped', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-secret-'));
    const file = path.join(dir, 'pw');
    writeFileSync(file, 's3cret with space\n', { mode: 0o600 });
    try {
      expect(resolvePassword({ user: 'baton', passwordFile: file }, 'mysql', 'c.yaml')).toBe(
        's3cret with space',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a password file its group or others can read is refused, with the fix', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-secret-'));
    const file = path.join(dir, 'pw');
    writeFileSync(file, 'hunter2\n');
    const read = () => resolvePassword({ user: 'baton', passwordFile: file }, 'etcd.auth', 'c.yaml');
    try {
      chmodSync(file, 0o644);
      expect(read).toThrow(
        `invalid config c.yaml:\n  etcd.auth.passwordFile: ${file} can be read by every user (mode 0644); make it owner-only: chmod 600 ${file}`,
      );
      chmodSync(file, 0o640);
      expect(read).toThrow(
        `${file} can be read by its group (mode 0640); make it owner-only: chmod 600 ${file}`,
      );
      chmodSync(file, 0o604);
      expect(read).toThrow(/can be read by every user \(mode 0604\)/);
      for (const mode of [0o600, 0o400]) {
        chmodSync(file, mode);
        expect(read()).toBe('hunter2');
      }
      // The password never appears in the refusal.
      chmodSync(file, 0o666);
      expect(read).not.toThrow(/hunter2/);
      expect(() => resolvePassword({ user: 'u', passwordFile: dir }, 'mysql', 'c.yaml')).toThrow(
        `mysql.passwordFile: ${dir} is not a regular file`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("etcd's TLS private key is held to the same rule; the certificates are not secrets", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-secret-'));
    const cert = path.join(dir, 'c.pem');
    const key = path.join(dir, 'k.pem');
    writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', { mode: 0o644 });
    writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n', { mode: 0o640 });
    try {
      expect(() => readEtcdTls({ caFile: cert, certFile: cert, keyFile: key }, 'c.yaml')).toThrow(
        `invalid config c.yaml:\n  etcd.tls.keyFile: ${key} can be read by its group (mode 0640); make it owner-only: chmod 600 ${key}`,
      );
      chmodSync(key, 0o400);
      expect(readEtcdTls({ caFile: cert, certFile: cert, keyFile: key }, 'c.yaml')?.key).toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing file or variable is a config error naming the field', () => {
    expect(() => resolvePassword({ user: 'u', passwordFile: '/nonexistent/pw' }, 'mysql', 'c.yaml')).toThrow(
      /mysql\.passwordFile: cannot read \/nonexistent\/pw: ENOENT/,
    );
    expect(() =>
      resolvePassword({ user: 'u', passwordEnv: 'BATON_TEST_UNSET' }, 'etcd.auth', 'c.yaml', {}),
    ).toThrow(/etcd\.auth\.passwordEnv: environment variable BATON_TEST_UNSET is not set/);
    expect(resolvePassword({ user: 'u', passwordEnv: 'PW' }, 'mysql', 'c.yaml', { PW: 'x' })).toBe('x');
  });
});

describe('what only baton doctor reads', () => {
  test('etcd.memberSites and doctor.appUsers are accepted, with secrets by reference only', () => {
    const config = parseConfig(
      VALID.replace(
        'etcd:\n  endpoints: [http://127.0.0.1:2379, http://127.0.0.2:2379]',
        'etcd:\n  endpoints: [http://127.0.0.1:2379, http://127.0.0.2:2379]\n  memberSites: { tiebreaker: w }',
      ) + 'doctor:\n  appUsers:\n    - { user: app, passwordFile: /etc/baton/app.password }\n',
      'test.yaml',
    );
    expect(config.etcd.memberSites).toEqual({ tiebreaker: 'w' });
    expect(config.doctor?.appUsers).toEqual([{ user: 'app', passwordFile: '/etc/baton/app.password' }]);
    expect(problemsOf(`${VALID}doctor:\n  appUsers:\n    - { user: app, password: secret }\n`)).toEqual([
      'doctor.appUsers[0]: unknown field(s): password',
    ]);
  });
});

describe('the shipped example', () => {
  test('deploy/baton.example.yaml is a valid config', async () => {
    const { loadConfig } = await import('../../../src/config/load-config.js');
    const config = loadConfig(path.resolve(import.meta.dirname, '../../../deploy/baton.example.yaml'));
    expect(config.clusters[0]?.nodes).toHaveLength(4);
    expect(config.coordinators).toHaveLength(3);
  });
});

describe('etcd transport', () => {
  const withEtcd = (etcd: string) =>
    VALID.replace('  endpoints: [http://127.0.0.1:2379, http://127.0.0.2:2379]', etcd);

  test.each([
    [
      '  endpoints: [http://e1:2379, https://e2:2379]',
      'etcd.endpoints: mixes http:// and https:// endpoints',
    ],
    [
      '  endpoints: [http://e1:2379]\n  auth: { user: baton, passwordFile: /p }',
      'etcd.auth: a password over http:// is readable by anyone on the path',
    ],
    [
      '  endpoints: [http://e1:2379]\n  tls: { caFile: /ca.pem }',
      'etcd.tls: TLS settings need https:// endpoints',
    ],
    [
      '  endpoints: [https://e1:2379]\n  tls: { caFile: /ca.pem, certFile: /c.pem }',
      'etcd.tls.keyFile: a client certificate needs its key',
    ],
    ['  endpoints: [https://e1:2379]\n  tls: { caFile: /ca.pem, pem: x }', 'etcd.tls: unknown field(s): pem'],
  ])('%s is refused', (etcd, problem) => {
    expect(problemsOf(withEtcd(etcd)).join('\n')).toContain(problem);
  });

  test('https with TLS and auth is accepted', () => {
    expect(
      problemsOf(
        withEtcd(
          '  endpoints: [https://e1:2379]\n  tls: { caFile: /ca.pem, certFile: /c.pem, keyFile: /k.pem }\n' +
            '  auth: { user: baton, passwordFile: /p }',
        ),
      ),
    ).toEqual([]);
  });

  test('TLS files must hold what they are for, and are named by path when they do not', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-tls-unit-'));
    try {
      const file = (name: string, text: string) => {
        const p = path.join(dir, name);
        writeFileSync(p, text, { mode: 0o600 });
        return p;
      };
      const cert = file('c.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      const key = file('k.pem', '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');
      expect(readEtcdTls({ caFile: cert, certFile: cert, keyFile: key }, 'c.yaml')?.key).toBeDefined();
      const problems = (() => {
        try {
          readEtcdTls({ caFile: key, certFile: cert, keyFile: cert }, 'c.yaml');
        } catch (error) {
          return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
        }
        return [];
      })();
      expect(problems).toEqual([
        `etcd.tls.caFile: ${key} is not a PEM certificate`,
        `etcd.tls.keyFile: ${cert} is not a PEM private key`,
      ]);
      expect(() => readEtcdTls({ caFile: path.join(dir, 'missing.pem') }, 'c.yaml')).toThrow(
        /etcd\.tls\.caFile: cannot read .*missing\.pem: ENOENT/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a cluster's MySQL TLS", () => {
  const withTls = (tls: string) =>
    VALID.replace('    policy: availability\n', `    policy: availability\n    tls: ${tls}\n`);

  test('verifyIdentity is on unless turned off', () => {
    expect(parseConfig(withTls('{ caFile: /ca.pem }'), 'c.yaml').clusters[0]?.tls).toEqual({
      caFile: '/ca.pem',
      verifyIdentity: true,
    });
    expect(
      parseConfig(withTls('{ caFile: /ca.pem, verifyIdentity: false }'), 'c.yaml').clusters[0]?.tls
        ?.verifyIdentity,
    ).toBe(false);
  });

  test.each([
    ['{ caFile: /ca.pem, certFile: /c.pem }', 'clusters[0].tls.keyFile: a client certificate needs its key'],
    ['{ caFile: /ca.pem, keyFile: /k.pem }', 'clusters[0].tls.certFile: a client certificate needs its key'],
    ['{ certFile: /c.pem, keyFile: /k.pem }', 'clusters[0].tls.caFile: required'],
    ['{ caFile: /ca.pem, verifyIdentity: "no" }', 'clusters[0].tls.verifyIdentity: '],
    [
      '{ caFile: /ca.pem, rejectUnauthorized: false }',
      'clusters[0].tls: unknown field(s): rejectUnauthorized',
    ],
  ])('%s is refused', (tls, problem) => {
    expect(problemsOf(withTls(tls)).join('\n')).toContain(problem);
  });

  test("its files are read like etcd's: PEM checked, the key owner-only, each named by its path", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-mysql-tls-unit-'));
    try {
      const cert = path.join(dir, 'c.pem');
      const key = path.join(dir, 'k.pem');
      writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', { mode: 0o644 });
      writeFileSync(key, '-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n', {
        mode: 0o644,
      });
      const config = parseConfig(
        withTls(`{ caFile: ${cert}, certFile: ${cert}, keyFile: ${key}, verifyIdentity: false }`),
        'c.yaml',
      );
      expect(() => readClusterTls(config, 'c.yaml')).toThrow(
        `invalid config c.yaml:\n  clusters[0].tls.keyFile: ${key} can be read by every user (mode 0644); make it owner-only: chmod 600 ${key}`,
      );
      chmodSync(key, 0o600);
      const tls = readClusterTls(config, 'c.yaml').get('orders');
      expect(tls?.verifyIdentity).toBe(false);
      expect(tls?.key?.toString()).toContain('PRIVATE KEY');
      const wrong = parseConfig(withTls(`{ caFile: ${key} }`), 'c.yaml');
      expect(() => readClusterTls(wrong, 'c.yaml')).toThrow(
        `clusters[0].tls.caFile: ${key} is not a PEM certificate`,
      );
      expect(readClusterTls(parseConfig(VALID, 'c.yaml'), 'c.yaml').size).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
