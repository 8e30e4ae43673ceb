/**
 * deploy/hooks/dns-nsupdate.sh against a real BIND `named` (Debian: bind9, bind9-dnsutils),
 * run through baton's hook runner exactly as the coordinator runs it: clean environment,
 * BATON_* variables, the script's settings in argv, the TSIG key in a file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HookConfig } from '../../src/config/schema.js';
import { runHook, type HookEvent } from '../../src/hooks/hook-runner.js';

const repo = path.resolve(import.meta.dirname, '../..');
const script = path.join(repo, 'deploy/hooks/dns-nsupdate.sh');

/** `name` in PATH or an sbin directory (an ordinary user's PATH lacks /usr/sbin, where named is). */
function findBinary(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? '').split(':').filter((dir) => dir.startsWith('/')),
    '/usr/sbin',
    '/sbin',
  ];
  return dirs.map((dir) => path.join(dir, name)).find((file) => existsSync(file));
}

const binaries = { named: findBinary('named'), nsupdate: findBinary('nsupdate'), dig: findBinary('dig') };
const tsigKeygen = findBinary('tsig-keygen');
const missing = Object.entries({ ...binaries, 'tsig-keygen': tsigKeygen })
  .filter(([, file]) => !file)
  .map(([name]) => name);
const skipReason = missing.length
  ? ` (SKIPPED: ${missing.join(', ')} not installed; apt-get install bind9 bind9-dnsutils)`
  : '';

