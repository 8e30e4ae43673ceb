/**
 * deploy/etcd/setup-rbac.sh without an etcd: shellcheck-clean, and every mistake an operator can
 * make before it contacts etcd answered with one line and exit 2, a password never echoed.
 * What it does to a real etcd is test/integration/etcd-rbac.test.ts. Skipped, saying so, where
 * shellcheck is missing (scripts/setup installs Debian's shellcheck package).
 */

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

const SCRIPT = path.resolve(import.meta.dirname, '../../../deploy/etcd/setup-rbac.sh');
const dir = mkdtempSync(path.join(tmpdir(), 'baton-rbac-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const shellcheck = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
const noShellcheck = shellcheck.error ? `shellcheck cannot run (${shellcheck.error.message})` : undefined;
if (noShellcheck)
  console.warn(`skipping the shellcheck of setup-rbac.sh: ${noShellcheck}; scripts/setup installs it`);

function run(args: string[], input = '') {
  // No etcd listens on port 1: a test that got past the argument checks would fail loudly.
  const env = { ...process.env, ETCDCTL_ENDPOINTS: 'http://127.0.0.1:1' };
  return spawnSync(SCRIPT, args, { encoding: 'utf8', input, env, timeout: 10_000 });
}

function secretFile(name: string, content: string, mode = 0o600): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  chmodSync(file, mode);
  return file;
}

describe('deploy/etcd/setup-rbac.sh', () => {
  test.skipIf(noShellcheck !== undefined)('is shellcheck-clean', () => {
    const result = spawnSync('shellcheck', [SCRIPT], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  test('documents its interface in --help', () => {
    const result = run(['--help']);
    expect(result.status).toBe(0);
    for (const option of ['--cluster', '--endpoints', '--cacert', '--cert', '--key', '--root-password-file'])
      expect(result.stdout).toContain(option);
  });

  const passwords = (): string[] =>
    ['root', 'coordinator', 'operator', 'viewer'].flatMap((who) => [
      `--${who}-password-file`,
      secretFile(`${who}.pw`, `${who}-secret\n`),
    ]);

  test.each([
    { why: 'no cluster', args: [], says: 'give at least one --cluster NAME' },
    {
      why: 'a cluster name baton would refuse',
      args: ['--cluster', 'Orders'],
      says: '--cluster Orders: expected',
    },
    { why: 'an option without its value', args: ['--cluster'], says: '--cluster needs a value' },
    { why: 'an unknown option', args: ['--cluster', 'c1', '--user', 'root'], says: 'unknown option --user' },
  ])('refuses $why in one line', ({ args, says }) => {
    const result = run(args);
    expect(result.status).toBe(2);
    expect(result.stderr.split('\n')[0]).toContain(says);
  });

  test('refuses a password file others can read, naming the fix', () => {
    const loose = secretFile('loose.pw', 'secret-pw\n', 0o644);
    const result = run(['--cluster', 'c1', ...passwords(), '--viewer-password-file', loose]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`others can read it (mode 644); make it owner-only: chmod 600 ${loose}`);
  });

  test('refuses a password with white space, which etcdctl would cut short, without echoing it', () => {
    const spaced = secretFile('spaced.pw', 'two words\n');
    const result = run(['--cluster', 'c1', ...passwords(), '--operator-password-file', spaced]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('the operator password contains white space');
    expect(result.stderr).not.toContain('two words');
  });

  test('reads the passwords it has no file for from stdin, in order, and says which is missing', () => {
    const result = run(['--cluster', 'c1'], 'root-pw\ncoordinator-pw\n');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('no password for operator');
  });

  test('says etcd did not answer, once the arguments are right', () => {
    const result = run(['--cluster', 'c1', ...passwords()]);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('etcd did not answer at http://127.0.0.1:1');
    expect(result.stderr).not.toContain('secret');
  });
});
