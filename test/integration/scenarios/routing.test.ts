import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { HistoryEntry } from '../../../src/core/index.js';
import { hookDumps, SLOW_SLEEP_S, unexpectedVariables, writeTestHooks } from '../support/hook-scripts.js';
import { asRoot, eventually } from '../support/lab.js';
import { describeData, expectEveryServerJudged } from '../support/data-check.js';
import { acksByNonWriter, RoutedWriteClient } from '../support/routed-write-client.js';
import { runSysbenchWriteOnly, prepareSysbenchTable, tableChecksum } from '../support/sysbench.js';
import { followWriter } from '../support/writer-timeline.js';
import { Prometheus } from '../support/prometheus.js';
import { judgedData, printOutages, startScenario, type Scenario } from '../support/scenario.js';
import { batonOk } from '../support/lab.js';
import type { LabStatus } from '../../../src/lab/lab-status.js';

/**
 * Issue 12: applications follow the writer. Every coordinator answers HAProxy's checks from
 * memory; HAProxy's write port reaches the writer and nothing else across faults; hooks run
 * outside the decision loop (a failing beforePromote vetoes, a hanging hook is killed at its
 * timeout) and never see a secret.
 */

const LONG_MS = 240_000;

let scenario: Scenario | undefined;
let client: RoutedWriteClient | undefined;
let timeline: Awaited<ReturnType<typeof followWriter>> | undefined;
let hookDir: string | undefined;
afterEach(async () => {
  if (hookDir) rmSync(hookDir, { recursive: true, force: true });
  hookDir = undefined;
  await client?.stop();
  client = undefined;
  await timeline?.stop();
  timeline = undefined;
  await scenario?.lab.down();
  scenario = undefined;
});

interface Answer {
  status: number;
  text: string;
  body: Record<string, unknown>;
}

function coordinatorUrl(status: LabStatus, site: string): string {
  const c = status.coordinators.find((x) => x.site === site);
  if (!c) throw new Error(`no coordinator at ${site}`);
  return c.http;
}

