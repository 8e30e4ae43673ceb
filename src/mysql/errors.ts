/**
 * The one place where mysql2 errors become baton errors. MariaDB-only errors arrive with
 * `code` undefined (FIELD-NOTES), so we match on `errno` first and on Node's socket codes for
 * connection failures.
 */
import { DeadlineExceededError, ServerDownError } from '../coordinator/ports.js';
import type { Flavor } from './dialect.js';
import { tlsFailureLine } from './tls.js';

export abstract class DatabaseError extends Error {
  abstract readonly retryable: boolean;
  /** Server error number, when the server sent one. */
  readonly errno: number | undefined;
  constructor(message: string, options: { cause?: unknown; errno?: number } = {}) {
    super(message, { cause: options.cause });
    this.errno = options.errno;
  }
}

/** Cannot reach the server, or the connection died (refused, reset, lost, too many connections). */
export class DatabaseUnavailableError extends DatabaseError {
  override name = 'DatabaseUnavailableError';
  readonly retryable = true;
}

/** Wrong user/password or host not allowed. Retrying will not help. */
export class DatabaseAuthError extends DatabaseError {
  override name = 'DatabaseAuthError';
  readonly retryable = false;
}

/** The coordinator user lacks a privilege the operation needs (privileges.ts has the list). */
export class DatabasePrivilegeError extends DatabaseError {
  override name = 'DatabasePrivilegeError';
  readonly retryable = false;
}

/** A TLS upgrade failed: a certificate, a CA or a server's TLS setup is wrong (tls.ts). */
export class DatabaseTlsError extends DatabaseError {
  override name = 'DatabaseTlsError';
  readonly retryable = false;
}

/** A statement failed on the server for any other reason. */
export class DatabaseQueryError extends DatabaseError {
  override name = 'DatabaseQueryError';
  constructor(
    message: string,
    readonly retryable: boolean,
    options: { cause?: unknown; errno?: number } = {},
  ) {
    super(message, options);
  }
}

/** The server is a flavour or version we do not drive (e.g. MySQL before 8.0.23). */
export class UnsupportedServerError extends DatabaseError {
  override name = 'UnsupportedServerError';
  readonly retryable = false;
}

/** Server error numbers we treat specially (same on MariaDB and MySQL unless noted). */
export const ER = {
  ACCESS_DENIED: 1045,
  DBACCESS_DENIED: 1044,
  TOO_MANY_CONNECTIONS: 1040,
  SPECIFIC_ACCESS_DENIED: 1227,
  TABLEACCESS_DENIED: 1142,
  BAD_DB: 1049,
  NO_SUCH_TABLE: 1146,
  BAD_FIELD: 1054,
  NO_SUCH_THREAD: 1094,
  /** KILL of another account's thread without CONNECTION ADMIN: "You are not owner of thread". */
  KILL_DENIED: 1095,
  LOCK_WAIT_TIMEOUT: 1205,
  OPTION_PREVENTS_STATEMENT: 1290,
  SERVER_SHUTDOWN: 1053,
  QUERY_INTERRUPTED: 1317,
  /** MariaDB: max_statement_time exceeded. */
  STATEMENT_TIMEOUT_MARIADB: 1969,
  /** MySQL: MAX_EXECUTION_TIME exceeded. */
  QUERY_TIMEOUT_MYSQL: 3024,
} as const;

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ERR_STREAM_DESTROYED',
]);

interface MysqlLikeError {
  message?: string;
  code?: string;
  errno?: number;
  fatal?: boolean;
}

/** What the connection knows of itself, for the error's wording. */
export interface ErrorContext {
  /** The host connected to (a TLS host check names it). */
  host?: string;
  /** The login's user name, and once known its account (CURRENT_USER(): `baton@%`). */
  user?: string;
  account?: string;
  flavor?: Flavor;
}

/** `'baton'@'%'` from CURRENT_USER()'s `baton@%`; else the user name alone (that is `@'%'`). */
function grantee(context: ErrorContext): string {
  const at = context.account?.lastIndexOf('@') ?? -1;
  if (context.account && at > 0)
    return `'${context.account.slice(0, at)}'@'${context.account.slice(at + 1)}'`;
  return `'${context.user ?? 'baton'}'`;
}

/** The line for an account that lacks `privilege` on `on`, with the GRANT that fixes it. */
export function privilegeLine(privilege: string, on: string, context: ErrorContext): string {
  return `baton's MySQL account lacks ${privilege} on ${on}: GRANT ${privilege} ON ${on} TO ${grantee(context)}`;
}

