import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
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

export function createLabUsers(dir: string): LabUsers {
  const generate = () => randomBytes(18).toString('base64url');
  const users: LabUsers = {
    app: { user: 'app', password: generate() },
    baton: { user: 'baton', password: generate() },
    repl: { user: 'repl', password: generate() },
  };
  writeFileSync(secretsFile(dir), JSON.stringify(users, null, 2) + '\n', { mode: 0o600 });
  chmodSync(secretsFile(dir), 0o600);
  mkdirSync(path.join(dir, 'secrets'), { recursive: true, mode: 0o700 });
  for (const key of Object.keys(users) as (keyof LabUsers)[]) {
    writeFileSync(passwordFile(dir, key), users[key].password, { mode: 0o600 });
  }
  return users;
}

export function readLabUsers(dir: string): LabUsers | undefined {
  if (!existsSync(secretsFile(dir))) return undefined;
  return JSON.parse(readFileSync(secretsFile(dir), 'utf8')) as LabUsers;
}