async function ask(status: LabStatus, site: string, path: string, method = 'GET'): Promise<Answer> {
  const res = await fetch(`${coordinatorUrl(status, site)}${path}`, {
    method,
    signal: AbortSignal.timeout(2_000),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // /metrics and HEAD
  }
  return { status: res.status, text, body };
}

const writerPath = (node: string) => `/clusters/lab/nodes/${node}/writer`;
const replicaPath = (node: string, query = '') => `/clusters/lab/nodes/${node}/replica${query}`;

test(
  '12.1 every check in each state, then a colo cut through HAProxy: the cut coordinator says 503, writes follow the writer',
  async () => {
    scenario = await startScenario({ haproxy: true });
    const s = scenario;
    const status = await s.lab.status();
    expect(status.haproxy).not.toBeNull();
    expect(status.coordinators.map((c) => c.site)).toEqual(['a', 'b', 'w']);

    // The writer: every coordinator agrees, GET and HEAD alike.
    for (const site of ['a', 'b', 'w']) {
      const a1 = await ask(status, site, writerPath('a1'));
      expect(a1.status, `${site}: ${a1.text}`).toBe(200);
      expect(a1.body).toMatchObject({ ok: true, writer: 'a1', epoch: expect.any(Number) });
    }
    const head = await ask(status, 'a', writerPath('a1'), 'HEAD');
    expect([head.status, head.text]).toEqual([200, '']);
    expect((await ask(status, 'b', writerPath('b1'), 'HEAD')).status).toBe(503);
    // The standby master and a replica are no writers, but serve reads.
    expect((await ask(status, 'b', writerPath('b1'))).body).toMatchObject({
      ok: false,
      reason: 'not-the-writer',
    });
    expect((await ask(status, 'a', writerPath('a2'))).status).toBe(503);
    await eventually(
      async () =>
        (await ask(status, 'a', replicaPath('a2', '?maxLagMs=10000'))).status === 200 ? true : undefined,
      10_000,
      'a2 a healthy reader',
    );
    expect((await ask(status, 'b', replicaPath('b1', '?maxLagMs=10000'))).status).toBe(200);
    expect((await ask(status, 'a', replicaPath('a1'))).body).toMatchObject({ ok: false, reason: 'writable' });
    expect((await ask(status, 'a', replicaPath('a1', '?includeWriter=1'))).status).toBe(200);
    // Unknown names, bad input, other methods.
    expect((await ask(status, 'w', '/clusters/nope')).status).toBe(404);
    expect((await ask(status, 'w', writerPath('zz'))).status).toBe(404);
    expect((await ask(status, 'w', replicaPath('a2', '?maxLagMs=soon'))).status).toBe(400);
    expect((await ask(status, 'w', writerPath('a1'), 'POST')).status).toBe(405);
    // The process, the loop and the session; the cluster as status --json shows it.
    for (const path of ['/health', '/liveness', '/readiness'])
      expect((await ask(status, 'w', path)).status, path).toBe(200);
    const cluster = await ask(status, 'w', '/clusters/lab');
    expect(cluster.body).toMatchObject({ cluster: 'lab', writer: { node: 'a1' }, answeredBy: 'w' });
    expect((await ask(status, 'b', '/metrics')).text).toContain('baton_writable_nodes{cluster="lab"} 1');
    // A real Prometheus scrapes all three coordinators and sees one writable node.
    const prometheus = await Prometheus.start(status.coordinators.map((c) => `${c.http}/metrics`));
    try {
      const scraped = await eventually(
        async () => {
          const up = await prometheus.query('sum(up{job="baton"})');
          const writable = await prometheus.query('max(baton_writable_nodes{cluster="lab"})');
          return up[0]?.value === 3 && writable.length === 1 ? writable : undefined;
        },
        20_000,
        'prometheus scraping all three coordinators',
      );
      expect(scraped[0]?.value).toBe(1);
    } finally {
      await prometheus.stop();
    }

    // A lagging replica: a2 applies 5 s late.
    await asRoot(s.lab, 'a2', 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=5; START SLAVE');
    const lagging = await eventually(
      async () => {
        const answer = await ask(status, 'a', replicaPath('a2', '?maxLagMs=2000'));
        return answer.status === 503 ? answer : undefined;
      },
      15_000,
      'a2 reported lagging',
    );
    expect(lagging.body).toMatchObject({ reason: 'lagging' });
    expect((await ask(status, 'a', replicaPath('a2', '?maxLagMs=60000'))).status).toBe(200);
    await asRoot(s.lab, 'a2', 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE');

    // A quarantined replica: a write on b2 itself (root bypasses read_only) diverges it.
    await asRoot(s.lab, 'b2', "INSERT INTO app.writes (client, seq) VALUES ('errant-on-b2', 1)");
    await s.waitForHistory('replica-diverged', 30_000);
    const quarantined = await eventually(
      async () => {
        const answer = await ask(status, 'b', replicaPath('b2', '?maxLagMs=60000'));
        return answer.body.reason === 'quarantined' ? answer : undefined;
      },
      10_000,
      'b2 reported quarantined',
    );
    expect(quarantined.status).toBe(503);
    expect((await ask(status, 'b', '/metrics')).text).toContain(
      'baton_node_quarantined{cluster="lab",node="b2"} 1',
    );

    // Through HAProxy: cut the writer's colo. Its coordinator loses its session and says so.
    timeline = await followWriter(status);
    client = new RoutedWriteClient(status).start();
    await eventually(async () => (client!.acks.length >= 20 ? true : undefined), 10_000, 'routed writes');
    await s.lab.fault('cut', 'a');
    const cutAt = Date.now();
    const noSession = await eventually(
      async () => {
        const answer = await ask(status, 'a', writerPath('a1'));
        return answer.status === 503 ? answer : undefined;
      },
      15_000,
      'the cut coordinator to refuse a1',
    );
    console.log(`[12.1] cut coordinator after ${Date.now() - cutAt} ms: ${noSession.text.trim()}`);
    expect(['no-etcd-session', 'state-stale', 'read-only', 'not-the-writer']).toContain(
      noSession.body.reason,
    );
    await eventually(
      async () => ((await ask(status, 'a', '/readiness')).status === 503 ? true : undefined),
      10_000,
      'the cut coordinator not ready',
    );
    await s.waitForWriter('b1', 30_000);
    await eventually(
      async () => (client!.acks.some((a) => a.node === 'b1') ? true : undefined),
      10_000,
      'routed writes on b1',
    );
    await s.lab.fault('heal');
    await client.stop();
    const routedOutages = client.outages(200);
    printOutages('12.1 colo cut through HAProxy', routedOutages);
    console.log(`[12.1] routed client: ${client.acks.length} acks, ${client.reconnects} reconnects`);
    const wrong = acksByNonWriter(client.acks, timeline);
    expect(
      wrong,
      JSON.stringify({ timeline: timeline.changes, wrong: [...wrong.slice(0, 3), ...wrong.slice(-3)] }),
    ).toEqual([]);
    await s.finish();
    const final = await judgedData(s, 'b1');
    console.log(`[12.1] data:\n${describeData(final)}`);
    await expectEveryServerJudged(final, () => s.lab.status());
  },
  LONG_MS,
);

test(
  '12.2 through HAProxy, with hooks: a kill -9 vetoed by beforePromote, then failed over; a switchover back under sysbench; no write acknowledged by a non-writer, no hook sees a secret',
  async () => {
    // Semi-sync and the consistency policy: the killed a1 returns with its unacknowledged tail
    // truncated and rejoins clean (data-safety 10.2), so the switchover can move the writer back
    // to it; an automatic failover after the switchover would wait out the cooldown.
    hookDir = mkdtempSync(path.join(tmpdir(), 'baton-hooks-'));
    const root = hookDir;
    scenario = await startScenario({
      haproxy: true,
      semiSync: true,
      policy: 'consistency',
      hooksFile: writeTestHooks(root),
    });
    const s = scenario;
    const status = await s.lab.status();
    timeline = await followWriter(status);
    client = new RoutedWriteClient(status).start();
    await eventually(async () => (client!.acks.length >= 20 ? true : undefined), 10_000, 'routed writes');

    // a1 dies while beforePromote says no: the failover stops before its commit, and says why.
    writeFileSync(path.join(root, 'veto'), '');
    await s.lab.fault('kill', 'a1');
    const vetoed = await eventually(
      async () =>
        (await s.clusterState()).history.find(
          (h) => h.message.includes('promotion-vetoed') && h.message.includes('vetoed by the test'),
        ),
      30_000,
      'the veto in history, with the hook’s stderr',
    );
    console.log(`[12.2] ${vetoed.event} ${vetoed.reason}: ${vetoed.message}`);
    expect((await s.clusterState()).writer?.node).toBe('a1');
    // The hook relents: the next try (VETO_RETRY_MS later) promotes b1.
    rmSync(path.join(root, 'veto'));
    const relentedAt = Date.now();
    await s.waitForWriter('b1', 30_000);
    console.log(`[12.2] b1 the writer ${Date.now() - relentedAt} ms after the hook relented`);
    await eventually(
      async () => (client!.acks.filter((a) => a.node === 'b1').length > 20 ? true : undefined),
      10_000,
      'routed writes on b1',
    );

    // afterWriterChange hangs in `sleep`: killed, its whole process group, at its 500 ms timeout,
    // after the writer change was committed and written.
    const promote = await s.waitForPromote((await s.clusterState()).writer?.epoch ?? -1, 10_000);
    const killed = await eventually(
      async () =>
        (await s.clusterState()).history.find(
          (h) =>
            h.reason === 'hook-failed' &&
            h.message.startsWith('afterWriterChange timeout') &&
            h.epoch === promote.epoch,
        ),
      15_000,
      'the slow afterWriterChange killed at its timeout',
    );
    console.log(`[12.2] ${killed.message}`);
    const wall = (h: HistoryEntry) => (h as HistoryEntry & { wallAt: number }).wallAt;
    expect(wall(killed)).toBeGreaterThanOrEqual(wall(promote) + 400);
    expect(() => execFileSync('pgrep', ['-f', `sleep ${SLOW_SLEEP_S}`])).toThrow();

    await s.lab.fault('start', 'a1');
    expect(await s.quarantineVerdicts(30_000)).toEqual([]);

    // Switchover b1 → a1 while sysbench writes through the same port (beforePromote approves).
    await prepareSysbenchTable(s.lab, 'b1');
    const load = runSysbenchWriteOnly(s.lab, status, 8);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await batonOk(['switchover', '--lab', s.lab.dir, '--to', 'a1']);
    const bench = await load;
    console.log(`[12.2] sysbench across the switchover: ${bench.summary}`);
    expect(bench.transactions).toBeGreaterThan(0);
    await s.waitForWriter('a1', 10_000);
    await eventually(
      async () => (client!.acks.filter((a) => a.node === 'a1').length > 20 ? true : undefined),
      10_000,
      'routed writes back on a1',
    );
    await client.stop();
    printOutages('12.2 vetoed kill, then switchover, through HAProxy', client.outages(200));
    console.log(`[12.2] routed client: ${client.acks.length} acks, ${client.reconnects} reconnects`);
    const wrong = acksByNonWriter(client.acks, timeline);
    expect(
      wrong,
      JSON.stringify({ timeline: timeline.changes, wrong: [...wrong.slice(0, 3), ...wrong.slice(-3)] }),
    ).toEqual([]);
    // Every server converges on the same sbtest1 rows.
    const checksums = await eventually(
      async () => {
        const sums = await Promise.all(['a1', 'b1', 'a2', 'b2'].map((n) => tableChecksum(s.lab, n)));
        return sums.every((x) => x === sums[0]) ? sums : undefined;
      },
      20_000,
      'sbtest1 equal on every server',
    );
    console.log(`[12.2] sbtest1 checksum on every server: ${checksums[0]}`);

    // What the hooks were given: data in BATON_*, nothing else, never a secret.
    const envs = hookDumps(root, '.env');
    const afterChange = envs.find(
      (e) => e.text.includes('BATON_HOOK=afterWriterChange') && e.text.includes('BATON_NEW_WRITER=b1'),
    );
    expect(afterChange?.text).toContain('BATON_OLD_WRITER=a1');
    expect(afterChange?.text).toMatch(/BATON_NEW_WRITER_PORT=\d+/);
    expect(
      envs.some((e) => e.text.includes('BATON_HOOK=beforePromote') && e.text.includes('BATON_NEW_WRITER=a1')),
    ).toBe(true);
    const secrets = Object.values(status.users).map((u) => u.password);
    for (const { file, text } of [...envs, ...hookDumps(root, '.argv')])
      for (const secret of secrets) expect(text.includes(secret), `${file} holds a password`).toBe(false);
    for (const { file, text } of envs) expect(unexpectedVariables(text), file).toEqual([]);
    // Each coordinator counts the runs it made; together they saw the failures.
    const failures = await Promise.all(
      status.coordinators.map(async (c) => {
        const text = await (await fetch(`${c.http}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
        const line = text
          .split('\n')
          .find((l) => l.startsWith('baton_hook_failures_total{') && l.includes('afterWriterChange'));
        return Number(line?.split(' ').pop() ?? 0);
      }),
    );
    expect(failures.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);

    await s.finish();
    const final = await judgedData(s, 'a1');
    console.log(`[12.2] data:\n${describeData(final)}`);
    await expectEveryServerJudged(final, () => s.lab.status());
  },
  LONG_MS,
);
