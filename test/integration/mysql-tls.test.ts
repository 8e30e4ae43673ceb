/**
 * MySQL over TLS (clusters[].tls, issue 15), against two real MariaDB 10.11 servers on loopback:
 * `tls` has a certificate naming 127.0.0.1 and 127.0.0.2 (it also listens on 127.0.0.3, which the
 * certificate does not name), and its accounts REQUIRE SSL; `plain` has no TLS and replicates
 * from `tls` over TLS. Every connection goes through the product's own code (DeadlineConnection,
 * MysqlDatabase, doctor's readServer), and each way of getting TLS wrong gives its own line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock as clock } from '../../src/clock.js';
import { parseConfig, readClusterTls } from '../../src/config/load-config.js';
import { DeadlineExceededError } from '../../src/coordinator/ports.js';
import { readServer } from '../../src/doctor/read-server.js';
import { createCertificateAuthority, issueCertificate } from '../../src/lab/certificate-authority.js';
import { DeadlineConnection, type MysqlEndpoint } from '../../src/mysql/connection.js';
import { MysqlDatabase } from '../../src/mysql/database.js';
import { batonPrivileges } from '../../src/mysql/privileges.js';
import type { MysqlTls } from '../../src/mysql/tls.js';
import { eventually } from './support/lab.js';
import { stopProcess } from './support/signals.js';
import {
  startStandaloneMariadbs,
  type StandaloneMariadb,
  type StandaloneMariadbs,
} from './support/standalone-mariadb.js';

const soon = (ms = 3000): number => clock.now() + ms;
const BATON = { user: 'baton', password: 'baton-tls-secret' };
const REPL = { user: 'repl', password: 'repl-tls-secret' };

let dir: string;
let servers: StandaloneMariadbs;
let tlsServer: StandaloneMariadb;
let plainServer: StandaloneMariadb;
/** Read through the product's config loading, as `baton run` would. */
let right: MysqlTls;
let wrongCa: MysqlTls;
let withClientCertificate: MysqlTls;
let foreignClientCertificate: MysqlTls;

async function asRoot<T = Record<string, unknown>>(server: StandaloneMariadb, sql: string): Promise<T[]> {
  const conn = await server.root();
  try {
    const [rows] = await conn.query(sql);
    return rows as T[];
  } finally {
    conn.destroy();
  }
}

/** Each cluster's `tls` as the config loader reads it (files checked, key owner-only). */
function tlsFromConfig(sections: Record<string, string | boolean>[]): MysqlTls[] {
  const clusters = sections.map((tls, i) =>
    [
      `  - name: c${i}`,
      '    policy: availability',
      `    tls: ${JSON.stringify(tls)}`,
      '    nodes:',
      `      - { name: a1, colo: a, role: candidate, host: 127.0.0.1, port: ${3306 + 2 * i} }`,
      `      - { name: b1, colo: b, role: candidate, host: 127.0.0.1, port: ${3307 + 2 * i} }`,
    ].join('\n'),
  );
  const text = [
    'coordinator: { name: a, colo: a }',
    'coordinators: [{ name: a, colo: a }, { name: b, colo: b }, { name: w, colo: w }]',
    'etcd: { endpoints: [http://127.0.0.1:2379] }',
    'mysql: { user: baton, passwordEnv: BATON_TEST_MYSQL_PASSWORD }',
    'clusters:',
    ...clusters,
    '',
  ].join('\n');
  const byCluster = readClusterTls(parseConfig(text, 'tls.yaml'), 'tls.yaml');
  return sections.map((_, i) => byCluster.get(`c${i}`) as MysqlTls);
}

function endpoint(host: string, port: number, tls?: MysqlTls, who = BATON): MysqlEndpoint {
  return { host, port, ...who, ...(tls ? { tls } : {}) };
}

/** Connects through the product's connection and asks the server how: TLS 1.2 or 1.3. */
async function expectTls(target: MysqlEndpoint): Promise<void> {
  const conn = await DeadlineConnection.open(target, clock, soon(), { stallMs: 500 });
  try {
    const [row] = await conn.query(
      "SELECT VARIABLE_VALUE AS v FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_VERSION'",
      soon(),
      'ssl version',
    );
    expect(String(row?.v ?? '')).toMatch(/^TLSv1\.[23]$/);
  } finally {
    conn.destroy();
  }
}

