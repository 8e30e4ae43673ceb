/**
 * An account's privileges from `SHOW GRANTS` (the same statement on MariaDB and MySQL 8), and
 * what baton asks of its own account and of the application's.
 *
 * MariaDB prints `IDENTIFIED BY PASSWORD '<hash>'` in SHOW GRANTS: nothing here keeps a line's
 * text, only the privileges, objects and role names parsed from it, so no hash reaches a finding.
 * MariaDB lists the grants of the session's current role too (verified on 10.11.19: a default
 * role's READ_ONLY ADMIN shows as `GRANT READ_ONLY ADMIN ON *.* TO `role``), which is why the
 * gather step enables each granted role in turn and reads again.
 */
import type { Flavor } from '../mysql/dialect.js';
import { batonPrivileges } from '../mysql/privileges.js';

/** One privilege on one object: `*.*`, `db.*`, `db.table`, or `other` (routines, PROXY). */
export interface Grant {
  privilege: string;
  on: string;
  /** The role it is granted to, as SHOW GRANTS quotes it; absent when granted to the account. */
  grantee?: string;
}

export interface GrantSet {
  grants: Grant[];
  /** Roles granted to the account (names only). */
  roles: string[];
  withGrantOption: boolean;
}

export function emptyGrantSet(): GrantSet {
  return { grants: [], roles: [], withGrantOption: false };
}

const ALIASES: Record<string, string> = {
  ALL: 'ALL PRIVILEGES',
  'READ ONLY ADMIN': 'READ_ONLY ADMIN',
  // MariaDB 10.5+ prints the new names; older grant scripts use the aliases.
  'REPLICA MONITOR': 'SLAVE MONITOR',
  'REPLICATION REPLICA ADMIN': 'REPLICATION SLAVE ADMIN',
};

function canonicalPrivilege(text: string, flavor: Flavor): string {
  const name = text.trim().replace(/\s+/g, ' ').toUpperCase();
  if (flavor === 'mariadb' && name === 'REPLICATION CLIENT') return 'BINLOG MONITOR';
  return ALIASES[name] ?? name;
}

