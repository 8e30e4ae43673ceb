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

/**
 * The etcd accounts of a secure lab (deploy/etcd/setup-rbac.sh makes them): root for the lab's
 * own upkeep (moving raft leadership needs it), one for the coordinators, one for operators
 * (the CLI writes intents) and a read-only viewer.
 */
export const LAB_ETCD_USERS = ['root', 'coordinator', 'operator', 'viewer'] as const;
export type LabEtcdUser = (typeof LAB_ETCD_USERS)[number];

/** The etcd user name of each account: setup-rbac.sh's defaults (`--name baton`). */
export function etcdUserName(user: LabEtcdUser): string {
  return user === 'root' ? 'root' : `baton-${user}`;
}

export function etcdPasswordFile(dir: string, user: LabEtcdUser): string {
  return path.join(dir, 'secrets', `etcd-${user}.password`);
}

export function createLabEtcdPasswords(dir: string): void {
  mkdirSync(path.join(dir, 'secrets'), { recursive: true, mode: 0o700 });
  for (const user of LAB_ETCD_USERS)
    writeSecret(etcdPasswordFile(dir, user), randomBytes(18).toString('base64url'));
}

export function readEtcdPassword(dir: string, user: LabEtcdUser): string {
  return readFileSync(etcdPasswordFile(dir, user), 'utf8').trim();
}