/** The one-line error a connect fails with. */
async function connectError(target: MysqlEndpoint): Promise<string> {
  const error = await DeadlineConnection.open(target, clock, soon()).then(
    (conn) => {
      conn.destroy();
      return undefined;
    },
    (e: unknown) => e as Error,
  );
  expect(error, 'the connect should fail').toBeDefined();
  const message = (error as Error).message;
  console.log(`[mysql-tls] ${target.host}:${target.port}: ${message}`);
  expect(message.split('\n')).toHaveLength(1);
  return message;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'baton-mysql-tls-'));
  const ca = createCertificateAuthority(path.join(dir, 'right'), 'mysql test');
  const other = createCertificateAuthority(path.join(dir, 'other'), 'other test');
  const serverCert = issueCertificate(ca, 'server', '127.0.0.1', {
    ips: ['127.0.0.1', '127.0.0.2'],
    usages: ['serverAuth'],
  });
  const client = issueCertificate(ca, 'client', 'baton', { usages: ['clientAuth'] });
  const foreign = issueCertificate(other, 'client', 'baton', { usages: ['clientAuth'] });
  [right, wrongCa, withClientCertificate, foreignClientCertificate] = tlsFromConfig([
    { caFile: ca.caFile },
    { caFile: other.caFile },
    { caFile: ca.caFile, certFile: client.certFile, keyFile: client.keyFile },
    { caFile: ca.caFile, certFile: foreign.certFile, keyFile: foreign.keyFile },
  ]) as [MysqlTls, MysqlTls, MysqlTls, MysqlTls];

  servers = await startStandaloneMariadbs([
    {
      name: 'tls',
      bindAddresses: ['127.0.0.1', '127.0.0.2', '127.0.0.3'],
      tls: { caFile: ca.caFile, certFile: serverCert.certFile, keyFile: serverCert.keyFile },
    },
    { name: 'plain', bindAddresses: ['127.0.0.1'] },
  ]);
  [tlsServer, plainServer] = servers.servers as [StandaloneMariadb, StandaloneMariadb];
  const grants = (conn: mysql.Connection, require: string) =>
    conn.query(
      [
        'SET SESSION sql_log_bin = 0',
        `CREATE USER ${BATON.user}@'%' IDENTIFIED BY '${BATON.password}' ${require}`,
        `GRANT ${batonPrivileges('mariadb', '*.*').join(', ')} ON *.* TO ${BATON.user}@'%'`,
        `GRANT ${batonPrivileges('mariadb', 'baton.*').join(', ')} ON baton.* TO ${BATON.user}@'%'`,
        `CREATE USER ${REPL.user}@'%' IDENTIFIED BY '${REPL.password}' ${require}`,
        `GRANT REPLICATION SLAVE ON *.* TO ${REPL.user}@'%'`,
        'RESET MASTER',
      ].join('; '),
    );
  const source = await tlsServer.root();
  const replica = await plainServer.root();
  try {
    await grants(source, 'REQUIRE SSL');
    await grants(replica, '');
    // plain replicates from tls over TLS, checking the source's certificate and host.
    await replica.query(
      `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${tlsServer.port}, MASTER_USER=?, ` +
        'MASTER_PASSWORD=?, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, ' +
        `MASTER_SSL=1, MASTER_SSL_CA=?, MASTER_SSL_VERIFY_SERVER_CERT=1; START SLAVE`,
      [REPL.user, REPL.password, ca.caFile],
    );
    // Through the binary log this time: the replica must get it.
    await source.query(
      'SET SESSION sql_log_bin = 1; CREATE DATABASE t; CREATE TABLE t.rows (id INT PRIMARY KEY)',
    );
  } finally {
    source.destroy();
    replica.destroy();
  }
}, 60_000);

