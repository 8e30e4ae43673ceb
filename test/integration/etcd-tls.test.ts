/**
 * etcd over TLS with client certificates (issue 15), against a real etcd 3.4 started with
 * --client-cert-auth: a coordinator's store holds a session and a watch through it, and each way
 * of getting TLS wrong gives its own one-line error from `baton status --config`.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock as clock } from '../../src/clock.js';
import { readEtcdTls } from '../../src/config/load-config.js';
import type { WatchEvent } from '../../src/coordinator/ports.js';
import type { EtcdSession } from '../../src/etcd/session.js';
import { EtcdStore } from '../../src/etcd/store.js';
import { baton } from './support/lab.js';
import { startStandaloneEtcd, type StandaloneEtcd } from './support/standalone-etcd.js';
import { makeTestCa, type TestCa } from './support/test-ca.js';

const soon = (ms = 3000): number => clock.now() + ms;

let dir: string;
let ca: TestCa;
let wrongCa: TestCa;
let etcd: StandaloneEtcd;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'baton-tls-'));
  ca = makeTestCa(dir, 'right', '127.0.0.1');
  wrongCa = makeTestCa(dir, 'wrong', '127.0.0.1');
  etcd = await startStandaloneEtcd(
    [
      `--cert-file=${ca.serverCertFile}`,
      `--key-file=${ca.serverKeyFile}`,
      '--client-cert-auth',
      `--trusted-ca-file=${ca.caFile}`,
    ],
    'https',
  );
}, 30_000);

afterAll(async () => {
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A coordinator config whose etcd section is `tls` (paths), for the CLI. */
function configWith(tls: Record<string, string>, name: string): string {
  const file = path.join(dir, `${name}.yaml`);
  const lines = Object.entries(tls).map(([k, v]) => `    ${k}: ${v}`);
  writeFileSync(
    file,
    [
      'coordinator: { name: a, colo: a }',
      'coordinators: [{ name: a, colo: a }, { name: b, colo: b }, { name: w, colo: w }]',
      'etcd:',
      `  endpoints: [${etcd.endpoint}]`,
      '  tls:',
      ...lines,
      'mysql: { user: baton, passwordEnv: BATON_TEST_MYSQL_PASSWORD }',
      'clusters:',
      '  - name: tls',
      '    policy: availability',
      '    nodes:',
      '      - { name: a1, colo: a, host: 127.0.0.1, port: 1, role: candidate }',
      '      - { name: b1, colo: b, host: 127.0.0.1, port: 2, role: candidate }',
      '',
    ].join('\n'),
  );
  return file;
}

describe('etcd over TLS with client certificates', () => {
  it('holds a session, writes and watches with the right CA and a client certificate', async () => {
    const tls = readEtcdTls(
      { caFile: ca.caFile, certFile: ca.clientCertFile, keyFile: ca.clientKeyFile },
      'test.yaml',
    );
    const store = EtcdStore.connect({ endpoints: [etcd.endpoint], ...(tls ? { tls } : {}) }, clock);
    try {
      const session = (await store.createSession(4_000, soon())) as EtcdSession;
      const events: WatchEvent[] = [];
      const watch = store.watchPrefix('/baton/tls/', 1, (e) => events.push(e));
      await store.put('/baton/tls/k', 'v', soon(), session.leaseId);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(events.map((e) => e.kv.key)).toContain('/baton/tls/k');
      expect(session.isValid()).toBe(true);
      watch.close();
      await session.close(soon());
    } finally {
      store.close();
    }
  }, 20_000);

  it.each([
    ['no client certificate', () => ({ caFile: ca.caFile }), /etcd requires a client certificate/],
    [
      'a client certificate from another CA',
      () => ({ caFile: ca.caFile, certFile: wrongCa.clientCertFile, keyFile: wrongCa.clientKeyFile }),
      /etcd rejected our client certificate/,
    ],
    [
      'a CA that did not sign the server',
      () => ({ caFile: wrongCa.caFile, certFile: ca.clientCertFile, keyFile: ca.clientKeyFile }),
      /etcd's server certificate is not signed by etcd\.tls\.caFile/,
    ],
  ])(
    '%s: baton status fails with one line, no stack trace',
    async (name, tls, pattern) => {
      const file = configWith(tls(), name.replace(/\W+/g, '-'));
      const result = await baton(['status', '--config', file], process.env, 30_000);
      console.log(`[tls] ${name}: ${JSON.stringify(result.stderr.trim())}`);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(pattern);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    },
    30_000,
  );

  it('refuses a CA file that is not PEM, naming the field', async () => {
    const notPem = path.join(dir, 'not-pem.txt');
    writeFileSync(notPem, 'hello');
    chmodSync(notPem, 0o600);
    const file = configWith({ caFile: notPem }, 'not-pem');
    const result = await baton(['status', '--config', file], process.env, 30_000);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/etcd\.tls\.caFile: .*not-pem\.txt is not a PEM certificate/);
  });
});
