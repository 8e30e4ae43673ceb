import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Credentials {
  user: string;
  password: string;
}

export interface LabUsers {
  app: Credentials;
  baton: Credentials;
  repl: Credentials;
}

function secretsFile(dir: string): string {
  return path.join(dir, 'secrets.json');
}

/** One password file per user (mode 0600) so a coordinator config can use `passwordFile`. */
export function passwordFile(dir: string, user: keyof LabUsers): string {
  return path.join(dir, 'secrets', `${user}.password`);
}

/**
 * A new file, owner-only from its first byte. `mode` applies only when the file is created, so a
 * file left by an earlier lab is removed first rather than rewritten with the mode it had (baton
 * refuses a password file its group or others can read).
 */
function writeSecret(file: string, content: string): void {
  rmSync(file, { force: true });
  writeFileSync(file, content, { mode: 0o600, flag: 'wx' });
}

export function createLabUsers(dir: string): LabUsers {
  const generate = () => randomBytes(18).toString('base64url');
  const users: LabUsers = {
    app: { user: 'app', password: generate() },
    baton: { user: 'baton', password: generate() },
    repl: { user: 'repl', password: generate() },
  };
  writeSecret(secretsFile(dir), JSON.stringify(users, null, 2) + '\n');
  mkdirSync(path.join(dir, 'secrets'), { recursive: true, mode: 0o700 });
  chmodSync(path.join(dir, 'secrets'), 0o700);
  for (const key of Object.keys(users) as (keyof LabUsers)[])
    writeSecret(passwordFile(dir, key), users[key].password);
  return users;
}

export function readLabUsers(dir: string): LabUsers | undefined {
  if (!existsSync(secretsFile(dir))) return undefined;
  return JSON.parse(readFileSync(secretsFile(dir), 'utf8')) as LabUsers;
}
