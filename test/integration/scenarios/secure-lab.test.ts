import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';
import { createCertificateAuthority } from '../../../src/lab/certificate-authority.js';
import { createEtcdClient } from '../../../src/etcd/client.js';
import { labEtcdAccess } from '../../../src/lab/lab-etcd-access.js';
import { readLabState } from '../../../src/lab/lab-state.js';
import { hookDumps, writeTestHooks } from '../support/hook-scripts.js';
import { baton, eventually } from '../support/lab.js';
import { expectEveryServerJudged } from '../support/data-check.js';
import {
  judgedData,
  keepLogsIfFailed,
  printOutages,
  sleep,
  startScenario,
  type Scenario,
} from '../support/scenario.js';
import {
  filesUnder,
  labCanaries,
  ProcessScanner,
  scanFiles,
  sightings,
  type Canary,
  type Sighting,
} from '../support/secret-canary.js';

/**
 * Issue 15: the lab as production would run it (`lab up --secure`: etcd over TLS with client
 * certificates, peer TLS, auth and per-deployment RBAC; MariaDB over TLS, required of baton's and
 * the replication account, replication itself over TLS), through a planned switchover and a kill
 * -9, with the CLI and hooks. Every password of the lab is a canary: none may appear in any
 * process's argv or environment, in any log, in etcd, in any HTTP answer or any CLI output.
 */

let scenario: Scenario | undefined;
let scanner: ProcessScanner | undefined;
let hookDir: string | undefined;
afterEach(async (context) => {
  scanner?.stop();
  scanner = undefined;
  keepLogsIfFailed(scenario, context, 'secure lab');
  await scenario?.lab.down();
  scenario = undefined;
  if (hookDir) rmSync(hookDir, { recursive: true, force: true });
  hookDir = undefined;
});