/** Splits on commas outside parentheses (column lists: `SELECT (a, b), INSERT`). */
function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of list) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function unquote(name: string): string {
  return name.trim().replace(/^[`'"]|[`'"]$/g, '');
}

/** `*.*`, `` `db`.* ``, `` `db`.`t` `` → `*.*`, `db.*`, `db.t`; routines and PROXY → `other`. */
function canonicalObject(text: string): string {
  const t = text.trim();
  if (/^(PROCEDURE|FUNCTION|PACKAGE|PACKAGE BODY)\s/i.test(t) || t.includes('@')) return 'other';
  const m = /^(`(?:[^`]|``)*`|[^.\s]+)\.(`(?:[^`]|``)*`|\*|[^.\s]+)$/.exec(t);
  if (!m) return 'other';
  const db = m[1] === '*' ? '*' : unquote(m[1] as string).replace(/``/g, '`');
  const table = m[2] === '*' ? '*' : unquote(m[2] as string).replace(/``/g, '`');
  return `${db}.${table}`;
}

/**
 * The grantee of a GRANT line when it is a role: MariaDB lists the current role's grants `TO
 * `role`` (no host), the account's own `TO `user`@`host``. MySQL's USING folds role privileges
 * into the account's lines.
 */
function roleGrantee(toClause: string): string | undefined {
  const m = /^(`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s@]+)(@\S+)?/.exec(toClause.trim());
  if (!m || m[2] !== undefined) return undefined;
  return m[1];
}

/** A role as SHOW GRANTS names it: MariaDB `` `r` ``, MySQL `` `r`@`%` `` (the host dropped). */
function roleName(text: string): string {
  return unquote(text.trim().split('@')[0] ?? '');
}

/**
 * The grants in SHOW GRANTS rows (each row's first column is one GRANT statement). Column-level
 * privileges are left out: they never bypass read_only, and a column grant does not give baton
 * the table-wide rights it needs. REVOKE lines (MySQL partial revokes) are ignored: doctor then
 * errs towards reporting a privilege, never towards missing one.
 */
export function parseShowGrants(lines: readonly string[], flavor: Flavor): GrantSet {
  const set = emptyGrantSet();
  for (const raw of lines) {
    const line = raw.replace(/\s+/g, ' ').trim();
    const privileged = /^GRANT (.+?) ON (.+?) TO (.+)$/i.exec(line);
    if (privileged) {
      const [, list, object, rest] = privileged as unknown as [string, string, string, string];
      const on = canonicalObject(object);
      const role = roleGrantee(rest);
      for (const item of splitTopLevel(list)) {
        if (item.includes('(')) continue;
        const privilege = canonicalPrivilege(item, flavor);
        if (privilege === 'USAGE') continue;
        set.grants.push(role === undefined ? { privilege, on } : { privilege, on, grantee: role });
      }
      if (/\bWITH\b.*\bGRANT OPTION\b/i.test(rest)) set.withGrantOption = true;
      continue;
    }
    const roleGrant = /^GRANT (.+?) TO (.+)$/i.exec(line);
    if (roleGrant) {
      for (const role of splitTopLevel(roleGrant[1] as string)) {
        const name = roleName(role);
        if (name && !set.roles.includes(name)) set.roles.push(name);
      }
      if (/\bWITH ADMIN OPTION\b/i.test(roleGrant[2] as string)) set.withGrantOption = true;
    }
  }
  return set;
}

export function mergeGrantSets(a: GrantSet, b: GrantSet): GrantSet {
  const key = (g: Grant) => `${g.privilege}\u0000${g.on}\u0000${g.grantee ?? ''}`;
  const seen = new Set(a.grants.map(key));
  return {
    grants: [...a.grants, ...b.grants.filter((g) => !seen.has(key(g)))],
    roles: [...a.roles, ...b.roles.filter((r) => !a.roles.includes(r))],
    withGrantOption: a.withGrantOption || b.withGrantOption,
  };
}

/** Whether `privilege` applies to `object` (`*.*`, `db.*` or `db.table`), ALL PRIVILEGES included. */
export function holds(set: GrantSet, privilege: string, object = '*.*'): boolean {
  const [db] = object.split('.');
  const covering = new Set(['*.*', object, `${db}.*`]);
  return set.grants.some(
    (g) => covering.has(g.on) && (g.privilege === privilege || g.privilege === 'ALL PRIVILEGES'),
  );
}

/** What baton's account needs (mysql/privileges.ts, verified on MariaDB 10.11). */
export interface RequiredGrants {
  global: string[];
  /** On baton's own schema: the heartbeat table and the watchdog event. */
  batonSchema: string[];
}

export function requiredBatonGrants(flavor: Flavor): RequiredGrants {
  return { global: batonPrivileges(flavor, '*.*'), batonSchema: batonPrivileges(flavor, 'baton.*') };
}

/** MariaDB before 10.11 let SUPER write through read_only (MDEV-29596 split them). */
function superBypassesReadOnly(version: string): boolean {
  const [major = 0, minor = 0] = (/^(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  return major * 100 + minor < 1011;
}

/**
 * The privileges on `*.*` that let an account write while `read_only` is ON: MariaDB's
 * READ_ONLY ADMIN (and SUPER before 10.11; measured on 10.11.19: SUPER alone got error 1290);
 * MySQL's CONNECTION_ADMIN and SUPER (only super_read_only stops those).
 */
export function readOnlyBypassPrivileges(flavor: Flavor, version: string): string[] {
  if (flavor === 'mysql') return ['ALL PRIVILEGES', 'SUPER', 'CONNECTION_ADMIN'];
  return superBypassesReadOnly(version)
    ? ['ALL PRIVILEGES', 'READ_ONLY ADMIN', 'SUPER']
    : ['ALL PRIVILEGES', 'READ_ONLY ADMIN'];
}

/** The grants on `*.*` among `grants` that write through read_only. */
export function readOnlyBypasses(grants: readonly Grant[], flavor: Flavor, version: string): Grant[] {
  const bypassing = readOnlyBypassPrivileges(flavor, version);
  return grants.filter((g) => g.on === '*.*' && bypassing.includes(g.privilege));
}

export interface BatonGrantReview {
  missing: string[];
  missingOnSchema: string[];
  /** Grants beyond what baton needs, as `PRIV ON object`. */
  extra: Grant[];
}

/** What baton's account lacks, and what it holds beyond its needs (its own schema aside). */
export function reviewBatonGrants(set: GrantSet, flavor: Flavor): BatonGrantReview {
  const required = requiredBatonGrants(flavor);
  const missing = required.global.filter((p) => !holds(set, p));
  const missingOnSchema = required.batonSchema.filter((p) => !holds(set, p, 'baton.heartbeat'));
  const extra = set.grants.filter(
    (g) =>
      !(g.on === 'baton.*' || g.on.startsWith('baton.')) &&
      !(g.on === '*.*' && required.global.includes(g.privilege)),
  );
  return { missing, missingOnSchema, extra };
}
