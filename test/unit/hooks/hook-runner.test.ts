import { execFileSync, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type { HookConfig, HookName } from '../../../src/config/schema.js';
import {
  HookQueue,
  hookEnvironment,
  runHook,
  type HookEvent,
  type HookRun,
} from '../../../src/hooks/hook-runner.js';
import { createLogger } from '../../../src/log.js';

const repo = path.resolve(import.meta.dirname, '../../..');
const hooksDir = path.join(repo, 'deploy/hooks');
const dir = mkdtempSync(path.join(tmpdir(), 'baton-hooks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const a1 = { name: 'a1', host: '10.0.0.1', port: 3306 };
const b1 = { name: 'b1', host: '10.0.0.2', port: 3306 };

function capture() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    log: createLogger({ destination: stream, level: 'debug' }),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function fakeRun(hook: HookName, event: HookEvent, ok = true): HookRun {
  return { hook, ok, outcome: ok ? 'exit 0' : 'exit 1', ms: 1, stderrTail: event.message ?? '' };
}

describe('hookEnvironment', () => {
  test('every field of the event, as BATON_* strings', () => {
    expect(
      hookEnvironment('afterWriterChange', {
        cluster: 'orders',
        epoch: 7,
        reason: 'writer-dead-quorum',
        message: 'a1 down',
        oldWriter: a1,
        newWriter: b1,
        node: a1,
        lostGtids: '1-11-40-42',
      }),
    ).toEqual({
      BATON_HOOK: 'afterWriterChange',
      BATON_CLUSTER: 'orders',
      BATON_EPOCH: '7',
      BATON_REASON: 'writer-dead-quorum',
      BATON_MESSAGE: 'a1 down',
      BATON_OLD_WRITER: 'a1',
      BATON_OLD_WRITER_HOST: '10.0.0.1',
      BATON_OLD_WRITER_PORT: '3306',
      BATON_NEW_WRITER: 'b1',
      BATON_NEW_WRITER_HOST: '10.0.0.2',
      BATON_NEW_WRITER_PORT: '3306',
      BATON_NODE: 'a1',
      BATON_NODE_HOST: '10.0.0.1',
      BATON_NODE_PORT: '3306',
      BATON_LOST_GTIDS: '1-11-40-42',
    });
  });

  test('only what is defined; an empty lostGtids ("nothing lost") is kept, epoch 0 too', () => {
    expect(hookEnvironment('onFailoverSkipped', { cluster: 'orders' })).toEqual({
      BATON_HOOK: 'onFailoverSkipped',
      BATON_CLUSTER: 'orders',
    });
    expect(hookEnvironment('onFence', { cluster: 'orders', epoch: 0, lostGtids: '' })).toEqual({
      BATON_HOOK: 'onFence',
      BATON_CLUSTER: 'orders',
      BATON_EPOCH: '0',
      BATON_LOST_GTIDS: '',
    });
  });
});

describe('runHook', () => {
  afterEach(() => {
    delete process.env.BATON_MYSQL_PASSWORD;
  });

  test("the hook sees its BATON_* variables and none of baton's own environment", async () => {
    process.env.BATON_MYSQL_PASSWORD = 'canary-5f3c';
    const out = path.join(dir, 'hook-env.out');
    const run = await runHook(
      'onFence',
      { argv: ['sh', '-c', `env > ${out}`], timeoutMs: 5_000 },
      { cluster: 'orders', epoch: 3, node: a1, reason: 'guardian-stonith' },
    );
    expect(run).toMatchObject({ hook: 'onFence', ok: true, outcome: 'exit 0', exitCode: 0 });
    const env = readFileSync(out, 'utf8');
    expect(env).not.toContain('canary');
    for (const line of [
      'BATON_HOOK=onFence',
      'BATON_CLUSTER=orders',
      'BATON_EPOCH=3',
      'BATON_REASON=guardian-stonith',
      'BATON_NODE=a1',
      'BATON_NODE_HOST=10.0.0.1',
      'BATON_NODE_PORT=3306',
    ]) {
      expect(env).toContain(`${line}\n`);
    }
    expect(env).not.toContain('BATON_NEW_WRITER');
  });

  test('a non-zero exit, and a timeout, are runs that are not ok (a beforePromote veto)', async () => {
    const event = { cluster: 'orders', newWriter: b1 };
    const refused = await runHook(
      'beforePromote',
      { argv: ['sh', '-c', 'echo "b1 is in maintenance" >&2; exit 4'], timeoutMs: 5_000 },
      event,
    );
    expect(refused).toMatchObject({
      hook: 'beforePromote',
      ok: false,
      outcome: 'exit 4',
      exitCode: 4,
      stderrTail: 'b1 is in maintenance',
    });
    const slow = await runHook('beforePromote', { argv: ['sleep', '30'], timeoutMs: 200 }, event);
    expect(slow).toMatchObject({ hook: 'beforePromote', ok: false, outcome: 'timeout after 200 ms' });
  });
});

describe('HookQueue', () => {
  test('runs one hook at a time, in order, and reports each run', async () => {
    const log = path.join(dir, 'serial.log');
    writeFileSync(log, '');
    const finished: Array<[HookRun, HookEvent]> = [];
    const queue = new HookQueue({
      hooks: {
        onFence: {
          argv: [
            'sh',
            '-c',
            `echo "start $BATON_NODE" >> ${log}; sleep 0.1; echo "end $BATON_NODE" >> ${log}`,
          ],
          timeoutMs: 5_000,
        },
      },
      onFinished: (run, event) => void finished.push([run, event]),
    });
    for (const node of ['n1', 'n2', 'n3']) {
      expect(
        queue.enqueue('onFence', { cluster: 'orders', node: { name: node, host: node, port: 3306 } }),
      ).toBe(true);
    }
    expect(queue.pending('onFence')).toBe(2);
    await queue.idle();
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'start n1',
      'end n1',
      'start n2',
      'end n2',
      'start n3',
      'end n3',
    ]);
    expect(finished.map(([run, event]) => [run.hook, run.outcome, event.node?.name])).toEqual([
      ['onFence', 'exit 0', 'n1'],
      ['onFence', 'exit 0', 'n2'],
      ['onFence', 'exit 0', 'n3'],
    ]);
  });

  test('different hooks run side by side', async () => {
    const gate = deferred();
    const started: HookName[] = [];
    const hook: HookConfig = { argv: ['unused'], timeoutMs: 1_000 };
    const queue = new HookQueue({
      hooks: { onFence: hook, afterWriterChange: hook },
      run: async (name, _config, event) => {
        started.push(name);
        await gate.promise;
        return fakeRun(name, event);
      },
    });
    queue.enqueue('onFence', { cluster: 'orders' });
    queue.enqueue('afterWriterChange', { cluster: 'orders' });
    await Promise.resolve();
    expect(started).toEqual(['onFence', 'afterWriterChange']);
    gate.resolve();
    await queue.idle();
  });

  test('beyond maxPending waiting runs, events are dropped, counted and logged once per burst', async () => {
    const gate = deferred();
    const out = capture();
    const finished: string[] = [];
    const queue = new HookQueue({
      hooks: { onFence: { argv: ['unused'], timeoutMs: 1_000 } },
      maxPending: 2,
      log: out.log,
      run: async (hook, _config, event) => {
        await gate.promise;
        return fakeRun(hook, event);
      },
      onFinished: (_run, event) => void finished.push(event.message ?? ''),
    });
    const accepted = ['e1', 'e2', 'e3', 'e4', 'e5'].map((message) =>
      queue.enqueue('onFence', { cluster: 'orders', message }),
    );
    expect(accepted).toEqual([true, true, true, false, false]);
    expect(queue.pending('onFence')).toBe(2);
    expect(queue.dropped('onFence')).toBe(2);
    const dropLogs = () => out.lines().filter((line) => line.event === 'hook-dropped');
    expect(dropLogs()).toHaveLength(1);
    expect(dropLogs()[0]).toMatchObject({ level: 40, hook: 'onFence', maxPending: 2 });
    gate.resolve();
    await queue.idle();
    expect(finished).toEqual(['e1', 'e2', 'e3']);
    expect(dropLogs()).toHaveLength(2);
    expect(dropLogs()[1]).toMatchObject({ count: 2, total: 2 });
    // A new burst is logged again.
    expect(queue.enqueue('onFence', { cluster: 'orders', message: 'e6' })).toBe(true);
    await queue.idle();
    expect(finished).toEqual(['e1', 'e2', 'e3', 'e6']);
    expect(out.lines().filter((line) => line.event === 'hook-finished')).toHaveLength(4);
  });

  test('a hook that is not configured is not queued', () => {
    const queue = new HookQueue({ hooks: {}, run: () => Promise.reject(new Error('must not run')) });
    expect(queue.enqueue('afterWriterChange', { cluster: 'orders' })).toBe(false);
    expect(queue.pending('afterWriterChange')).toBe(0);
  });

  test('a failing onFinished is logged and the queue goes on', async () => {
    const out = capture();
    const seen: string[] = [];
    const queue = new HookQueue({
      hooks: { onFailoverSkipped: { argv: ['unused'], timeoutMs: 1_000 } },
      log: out.log,
      run: async (hook, _config, event) => fakeRun(hook, event),
      onFinished: async (_run, event) => {
        seen.push(event.message ?? '');
        if (event.message === 'first') throw new Error('etcd unavailable');
      },
    });
    queue.enqueue('onFailoverSkipped', { cluster: 'orders', message: 'first' });
    queue.enqueue('onFailoverSkipped', { cluster: 'orders', message: 'second' });
    await queue.idle();
    expect(seen).toEqual(['first', 'second']);
    expect(out.lines().filter((line) => line.event === 'hook-callback-failed')).toHaveLength(1);
  });

  test('stop() kills the running hook (reported), discards what waits and refuses more', async () => {
    const out = capture();
    const finished: HookRun[] = [];
    const queue = new HookQueue({
      hooks: { afterWriterChange: { argv: ['sh', '-c', 'sleep 30'], timeoutMs: 60_000 } },
      log: out.log,
      onFinished: (run) => void finished.push(run),
    });
    queue.enqueue('afterWriterChange', { cluster: 'orders', epoch: 1 });
    queue.enqueue('afterWriterChange', { cluster: 'orders', epoch: 2 });
    queue.enqueue('afterWriterChange', { cluster: 'orders', epoch: 3 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopping = Date.now();
    await queue.stop();
    expect(Date.now() - stopping).toBeLessThan(300);
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ hook: 'afterWriterChange', ok: false, outcome: 'killed: stopping' });
    expect(queue.pending('afterWriterChange')).toBe(0);
    expect(out.lines().find((line) => line.event === 'hook-discarded')).toMatchObject({ count: 2 });
    expect(queue.enqueue('afterWriterChange', { cluster: 'orders', epoch: 4 })).toBe(false);
    await queue.stop();
  });
});

describe('deploy/hooks examples', () => {
  const scripts = readdirSync(hooksDir).filter((name) => name.endsWith('.sh'));

  test('every example is an executable POSIX sh script that parses', () => {
    expect(scripts.sort()).toEqual(['chat-webhook.sh', 'dns-nsupdate.sh', 'proxysql-writer.sh']);
    for (const script of scripts) {
      const file = path.join(hooksDir, script);
      accessSync(file, constants.X_OK);
      expect(readFileSync(file, 'utf8').startsWith('#!/bin/sh\n')).toBe(true);
      execFileSync('sh', ['-n', file]);
    }
  });

  const hasCurl = spawnSync('curl', ['--version']).status === 0;

  describe.skipIf(!hasCurl)('chat-webhook.sh against a local HTTP server (needs curl)', () => {
    interface Received {
      method: string | undefined;
      url: string | undefined;
      headers: IncomingHttpHeaders;
      body: string;
    }

    async function withServer(status: number, body: (received: Received[], url: string) => Promise<void>) {
      const received: Received[] = [];
      const server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          received.push({
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
          response.writeHead(status).end(status === 200 ? 'ok' : 'no');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      try {
        await body(received, `http://127.0.0.1:${port}/hooks/T0KEN-a8f2`);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    }

    function urlFile(url: string): string {
      const file = path.join(dir, 'webhook.url');
      writeFileSync(file, `\n  ${url}  \n`, { mode: 0o600 });
      return file;
    }

    const message = 'a1 said "no" \\ twice\nthen\tnothing';
    const event: HookEvent = {
      cluster: 'orders',
      epoch: 7,
      reason: 'writer-dead-quorum',
      message,
      oldWriter: a1,
      newWriter: b1,
      lostGtids: '',
    };

    test('posts the event as JSON to the URL from the file', async () => {
      await withServer(200, async (received, url) => {
        const run = await runHook(
          'afterWriterChange',
          { argv: [path.join(hooksDir, 'chat-webhook.sh'), '--url-file', urlFile(url)], timeoutMs: 10_000 },
          event,
        );
        expect(run).toMatchObject({ ok: true, outcome: 'exit 0' });
        expect(received).toHaveLength(1);
        const [post] = received as [Received];
        expect(post.method).toBe('POST');
        expect(post.url).toBe('/hooks/T0KEN-a8f2');
        expect(post.headers['content-type']).toBe('application/json');
        const expected =
          'baton [orders] writer moved a1 (10.0.0.1:3306) -> b1 (10.0.0.2:3306), epoch 7, writer-dead-quorum: ' +
          'a1 said "no" \\ twice\nthen nothing; possibly lost GTIDs: none';
        expect(JSON.parse(post.body)).toEqual({ text: expected });
        expect(run.stderrTail).not.toContain('T0KEN');
      });
    });

    test('an HTTP error is a failed run, and the token stays out of stderr', async () => {
      await withServer(500, async (received, url) => {
        const run = await runHook(
          'onFence',
          {
            argv: [path.join(hooksDir, 'chat-webhook.sh'), '--url-file', urlFile(url), '--field', 'content'],
            timeoutMs: 10_000,
          },
          { cluster: 'orders', node: a1 },
        );
        expect(run).toMatchObject({ ok: false, outcome: 'exit 1' });
        expect(run.stderrTail).toContain('post failed (curl exit 22)');
        expect(run.stderrTail).not.toContain('T0KEN');
        expect(JSON.parse((received[0] as Received).body)).toEqual({
          content: 'baton [orders] fenced a1 (10.0.0.1:3306)',
        });
      });
    });
  });

  const hasSqlite = spawnSync('sqlite3', ['-version']).status === 0;

  describe('proxysql-writer.sh against a stand-in client (NOT a real ProxySQL; sqlite3 for its table)', () => {
    /**
     * The stand-in for mariadb/mysql records its arguments and input, and applies the input to
     * an SQLite table with ProxySQL 2.x's mysql_servers schema (ProxySQL's admin interface is
     * SQLite underneath); LOAD/SAVE are recorded only, runtime_mysql_servers is a view.
     */
    function setUp(): { db: string; client: string; defaults: string; work: string } {
      const work = mkdtempSync(path.join(dir, 'proxysql-'));
      const db = path.join(work, 'admin.db');
      execFileSync('sqlite3', [
        db,
        `CREATE TABLE mysql_servers (hostgroup_id INT CHECK (hostgroup_id>=0) NOT NULL DEFAULT 0, hostname VARCHAR NOT NULL, port INT CHECK (port >= 0 AND port <= 65535) NOT NULL DEFAULT 3306, gtid_port INT NOT NULL DEFAULT 0, status VARCHAR CHECK (UPPER(status) IN ('ONLINE','SHUNNED','OFFLINE_SOFT','OFFLINE_HARD')) NOT NULL DEFAULT 'ONLINE', weight INT NOT NULL DEFAULT 1, compression INT NOT NULL DEFAULT 0, max_connections INT NOT NULL DEFAULT 1000, max_replication_lag INT NOT NULL DEFAULT 0, use_ssl INT NOT NULL DEFAULT 0, max_latency_ms INT UNSIGNED NOT NULL DEFAULT 0, comment VARCHAR NOT NULL DEFAULT '', PRIMARY KEY (hostgroup_id, hostname, port));
         CREATE VIEW runtime_mysql_servers AS SELECT * FROM mysql_servers;
         INSERT INTO mysql_servers (hostgroup_id, hostname, port, weight) VALUES (10, '10.0.0.1', 3306, 100), (20, '10.0.0.2', 3306, 1), (20, '10.0.0.3', 3306, 1);`,
      ]);
      const client = path.join(work, 'fake-client');
      writeFileSync(
        client,
        [
          '#!/bin/sh',
          `printf '%s\\n' "$@" > ${work}/client.args`,
          `cat > ${work}/client.sql`,
          `grep -v -e '^LOAD ' -e '^SAVE ' ${work}/client.sql | sqlite3 -bail -separator '\t' ${db}`,
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
      const defaults = path.join(work, 'admin.cnf');
      writeFileSync(defaults, '[client]\nhost=127.0.0.1\nport=6032\nuser=radmin\npassword=s3cret-77\n', {
        mode: 0o600,
      });
      return { db, client, defaults, work };
    }

    function rows(db: string): string[] {
      return execFileSync('sqlite3', [
        db,
        'SELECT hostgroup_id, hostname, port, status, weight FROM mysql_servers ORDER BY 1, 2, 3',
      ])
        .toString()
        .trim()
        .split('\n');
    }

    const event: HookEvent = { cluster: 'orders', epoch: 5, oldWriter: a1, newWriter: b1 };

    test.skipIf(!hasSqlite)(
      'default: the old writer OFFLINE_SOFT, the new one ONLINE in the writer hostgroup',
      async () => {
        const { db, client, defaults, work } = setUp();
        const argv = [
          path.join(hooksDir, 'proxysql-writer.sh'),
          '--defaults-file',
          defaults,
          '--writer-hostgroup',
          '10',
          '--reader-hostgroup',
          '20',
          '--client',
          client,
        ];
        const run = await runHook('afterWriterChange', { argv, timeoutMs: 10_000 }, event);
        expect(run).toMatchObject({ ok: true, outcome: 'exit 0' });
        expect(rows(db)).toEqual([
          '10|10.0.0.1|3306|OFFLINE_SOFT|100',
          '10|10.0.0.2|3306|ONLINE|1',
          '20|10.0.0.2|3306|ONLINE|1',
          '20|10.0.0.3|3306|ONLINE|1',
        ]);
        const args = readFileSync(path.join(work, 'client.args'), 'utf8').split('\n');
        expect(args[0]).toBe(`--defaults-extra-file=${defaults}`);
        expect(args.join(' ')).not.toContain('s3cret');
        const sql = readFileSync(path.join(work, 'client.sql'), 'utf8');
        expect(sql).toContain('LOAD MYSQL SERVERS TO RUNTIME;\nSAVE MYSQL SERVERS TO DISK;\n');
        expect(run.stderrTail).toBe(
          'proxysql-writer: writer hostgroup 10 -> 10.0.0.2:3306 (b1), epoch 5; runtime: 10.0.0.1:3306 OFFLINE_SOFT, 10.0.0.2:3306 ONLINE',
        );
        // Idempotent: the same event again changes nothing.
        expect(await runHook('afterWriterChange', { argv, timeoutMs: 10_000 }, event)).toMatchObject({
          ok: true,
        });
        expect(rows(db)).toHaveLength(4);
      },
    );

    test.skipIf(!hasSqlite)('--old-writer reader moves the old writer to the reader hostgroup', async () => {
      const { db, client, defaults } = setUp();
      const argv = [
        path.join(hooksDir, 'proxysql-writer.sh'),
        '--defaults-file',
        defaults,
        '--writer-hostgroup',
        '10',
        '--reader-hostgroup',
        '20',
        '--old-writer',
        'reader',
        '--client',
        client,
      ];
      const run = await runHook('afterWriterChange', { argv, timeoutMs: 10_000 }, event);
      expect(run).toMatchObject({ ok: true, outcome: 'exit 0' });
      expect(rows(db)).toEqual([
        '10|10.0.0.2|3306|ONLINE|1',
        '20|10.0.0.1|3306|ONLINE|1',
        '20|10.0.0.2|3306|ONLINE|1',
        '20|10.0.0.3|3306|ONLINE|1',
      ]);
    });

    test('a host that is not an address or a host name is refused before any client runs', async () => {
      const work = mkdtempSync(path.join(dir, 'proxysql-refuse-'));
      const marker = path.join(work, 'client-ran');
      const client = path.join(work, 'client');
      writeFileSync(client, `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
      const defaults = path.join(work, 'admin.cnf');
      writeFileSync(defaults, '[client]\n');
      const run = await runHook(
        'afterWriterChange',
        {
          argv: [
            path.join(hooksDir, 'proxysql-writer.sh'),
            '--defaults-file',
            defaults,
            '--writer-hostgroup',
            '10',
            '--client',
            client,
          ],
          timeoutMs: 10_000,
        },
        {
          cluster: 'orders',
          newWriter: { name: 'b1', host: "x'; DELETE FROM mysql_servers; --", port: 3306 },
        },
      );
      expect(run).toMatchObject({ ok: false, outcome: 'exit 2' });
      expect(run.stderrTail).toContain('not an IPv4/IPv6 literal or a host name');
      expect(existsSync(marker)).toBe(false);
    });
  });
});