/** What a person sees: one CLI command's output, checked for secrets with everything else. */
async function cli(outputs: { where: string; text: string }[], args: string[]): Promise<string> {
  const result = await baton(args);
  outputs.push({ where: `baton ${args.join(' ')}`, text: result.stdout + result.stderr });
  expect(result.code, `baton ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

/** Every answer of every coordinator's HTTP listener, the web page included. */
async function httpAnswers(status: Awaited<ReturnType<Scenario['lab']['status']>>) {
  const paths = ['/', '/health', '/liveness', '/readiness', '/metrics', '/clusters', '/clusters/lab'];
  paths.push('/clusters/lab/overview');
  for (const node of status.nodes)
    paths.push(`/clusters/lab/nodes/${node.name}/writer`, `/clusters/lab/nodes/${node.name}/replica`);
  const answers: { where: string; text: string }[] = [];
  for (const c of status.coordinators)
    for (const p of paths) {
      const res = await fetch(`${c.http}${p}`, { signal: AbortSignal.timeout(3_000) });
      answers.push({ where: `${c.http}${p} (${res.status})`, text: await res.text() });
    }
  expect(answers.length).toBeGreaterThan(30);
  return answers;
}

/** Every key and value in etcd, read as etcd's root (the lab keeps root for its own upkeep). */
async function etcdContents(dir: string): Promise<{ where: string; text: string }[]> {
  const state = readLabState(dir);
  if (!state) throw new Error(`no lab in ${dir}`);
  const client = createEtcdClient({ ...labEtcdAccess(state, 'root'), defaultCallTimeoutMs: 5_000 });
  try {
    const all = await client.getAll().prefix('').strings();
    return Object.entries(all).map(([key, value]) => ({ where: `etcd ${key}`, text: `${key}\n${value}` }));
  } finally {
    client.close();
  }
}

/** The parts of a coordinator config the negative checks change. */
interface EditableConfig {
  etcd: {
    tls: { caFile: string; certFile?: string; keyFile?: string };
    auth: { user: string; passwordFile: string };
  };
  clusters: { tls?: unknown }[];
}

/**
 * `baton ARGS --config FILE` (FILE in `scratch`) with site w's coordinator config changed by `edit`: must fail
 * with exactly one line on stderr matching `expected`, no stack.
 */
async function refusedWith(
  dir: string,
  scratch: string,
  args: string[],
  edit: (config: EditableConfig) => void,
  expected: RegExp,
): Promise<string> {
  const config = parse(readFileSync(path.join(dir, 'coordinators', 'w.yaml'), 'utf8')) as EditableConfig;
  edit(config);
  const file = path.join(scratch, `negative-${randomUUID()}.yaml`);
  writeFileSync(file, stringify(config), { mode: 0o600 });
  const result = await baton([...args, '--config', file]);
  const lines = result.stderr.trim().split('\n');
  expect(result.code, result.stdout).not.toBe(0);
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(expected);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return lines[0] as string;
}

function scanTexts(texts: { where: string; text: string }[], canaries: Canary[]): Sighting[] {
  return texts.flatMap(({ where, text }) => sightings(text, where, canaries));
}

test('secure lab: a switchover and a kill -9 with TLS, etcd auth and RBAC; no password in any argv, environment, log, etcd value, HTTP answer or CLI output', async () => {
  hookDir = mkdtempSync(path.join(tmpdir(), 'baton-secure-hooks-'));
  scenario = await startScenario({ secure: true, semiSync: true, hooksFile: writeTestHooks(hookDir) });
  const s = scenario;
  const dir = s.lab.dir;
  const canaries = labCanaries(dir);
  // Three MySQL users and four etcd users, each with its own random password.
  expect(canaries.map((c) => c.name).sort()).toEqual([
    'app.password',
    'baton.password',
    'etcd-coordinator.password',
    'etcd-operator.password',
    'etcd-root.password',
    'etcd-viewer.password',
    'repl.password',
  ]);
  scanner = new ProcessScanner(canaries).start();
  const outputs: { where: string; text: string }[] = [];

  // kill -9 of the writer under writes: the coordinators (their own etcd account) fail over to b1.
  const before = await s.clusterState();
  await s.lab.fault('kill', 'a1');
  const afterKill = await s.waitForWriter('b1', 30_000);
  expect(afterKill.writer?.epoch).toBeGreaterThan(before.writer?.epoch ?? 0);

  // a1 comes back. With semi-sync it holds nothing no client saw committed, so it rejoins as
  // standby: baton re-points it at b1, over TLS (the repl account accepts nothing else).
  await s.lab.fault('start', 'a1');
  expect(await s.quarantineVerdicts(30_000)).toEqual([]);
  await eventually(
    async () => {
      const a1 = (await s.lab.status()).nodes.find((n) => n.name === 'a1');
      return a1?.readOnly === true && a1.replication?.ioRunning === 'Yes' ? true : undefined;
    },
    30_000,
    'a1 to replicate from b1 again',
  );

  // Planned switchover back through the CLI (the operator's etcd account), under writes.
  await cli(outputs, ['switchover', '--lab', dir, '--to', 'a1', '--timeout', '30']);
  const afterSwitch = await s.waitForWriter('a1', 15_000);
  expect(afterSwitch.writer?.epoch).toBeGreaterThan(afterKill.writer?.epoch ?? 0);
  await sleep(500);

  // What an operator runs, through TLS and the operator account.
  await cli(outputs, ['status', '--lab', dir]);
  await cli(outputs, ['history', '--lab', dir]);
  await cli(outputs, ['pin', '--lab', dir, '--reason', 'secure lab check']);
  await cli(outputs, ['unpin', '--lab', dir]);
  await cli(outputs, ['status', '--lab', dir, '--json']);

  const { outages } = await s.finish();
  printOutages('secure lab', outages);
  const status = await s.lab.status();
  const data = await judgedData(s, 'a1');
  await expectEveryServerJudged(data, () => s.lab.status());
  // Replication still runs over TLS after baton re-pointed the masters (the repl account requires it).
  for (const node of ['a1', 'a2', 'b1', 'b2']) {
    const conn = await s.lab.connect(node, 'baton');
    const [rows] = await conn.query('SHOW SLAVE STATUS');
    conn.destroy();
    const replica = (rows as Record<string, unknown>[])[0];
    expect(replica?.Master_SSL_Allowed, `${node} replicates without TLS`).toBe('Yes');
    expect(replica?.Slave_IO_Running, `${node}: ${String(replica?.Last_IO_Error)}`).toBe('Yes');
  }

  // Each way of getting it wrong is one line that says what is wrong.
  const otherCa = createCertificateAuthority(path.join(hookDir, 'other-ca'), 'another');
  const wrongPasswordFile = path.join(hookDir, 'wrong.password');
  writeFileSync(wrongPasswordFile, 'not-the-password', { mode: 0o600 });
  const negatives = [
    await refusedWith(
      dir,
      hookDir,
      ['status'],
      (c) => {
        delete c.etcd.tls.certFile;
        delete c.etcd.tls.keyFile;
      },
      /requires a client certificate/,
    ),
    await refusedWith(
      dir,
      hookDir,
      ['status'],
      (c) => (c.etcd.tls.caFile = otherCa.caFile),
      /not signed by etcd\.tls\.caFile/,
    ),
    await refusedWith(
      dir,
      hookDir,
      ['status'],
      (c) => (c.etcd.auth.passwordFile = wrongPasswordFile),
      /etcd authentication failed: wrong password for etcd user baton-coordinator, or no such user/,
    ),
    // The viewer may read /baton/lab/ but not write an intent there.
    await refusedWith(
      dir,
      hookDir,
      ['pin', '--reason', 'viewer tries'],
      (c) =>
        (c.etcd.auth = {
          user: 'baton-viewer',
          passwordFile: path.join(dir, 'secrets', 'etcd-viewer.password'),
        }),
      /permission denied/,
    ),
  ];
  console.log(`[secure lab] refused, one line each:\n  ${negatives.join('\n  ')}`);
  outputs.push(...negatives.map((text) => ({ where: 'a refused command', text })));

  scanner.stop();
  const texts = [
    ...outputs,
    ...(await httpAnswers(status)),
    ...(await etcdContents(dir)),
    ...hookDumps(hookDir, '.env').map((d) => ({ where: `hook ${d.file}`, text: d.text })),
    ...hookDumps(hookDir, '.argv').map((d) => ({ where: `hook ${d.file}`, text: d.text })),
  ];
  // Every file the lab wrote but its password files and the servers' own data directories:
  // MariaDB keeps the replication password in master.info, and etcd 3.4 writes each user's
  // password as given into its write-ahead log (found by this test: 3.5 hashes it first). Both
  // directories are their servers' secrets (README "etcd RBAC").
  const files = filesUnder(
    dir,
    (rel) => rel === 'secrets' || rel === 'secrets.json' || /^([ab][12]\/data|etcd-[abw])$/.test(rel),
  );
  const logFiles = files.filter((f) => f.endsWith('.log'));
  expect(logFiles.length, 'coordinator, etcd and MariaDB logs').toBeGreaterThanOrEqual(10);
  const found = [...scanner.found, ...scanTexts(texts, canaries), ...scanFiles(files, canaries)];
  console.log(
    `[secure lab] scanned ${scanner.scans} times ${scanner.processesRead} process command lines and environments, ` +
      `${files.length} files (${logFiles.length} logs), ${texts.length} CLI outputs, HTTP answers, etcd values and hook dumps: ` +
      `${found.length} sightings of ${canaries.length} passwords`,
  );
  expect(found.map((f) => `${f.secret} in ${f.where}`)).toEqual([]);
  // The same scan finds a password where it belongs: it is not blind.
  expect(scanFiles([path.join(dir, 'secrets', 'baton.password')], canaries)).toHaveLength(1);
  // The scan saw the processes that hold the secrets' files: not an empty pass.
  expect(scanner.processesRead).toBeGreaterThan(scanner.scans * 10);
});
