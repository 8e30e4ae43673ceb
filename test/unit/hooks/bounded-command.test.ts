import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import {
  cleanEnvironment,
  EXIT_DRAIN_MS,
  runBoundedCommand,
  tailLines,
} from '../../../src/hooks/bounded-command.js';

const dir = mkdtempSync(path.join(tmpdir(), 'baton-bounded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Alive and not a zombie (a killed orphan may wait for a reaper that never comes in a container). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function waitUntilGone(pid: number, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (running(pid)) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

function readPid(file: string): number {
  return Number(readFileSync(file, 'utf8').trim());
}

describe('runBoundedCommand', () => {
  test('exit 0 is ok, with its exit code', async () => {
    const result = await runBoundedCommand(['sh', '-c', 'exit 0'], { timeoutMs: 5_000 });
    expect(result).toMatchObject({ ok: true, outcome: 'exit 0', exitCode: 0, stderrTail: '' });
    expect(result.ms).toBeGreaterThanOrEqual(0);
  });

  test('a non-zero exit is not ok, and says which', async () => {
    const result = await runBoundedCommand(['sh', '-c', 'exit 3'], { timeoutMs: 5_000 });
    expect(result).toMatchObject({ ok: false, outcome: 'exit 3', exitCode: 3 });
  });

  test('death by a signal is reported as the signal, without an exit code', async () => {
    const result = await runBoundedCommand(['sh', '-c', 'kill -TERM $$'], { timeoutMs: 5_000 });
    expect(result.ok).toBe(false);
    expect(result.outcome).toBe('signal SIGTERM');
    expect(result.exitCode).toBeUndefined();
  });

  test('stderr: the last three lines, on one line', async () => {
    const result = await runBoundedCommand(
      ['sh', '-c', 'for i in 1 2 3 4 5; do echo "line $i" >&2; done; echo to-stdout; exit 1'],
      { timeoutMs: 5_000 },
    );
    expect(result.stderrTail).toBe('line 3 | line 4 | line 5');
  });

  test('stderr: a flood keeps only its end', async () => {
    const result = await runBoundedCommand(
      ['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do echo "noise $i" >&2; i=$((i+1)); done; echo last >&2'],
      { timeoutMs: 10_000 },
    );
    expect(result.stderrTail).toBe('noise 2998 | noise 2999 | last');
  });

  test('a timeout kills the whole process group, grandchild included, and settles at the deadline', async () => {
    const pidFile = path.join(dir, 'grandchild.pid');
    // The shell forks sleep (a grandchild of ours) and waits for it; both hold stderr open.
    const result = await runBoundedCommand(['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], {
      timeoutMs: 500,
    });
    expect(result).toMatchObject({ ok: false, outcome: 'timeout after 500 ms' });
    expect(result.exitCode).toBeUndefined();
    expect(result.ms).toBeGreaterThanOrEqual(490);
    expect(result.ms).toBeLessThan(700);
    const grandchild = readPid(pidFile);
    expect(await waitUntilGone(grandchild, 1_000)).toBe(true);
  });

  test('a plain `sh -c "sleep 30"` is killed too', async () => {
    const started = Date.now();
    const result = await runBoundedCommand(['sh', '-c', 'sleep 30'], { timeoutMs: 300 });
    expect(result.outcome).toBe('timeout after 300 ms');
    expect(Date.now() - started).toBeLessThan(500);
  });

  test('a command that exits while a background grandchild holds stderr settles at once; the straggler is killed', async () => {
    const pidFile = path.join(dir, 'straggler.pid');
    const result = await runBoundedCommand(
      ['sh', '-c', `sleep 30 & echo $! > ${pidFile}; echo done >&2; exit 0`],
      { timeoutMs: 10_000 },
    );
    expect(result).toMatchObject({ ok: true, outcome: 'exit 0', exitCode: 0, stderrTail: 'done' });
    expect(result.ms).toBeLessThan(EXIT_DRAIN_MS + 400);
    expect(await waitUntilGone(readPid(pidFile), 1_000)).toBe(true);
  });

  describe('environment', () => {
    afterEach(() => {
      delete process.env.BATON_MYSQL_PASSWORD;
    });

    test("the child does not inherit baton's environment: only PATH, LANG, LC_ALL, TZ, HOME and the caller's", async () => {
      process.env.BATON_MYSQL_PASSWORD = 'canary-d41d8cd9';
      const out = path.join(dir, 'env.out');
      const result = await runBoundedCommand(['sh', '-c', `env > ${out}`], {
        timeoutMs: 5_000,
        env: { BATON_CLUSTER: 'orders' },
      });
      expect(result.ok).toBe(true);
      const env = readFileSync(out, 'utf8');
      expect(env).not.toContain('canary');
      expect(env).not.toContain('BATON_MYSQL_PASSWORD');
      expect(env).toContain('BATON_CLUSTER=orders\n');
      expect(env).toContain(`PATH=${process.env.PATH}\n`);
      const names = env
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => line.slice(0, line.indexOf('=')));
      // sh itself adds PWD (and dash nothing else); nothing comes from process.env but the list.
      expect(names.filter((name) => name !== 'PWD').sort()).toEqual(
        Object.keys(cleanEnvironment({ BATON_CLUSTER: 'orders' })).sort(),
      );
    });

    test('cleanEnvironment takes only the passthrough variables that are set; NULs are dropped', () => {
      process.env.BATON_MYSQL_PASSWORD = 'canary';
      const env = cleanEnvironment({ X: 'a\0b' });
      expect(
        Object.keys(env).every((name) => ['PATH', 'LANG', 'LC_ALL', 'TZ', 'HOME', 'X'].includes(name)),
      ).toBe(true);
      expect(env.X).toBe('ab');
    });
  });

  test('argv never goes through a shell: metacharacters stay literal', async () => {
    const payload = `a; touch ${dir}/pwned $(touch ${dir}/pwned2) \`touch ${dir}/pwned3\` | touch ${dir}/pwned4`;
    const out = path.join(dir, 'argv.out');
    // The script writes its first argument to a file, byte for byte.
    const result = await runBoundedCommand(['sh', '-c', 'printf "%s" "$1" > "$2"', 'sh', payload, out], {
      timeoutMs: 5_000,
    });
    expect(result.ok).toBe(true);
    expect(readFileSync(out, 'utf8')).toBe(payload);
    for (const name of ['pwned', 'pwned2', 'pwned3', 'pwned4']) {
      expect(existsSync(path.join(dir, name))).toBe(false);
    }
  });

  test('a missing program is an outcome, not a throw', async () => {
    const result = await runBoundedCommand(['/nonexistent/hook'], { timeoutMs: 1_000 });
    expect(result.ok).toBe(false);
    expect(result.outcome).toMatch(/^could not start: spawn \/nonexistent\/hook ENOENT/);
    expect(result.exitCode).toBeUndefined();
  });

  test('an argument spawn refuses (a NUL byte) and an empty argv are outcomes too', async () => {
    const nul = await runBoundedCommand(['echo', 'a\0b'], { timeoutMs: 1_000 });
    expect(nul.ok).toBe(false);
    expect(nul.outcome).toMatch(/^could not start: /);
    expect(await runBoundedCommand([], { timeoutMs: 1_000 })).toMatchObject({
      ok: false,
      outcome: 'could not start: empty argv',
    });
  });

  test('an abort kills the group at once', async () => {
    const pidFile = path.join(dir, 'aborted.pid');
    const controller = new AbortController();
    const pending = runBoundedCommand(['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], {
      timeoutMs: 30_000,
      signal: controller.signal,
    });
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const abortedAt = Date.now();
    controller.abort(new Error('stopping'));
    const result = await pending;
    expect(result).toMatchObject({ ok: false, outcome: 'killed: stopping' });
    expect(Date.now() - abortedAt).toBeLessThan(200);
    expect(await waitUntilGone(readPid(pidFile), 1_000)).toBe(true);
    expect(await runBoundedCommand(['true'], { timeoutMs: 1_000, signal: controller.signal })).toMatchObject({
      ok: false,
      outcome: 'killed: stopping',
    });
  });

  test('tailLines', () => {
    expect(tailLines('a\n\n b \nc\nd\n')).toBe('b | c | d');
    expect(tailLines('')).toBe('');
  });
});
