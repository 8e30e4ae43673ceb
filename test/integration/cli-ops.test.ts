import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { baton, isRoot, startLab, type Lab } from './support/lab.js';
import type { ClusterState } from '../../src/ops/cluster-state.js';

/** The operator CLI against real etcd (a lab without coordinators, so nothing acts on intents). */
describe('operator CLI', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab();
  });

  afterAll(async () => {
    await lab?.down();
  });

  const status = async (): Promise<ClusterState> => {
    const result = await baton(['status', '--lab', lab.dir, '--json']);
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as ClusterState[])[0] as ClusterState;
  };

  test('pin and switchover are recorded as pending intents with who asked', async () => {
    const pin = await baton(['pin', '--lab', lab.dir, '--no-wait', '--reason', 'maintenance']);
    expect(pin.code).toBe(0);
    expect(pin.stdout).toMatch(/^pin requested for cluster lab \(intent \d{8}T\d+Z-[0-9a-f]{6}\)$/m);
    const switchover = await baton(['switchover', '--lab', lab.dir, '--to', 'b1', '--no-wait']);
    expect(switchover.code).toBe(0);
    const intents = (await status()).intents;
    expect(intents.map((i) => [i.kind, i.status])).toEqual([
      ['pin', 'pending'],
      ['switchover', 'pending'],
    ]);
    expect(intents[0]?.by).toMatch(/@/);
    expect(intents[1]).toMatchObject({ kind: 'switchover', target: 'b1' });
  });

  test('waiting with no leader to act ends with a clear message, and the intent stays queued', async () => {
    const result = await baton(['unpin', '--lab', lab.dir, '--timeout', '1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^baton: no leader finished intent \S+ within 1 s \(status: pending\); it stays queued/,
    );
  });

  test('a forced failover needs --accept-data-loss', async () => {
    const result = await baton(['failover', '--lab', lab.dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'baton: refusing a forced failover without --accept-data-loss (use `baton switchover` for a lossless move)\n',
    );
    expect((await status()).intents.some((i) => i.kind === 'failover')).toBe(false);
  });

  test.skipIf(!isRoot())('status still answers while the first endpoint is partitioned away', async () => {
    await lab.fault('cut', 'a');
    try {
      const started = Date.now();
      const state = await status();
      console.log(`status with site a cut answered in ${Date.now() - started} ms`);
      expect(state.intents.length).toBeGreaterThan(0);
      const pin = await baton(['pin', '--lab', lab.dir, '--no-wait']);
      expect(pin.code, pin.stderr).toBe(0);
    } finally {
      await lab.fault('heal');
    }
  });

  test('no etcd given: one line, exit 1', async () => {
    const result = await baton(['status'], { ...process.env, BATON_CONFIG: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'baton: where is etcd? give --config FILE (or BATON_CONFIG), --lab [DIR], or --endpoints URLS\n',
    );
  });

  test('baton run with a bad config lists every problem with its path and starts nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baton-config-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'coordinator: { name: a, colo: a }',
        'coordinators: [{ name: a, colo: a }, { name: b, colo: b }, { name: w, colo: w }]',
        'etcd: { endpoints: [http://127.0.0.1:1] }',
        'mysql: { user: baton, password: hunter2 }',
        'clusters:',
        '  - name: lab',
        '    policy: availability',
        '    nodes:',
        '      - { name: a1, colo: a, role: candidate, host: h, port: 3306 }',
        '      - { name: b1, colo: b, role: candidate, host: h2, port: 99999 }',
        '',
      ].join('\n'),
    );
    const result = await baton(['run', '--config', file], process.env, 10_000);
    rmSync(dir, { recursive: true, force: true });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`invalid config ${file}:`);
    expect(result.stderr).toContain('mysql: unknown field(s): password');
    expect(result.stderr).toContain('clusters[0].nodes[1].port: expected integer 1-65535');
    expect(result.stderr).not.toContain('hunter2');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