afterAll(async () => {
  await servers?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('MySQL over TLS', () => {
  it('probes, fences and opens through TLS, checking the CA and the host (IP SAN)', async () => {
    const db = new MysqlDatabase(
      { name: 'tls', ...endpoint('127.0.0.1', tlsServer.port, withClientCertificate) },
      clock,
    );
    try {
      const probe = await db.probe(soon());
      expect(probe.readOnly).toBe(true);
      await db.openWrites(soon());
      expect((await db.probe(soon())).readOnly).toBe(false);
      await db.fence(soon());
      expect((await db.probe(soon())).readOnly).toBe(true);
    } finally {
      await db.close();
    }
    await expectTls(endpoint('127.0.0.2', tlsServer.port, right));
  });

  it('refuses a server whose certificate is not signed by caFile, whatever verifyIdentity says', async () => {
    expect(await connectError(endpoint('127.0.0.1', tlsServer.port, wrongCa))).toMatch(
      /^connect 127\.0\.0\.1:\d+: the server's certificate is not signed by clusters\[\]\.tls\.caFile$/,
    );
    expect(
      await connectError(endpoint('127.0.0.3', tlsServer.port, { ...wrongCa, verifyIdentity: false })),
    ).toMatch(/the server's certificate is not signed by clusters\[\]\.tls\.caFile$/);
  });

  it('refuses a host the certificate does not name with verifyIdentity, accepts it without', async () => {
    expect(await connectError(endpoint('127.0.0.3', tlsServer.port, right))).toMatch(
      /^connect 127\.0\.0\.3:\d+: the server's certificate does not name 127\.0\.0\.3 in its subjectAltName/,
    );
    // mysql2's own check would compare "localhost" here; ours compares the name connected to.
    expect(await connectError(endpoint('localhost', tlsServer.port, right))).toMatch(
      /does not name localhost in its subjectAltName/,
    );
    await expectTls(endpoint('127.0.0.3', tlsServer.port, { ...right, verifyIdentity: false }));
  });

  it('refuses a client certificate from another CA', async () => {
    expect(await connectError(endpoint('127.0.0.1', tlsServer.port, foreignClientCertificate))).toMatch(
      /the server refused our client certificate: clusters\[\]\.tls\.certFile is not signed by a CA it trusts/,
    );
  });

  it('says so when the server does not offer TLS', async () => {
    expect(await connectError(endpoint('127.0.0.1', plainServer.port, right))).toMatch(
      /^connect 127\.0\.0\.1:\d+: the server does not offer TLS \(no ssl_cert and ssl_key in its config\), and clusters\[\]\.tls requires it$/,
    );
  });

  it('tells a plaintext login to a REQUIRE SSL account from a wrong password', async () => {
    // MariaDB answers both with the same 1045 "Access denied ... (using password: YES)".
    expect(await connectError(endpoint('127.0.0.1', tlsServer.port))).toMatch(
      /^connect 127\.0\.0\.1:\d+: the account requires TLS \(REQUIRE SSL\) and this connection is plaintext: set clusters\[\]\.tls for this cluster$/,
    );
    const wrong = await connectError(
      endpoint('127.0.0.1', tlsServer.port, undefined, { ...BATON, password: 'not-it' }),
    );
    expect(wrong).toMatch(
      /access denied \(Access denied for user 'baton'@'127\.0\.0\.1' \(using password: YES\)\)/,
    );
    expect(wrong).not.toMatch(/TLS/);
  });

  it("doctor reads a server over TLS as baton's account", async () => {
    const read = await readServer(
      { host: '127.0.0.1', port: tlsServer.port, baton: BATON, apps: [], tls: right },
      clock,
    );
    try {
      expect(read.facts.reachable).toBe(true);
      if (!read.facts.reachable) return;
      expect(read.facts.baton?.account).toBe('baton@%');
    } finally {
      await read.close();
    }
    const refused = await readServer(
      { host: '127.0.0.1', port: tlsServer.port, baton: BATON, apps: [] },
      clock,
    );
    expect(refused.facts).toMatchObject({ reachable: false, error: expect.stringMatching(/requires TLS/) });
  });

  it('keeps replication on TLS when baton repoints a replica (CHANGE MASTER keeps MASTER_SSL_*)', async () => {
    const replica = new MysqlDatabase(
      { name: 'plain', ...endpoint('127.0.0.1', plainServer.port), replication: REPL },
      clock,
    );
    try {
      await replica.repoint({ host: '127.0.0.2', port: tlsServer.port }, soon(5_000));
    } finally {
      await replica.close();
    }
    await asRoot(tlsServer, 'INSERT INTO t.rows VALUES (1)');
    const status = await eventually(
      async () => {
        const [row] = await asRoot<Record<string, string>>(plainServer, 'SHOW SLAVE STATUS');
        const [copied] = await asRoot<{ n: number }>(plainServer, 'SELECT COUNT(*) AS n FROM t.rows').catch(
          (e: Error) => {
            throw new Error(`${e.message}; ${JSON.stringify(row)}`);
          },
        );
        return row?.Slave_IO_Running === 'Yes' && Number(copied?.n) === 1 ? row : undefined;
      },
      10_000,
      'the row replicated from the new source',
    );
    expect(status).toMatchObject({
      Master_Host: '127.0.0.2',
      Master_SSL_Allowed: 'Yes',
      Master_SSL_Verify_Server_Cert: 'Yes',
    });
    // The replication account REQUIREs SSL: its IO thread logged in, so over TLS.
  });

  it('gives up on a hung server at the deadline over TLS too (the TLS socket is destroyed)', async () => {
    const conn = await DeadlineConnection.open(endpoint('127.0.0.1', tlsServer.port, right), clock, soon());
    await stopProcess(tlsServer.pid);
    try {
      const started = clock.now();
      await expect(conn.query('SELECT 1', clock.now() + 500, 'hung')).rejects.toBeInstanceOf(
        DeadlineExceededError,
      );
      expect(clock.now() - started).toBeLessThan(1_000);
      expect(conn.broken).toBe(true);
    } finally {
      process.kill(tlsServer.pid, 'SIGCONT');
      conn.destroy();
    }
  });
});
