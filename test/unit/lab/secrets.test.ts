import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { resolvePassword } from '../../../src/config/load-config.js';
import { createLabUsers, passwordFile } from '../../../src/lab/secrets.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function labDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'baton-lab-secrets-'));
  dirs.push(dir);
  return dir;
}

describe('lab secrets', () => {
  test('password files are owner-only, so the coordinators the lab starts accept them', () => {
    const dir = labDir();
    const users = createLabUsers(dir);
    for (const user of ['app', 'baton', 'repl'] as const) {
      const file = passwordFile(dir, user);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(resolvePassword({ user, passwordFile: file }, 'mysql', 'lab.yaml')).toBe(users[user].password);
    }
    expect(statSync(path.join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, 'secrets')).mode & 0o777).toBe(0o700);
  });

  test('files an earlier lab left readable are replaced owner-only', () => {
    const dir = labDir();
    mkdirSync(path.join(dir, 'secrets'), { mode: 0o755 });
    for (const file of [passwordFile(dir, 'baton'), path.join(dir, 'secrets.json')]) {
      writeFileSync(file, 'old');
      chmodSync(file, 0o644);
    }
    chmodSync(path.join(dir, 'secrets'), 0o755);
    const users = createLabUsers(dir);
    expect(statSync(passwordFile(dir, 'baton')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, 'secrets')).mode & 0o777).toBe(0o700);
    expect(
      resolvePassword({ user: 'baton', passwordFile: passwordFile(dir, 'baton') }, 'mysql', 'lab.yaml'),
    ).toBe(users.baton.password);
  });
});