/** A port free for both TCP and UDP on 127.0.0.1. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

describe.skipIf(missing.length > 0)(`dns-nsupdate.sh against a real named${skipReason}`, () => {
  const zone = 'db.example.';
  const name = 'writer.db.example.';
  let dir: string;
  let port: number;
  let named: ChildProcess | undefined;
  let namedLog = '';
  let keyFile: string;
  let hook: HookConfig;

  function dig(qname: string, type: string): string[] {
    const result = spawnSync(
      binaries.dig as string,
      ['+noall', '+answer', '+time=2', '+tries=1', '-p', String(port), '@127.0.0.1', qname, type],
      { encoding: 'utf8' },
    );
    if (result.status !== 0) throw new Error(`dig failed: ${result.stderr}${result.stdout}`);
    // "writer.db.example.  10  IN  A  10.0.0.2" -> "10 A 10.0.0.2"
    return result.stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const [, ttl, , rrtype, ...data] = line.split(/\s+/);
        return `${ttl} ${rrtype} ${data.join(' ')}`;
      })
      .sort();
  }

  function serial(): number {
    const [soa] = dig(zone, 'SOA');
    return Number(soa?.split(' ')[4]);
  }

  function writerEvent(epoch: number, host: string): HookEvent {
    return {
      cluster: 'orders',
      epoch,
      reason: 'writer-dead-quorum',
      oldWriter: { name: 'a1', host: '10.0.0.1', port: 3306 },
      newWriter: { name: 'b1', host, port: 3306 },
    };
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'baton-named-'));
    port = await freePort();
    keyFile = path.join(dir, 'baton.key');
    const keygen = spawnSync(tsigKeygen as string, ['baton-key'], { encoding: 'utf8' });
    expect(keygen.status).toBe(0);
    writeFileSync(keyFile, keygen.stdout, { mode: 0o600 });
    writeFileSync(
      path.join(dir, 'named.conf'),
      `options {
  directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}";
  recursion no;
  dnssec-validation no;
  notify no;
};
controls { };
include "${keyFile}";
zone "${zone}" {
  type primary;
  file "${dir}/db.example.zone";
  // The policy deploy/hooks/README.md recommends: this name's address records and its epoch record only.
  update-policy {
    grant baton-key name ${name} A AAAA CNAME;
    grant baton-key name _baton-epoch.${name} TXT;
  };
};
`,
    );
    writeFileSync(
      path.join(dir, 'db.example.zone'),
      `$TTL 300
@       IN SOA ns.db.example. hostmaster.db.example. 1 3600 600 86400 60
@       IN NS  ns.db.example.
ns      IN A   127.0.0.1
writer  IN A   10.0.0.1
`,
    );
    named = spawn(binaries.named as string, ['-g', '-n', '1', '-c', path.join(dir, 'named.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    named.stderr?.on('data', (chunk: Buffer) => (namedLog += chunk.toString()));
    const until = Date.now() + 15_000;
    for (;;) {
      if (named.exitCode !== null) throw new Error(`named exited: ${namedLog}`);
      try {
        if (dig(name, 'A').length > 0) break;
      } catch {
        // not answering yet
      }
      if (Date.now() > until) throw new Error(`named did not answer within 15 s: ${namedLog}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    hook = {
      argv: [
        script,
        '--server',
        '127.0.0.1',
        '--port',
        String(port),
        '--zone',
        zone,
        '--name',
        name,
        '--key-file',
        keyFile,
      ],
      timeoutMs: 20_000,
    };
  });

  afterAll(async () => {
    if (named && named.exitCode === null) {
      const exited = new Promise((resolve) => named?.once('exit', resolve));
      named.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (named.exitCode === null) named.kill('SIGKILL');
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the old A record is replaced by the new writer in ONE update, with a low TTL and the epoch', async () => {
    expect(dig(name, 'A')).toEqual(['300 A 10.0.0.1']);
    const before = serial();
    const run = await runHook('afterWriterChange', hook, writerEvent(2, '10.0.0.2'));
    expect(run).toMatchObject({ ok: true, outcome: 'exit 0' });
    expect(run.stderrTail).toBe(
      'dns-nsupdate: writer.db.example. A 10.0.0.2, ttl 10, epoch 2 (writer b1 of orders)',
    );
    expect(dig(name, 'A')).toEqual(['10 A 10.0.0.2']);
    expect(dig(`_baton-epoch.${name}`, 'TXT')).toEqual(['10 TXT "epoch=2"']);
    // One dynamic update increments the serial once: the delete and the add were one message.
    expect(serial()).toBe(before + 1);
  });

  test('the same epoch again is idempotent', async () => {
    const run = await runHook('afterWriterChange', hook, writerEvent(2, '10.0.0.2'));
    expect(run).toMatchObject({ ok: true });
    expect(dig(name, 'A')).toEqual(['10 A 10.0.0.2']);
  });

  test('a late run for an older epoch leaves DNS alone', async () => {
    const before = serial();
    const run = await runHook('afterWriterChange', hook, writerEvent(1, '10.0.0.9'));
    expect(run).toMatchObject({ ok: true, outcome: 'exit 0' });
    expect(run.stderrTail).toContain('already follows epoch 2, newer than this run');
    expect(dig(name, 'A')).toEqual(['10 A 10.0.0.2']);
    expect(serial()).toBe(before);
  });

  test('a host that is neither an address nor a host name is refused', async () => {
    for (const host of ['10.0.0.3 ; update add evil.db.example. 10 A 6.6.6.6', '999.1.1.1', 'bad_host!']) {
      const run = await runHook('afterWriterChange', hook, writerEvent(3, host));
      expect(run).toMatchObject({ ok: false, outcome: 'exit 2' });
      expect(run.stderrTail).toContain('is not an IPv4/IPv6 literal or a host name, refusing');
    }
    expect(dig(name, 'A')).toEqual(['10 A 10.0.0.2']);
    expect(dig('evil.db.example.', 'A')).toEqual([]);
  });

  test('a wrong TSIG key fails the run and changes nothing', async () => {
    const wrongKey = path.join(dir, 'wrong.key');
    writeFileSync(wrongKey, spawnSync(tsigKeygen as string, ['baton-key'], { encoding: 'utf8' }).stdout, {
      mode: 0o600,
    });
    const argv = hook.argv.map((arg) => (arg === keyFile ? wrongKey : arg));
    const run = await runHook('afterWriterChange', { ...hook, argv }, writerEvent(3, '10.0.0.3'));
    expect(run.ok).toBe(false);
    expect(run.stderrTail).toContain('update of writer.db.example. to 10.0.0.3 failed');
    expect(dig(name, 'A')).toEqual(['10 A 10.0.0.2']);
  });

  test('IPv6 -> AAAA, a host name -> CNAME, back to IPv4: each replaces the others', async () => {
    expect(await runHook('afterWriterChange', hook, writerEvent(3, '2001:db8::7'))).toMatchObject({
      ok: true,
    });
    expect(dig(name, 'AAAA')).toEqual(['10 AAAA 2001:db8::7']);
    expect(dig(name, 'A')).toEqual([]);

    expect(await runHook('afterWriterChange', hook, writerEvent(4, 'db-b1.example.com'))).toMatchObject({
      ok: true,
    });
    expect(dig(name, 'CNAME')).toEqual(['10 CNAME db-b1.example.com.']);
    // An AAAA query at a CNAME answers with the CNAME (and whatever it points to): no AAAA of its own.
    expect(dig(name, 'AAAA').filter((record) => record.includes(' AAAA '))).toEqual([]);
    expect(dig(name, 'A').filter((record) => record.includes(' A '))).toEqual([]);

    expect(await runHook('afterWriterChange', hook, writerEvent(5, '10.0.0.1'))).toMatchObject({ ok: true });
    expect(dig(name, 'A')).toEqual(['10 A 10.0.0.1']);
    expect(dig(name, 'CNAME')).toEqual([]);
    expect(dig(`_baton-epoch.${name}`, 'TXT')).toEqual(['10 TXT "epoch=5"']);
  });
});