/**
 * The privilege a refusal names, and on what. MariaDB and MySQL name it in 1227 ("you need (at
 * least one of) the SUPER, READ_ONLY ADMIN privilege(s)": never advise SUPER, the widest) and in
 * 1142 ("UPDATE command denied ... for table `baton`.`heartbeat`"); 1095 names none, but only
 * CONNECTION ADMIN lets an account kill another's connection. 1044 ("Access denied ... to
 * database 'baton'") names no privilege: its caller knows what it was doing.
 */
export function missingPrivilege(
  errno: number,
  message: string,
  flavor?: Flavor,
): { privilege: string; on: string } | undefined {
  if (errno === ER.SPECIFIC_ACCESS_DENIED) {
    const names = /the (.+?) privilege/i.exec(message)?.[1]?.split(/\s*,\s*|\s+or\s+/) ?? [];
    const narrow = names.filter((n) => n.trim() !== '' && n.toUpperCase() !== 'SUPER');
    return narrow.length > 0 ? { privilege: narrow.join(' or '), on: '*.*' } : undefined;
  }
  if (errno === ER.TABLEACCESS_DENIED) {
    const m = /^(\w+) command denied .* for table [`']?([^`'.]+)[`']?\./i.exec(message);
    return m ? { privilege: (m[1] as string).toUpperCase(), on: `${m[2]}.*` } : undefined;
  }
  if (errno === ER.KILL_DENIED)
    return { privilege: flavor === 'mysql' ? 'CONNECTION_ADMIN' : 'CONNECTION ADMIN', on: '*.*' };
  return undefined;
}

/** Convert anything mysql2 threw; `what` names the operation ("probe a1"). */
export function toDatabaseError(err: unknown, what: string, context: ErrorContext = {}): Error {
  if (
    err instanceof DatabaseError ||
    err instanceof DeadlineExceededError ||
    err instanceof ServerDownError
  ) {
    return err;
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as MysqlLikeError;
  const detail = e.message ?? String(err);
  const errno = typeof e.errno === 'number' && e.errno >= 1000 ? e.errno : undefined;
  const options = { cause: err, errno };
  const tls = tlsFailureLine(e, context.host ?? 'the host');
  if (tls) return new DatabaseTlsError(`${what}: ${tls}`, options);
  switch (errno) {
    case ER.ACCESS_DENIED:
      return new DatabaseAuthError(`${what}: access denied (${detail})`, options);
    case ER.SPECIFIC_ACCESS_DENIED:
    case ER.TABLEACCESS_DENIED:
    case ER.KILL_DENIED:
    case ER.DBACCESS_DENIED: {
      const missing = missingPrivilege(errno, detail, context.flavor);
      const line = missing
        ? privilegeLine(missing.privilege, missing.on, context)
        : `missing privilege (${detail})`;
      return new DatabasePrivilegeError(`${what}: ${line}`, options);
    }
    case ER.TOO_MANY_CONNECTIONS:
    case ER.SERVER_SHUTDOWN:
      return new DatabaseUnavailableError(`${what}: ${detail}`, options);
    case ER.LOCK_WAIT_TIMEOUT:
    case ER.QUERY_INTERRUPTED:
    case ER.STATEMENT_TIMEOUT_MARIADB:
    case ER.QUERY_TIMEOUT_MYSQL:
      return new DatabaseQueryError(`${what}: ${detail}`, true, options);
  }
  // Refused means nothing listens on the port: the server process is not running. Only
  // ServerDownError lets the guardian vouch that its writer is dead (a hang or a timeout is
  // never proof), so it is kept apart from other connection failures.
  if (e.code === 'ECONNREFUSED') return new ServerDownError(`${what}: ${detail}`, { cause: err });
  if (errno === undefined && (e.fatal || (e.code !== undefined && CONNECTION_CODES.has(e.code)))) {
    return new DatabaseUnavailableError(`${what}: ${detail}`, options);
  }
  return new DatabaseQueryError(`${what}: ${detail}`, false, options);
}

export function isRetryableDatabaseError(err: unknown): boolean {
  if (err instanceof DatabaseError) return err.retryable;
  // A server that is down now may be restarted: worth another try later.
  return err instanceof DeadlineExceededError || err instanceof ServerDownError;
}
