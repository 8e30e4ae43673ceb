/**
 * One dedicated connection with hard deadlines. mysql2's own `timeout` option neither closes
 * the connection nor covers everything, and a command queued behind a stuck one never starts
 * its timer (FIELD-NOTES). What works: on deadline, destroy the socket
 * (`stream.destroy()`), which fails every pending command with PROTOCOL_CONNECTION_LOST.
 * A connection that hit a deadline or lost its socket is `broken` and never used again.
 */
import type { EventEmitter } from 'node:events';
import mysql from 'mysql2';
import { DeadlineExceededError, type Clock, type MonoMs } from '../coordinator/ports.js';
import { remainingMs, withDeadline } from '../deadline.js';
import type { Flavor } from './dialect.js';
import { DatabaseAuthError, ER, privilegeLine, toDatabaseError, type ErrorContext } from './errors.js';
import { hookTlsUpgrade, mysql2Ssl, PLAINTEXT_REFUSED, type MysqlTls } from './tls.js';

export interface MysqlEndpoint {
  host: string;
  port: number;
  user: string;
  /** From a file or env by the caller; never from argv, never logged. */
  password: string;
  /** The cluster's TLS settings (clusters[].tls); absent: plaintext. */
  tls?: MysqlTls;
}

interface OpenOptions {
  multipleStatements?: boolean;
  stallMs?: number;
}

type Row = Record<string, unknown>;

/**
 * mysql2 preallocates its LRU caches at their maximum size: a 16000-entry prepared-statement
 * cache per connection and a 15000-entry row-parser cache, each four arrays (about 0.5 MB per
 * connection, measured in a coordinator's heap). We never prepare statements and run a handful
 * of result shapes, so both are kept small: less memory, and less for every GC to mark.
 */
const MAX_PARSER_CACHE = 64;
mysql.setMaxParserCache(MAX_PARSER_CACHE);

export class DeadlineConnection {
  private isBroken = false;

  private constructor(
    private readonly core: mysql.Connection,
    private readonly clock: Clock,
    readonly label: string,
    readonly multipleStatements: boolean,
    /** What errors may say of this connection (errors.ts). */
    private readonly context: ErrorContext,
  ) {
    // Errors on an idle connection (server gone away) must not crash the process.
    core.on('error', () => {
      this.isBroken = true;
    });
    core.on('end', () => {
      this.isBroken = true;
    });
  }

  /**
   * Open a connection; the deadline covers TCP connect and the handshake. `multipleStatements`
   * only for a connection that runs constant SQL (the probe's): statements with values are
   * interpolated client-side, and a second statement must never be able to ride along.
   *
   * `stallMs`: the handshake also fails once the server has sent nothing for this long (TCP
   * connect counts as progress). A handshake is five or six round trips, so over a far link a
   * live server takes a while in total but answers each step within a round trip, while a hung
   * one (its kernel accepts the connection, mysqld never greets) is found out after one.
   */
  static async open(
    endpoint: MysqlEndpoint,
    clock: Clock,
    deadline: MonoMs,
    options: OpenOptions = {},
  ): Promise<DeadlineConnection> {
    try {
      return await DeadlineConnection.connect(endpoint, clock, deadline, options);
    } catch (err) {
      // MariaDB answers a plaintext login to a REQUIRE SSL account exactly as a wrong password
      // (1045, "Access denied ... (using password: YES)", measured on 10.11): only a TLS login
      // tells them apart. It is tried without checking the certificate, as the plaintext login
      // was, and only when the plaintext one was refused; it is closed at once.
      if (
        endpoint.tls ||
        !(err instanceof DatabaseAuthError && err.errno === ER.ACCESS_DENIED) ||
        !(await DeadlineConnection.loginNeedsTls(endpoint, clock, deadline))
      )
        throw err;
      throw new DatabaseAuthError(`connect ${endpoint.host}:${endpoint.port}: ${PLAINTEXT_REFUSED}`, {
        cause: err,
        errno: err.errno,
      });
    }
  }

  /** Whether the login the server refused in plaintext succeeds over TLS (see open). */
  private static async loginNeedsTls(
    endpoint: MysqlEndpoint,
    clock: Clock,
    deadline: MonoMs,
  ): Promise<boolean> {
    try {
      const conn = await DeadlineConnection.connect(endpoint, clock, deadline, {}, 'unverified-tls');
      conn.destroy();
      return true;
    } catch {
      return false;
    }
  }

  private static async connect(
    endpoint: MysqlEndpoint,
    clock: Clock,
    deadline: MonoMs,
    { multipleStatements = false, stallMs }: OpenOptions,
    diagnosis?: 'unverified-tls',
  ): Promise<DeadlineConnection> {
    const label = `${endpoint.host}:${endpoint.port}`;
    const left = remainingMs(clock, deadline);
    if (left <= 0) throw new DeadlineExceededError(`connect ${label}: deadline already passed`);
    const options: mysql.ConnectionOptions = {
      host: endpoint.host,
      port: endpoint.port,
      user: endpoint.user,
      password: endpoint.password,
      // Our deadline (and stall watch) win: DeadlineExceededError, socket destroyed. A fixed
      // cap here once held every connect over a far link to the probe deadline (issue 11).
      connectTimeout: left + 100,
      // Big GTID sequence numbers and ids must not be rounded.
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      multipleStatements,
      maxPreparedStatements: 1,
    };
    if (endpoint.tls) options.ssl = mysql2Ssl(endpoint.tls);
    if (diagnosis === 'unverified-tls') options.ssl = { rejectUnauthorized: false };
    const core = mysql.createConnection(options);
    const connected = new Promise<void>((resolve, reject) => {
      core.once('connect', () => resolve());
      core.once('error', reject);
    });
    const context: ErrorContext = { host: endpoint.host, user: endpoint.user };
    const conn = new DeadlineConnection(core, clock, label, multipleStatements, context);
    const stall = stallMs === undefined ? undefined : watchProgress(core, stallMs, label);
    try {
      if (endpoint.tls)
        hookTlsUpgrade(core, endpoint.host, endpoint.tls.verifyIdentity, (socket) => stall?.follow(socket));
      const work = stall ? Promise.race([connected, stall.stalled]) : connected;
      await withDeadline(clock, deadline, `connect ${label}`, work, () => conn.destroy());
    } catch (err) {
      conn.destroy();
      throw toDatabaseError(err, `connect ${label}`, context);
    } finally {
      stall?.stop();
    }
    return conn;
  }

  get threadId(): number {
    return this.core.threadId;
  }

  /** The line for this connection's account lacking `privilege` on `on` (errors.ts). */
  privilegeLine(privilege: string, on: string): string {
    return privilegeLine(privilege, on, this.context);
  }

  /** What the caller learnt of the server and the login, for the wording of later errors. */
  identified(account: string, flavor: Flavor): void {
    this.context.account = account;
    this.context.flavor = flavor;
  }

  get broken(): boolean {
    return this.isBroken;
  }

  /**
   * Run one statement. On deadline the socket is destroyed and DeadlineExceededError thrown;
   * the caller should also KILL the thread server-side (the statement keeps running there).
   * `values` are interpolated client-side (escaped) so any statement type works.
   */
  async query<T extends Row = Row>(
    sql: string,
    deadline: MonoMs,
    what: string,
    values?: unknown[],
  ): Promise<T[]> {
    const rows = await this.send(sql, deadline, what, values);
    return (Array.isArray(rows) ? rows : []) as T[];
  }

  /**
   * Several statements in one round trip (connections opened with multipleStatements): one
   * array of rows per statement, in order (empty for a statement that returns no rows). The
   * first failing statement rejects the whole call; the rest are not run.
   */
  async queryResults(sql: string, deadline: MonoMs, what: string): Promise<Row[][]> {
    if (!this.multipleStatements)
      throw new Error(`${what}: connection was not opened for multiple statements`);
    const results = await this.send(sql, deadline, what);
    if (!Array.isArray(results)) return [[]]; // one statement without rows (an OK packet)
    // mysql2 nests result sets only when there are several: one SELECT comes back as its rows.
    const nested = results.length > 0 && results.every((r) => Array.isArray(r) || isOkPacket(r));
    if (!nested) return [results as Row[]];
    return results.map((r) => (Array.isArray(r) ? (r as Row[]) : []));
  }

  private async send(sql: string, deadline: MonoMs, what: string, values?: unknown[]): Promise<unknown> {
    if (this.isBroken)
      throw toDatabaseError({ code: 'PROTOCOL_CONNECTION_LOST', message: 'connection is broken' }, what);
    // A statement sent after its deadline could run at the server later than its caller counted
    // (a watchdog stamp's hold is planned on its deadline): it is not sent at all.
    if (remainingMs(this.clock, deadline) <= 0)
      throw new DeadlineExceededError(`${what} on ${this.label}: deadline passed before it was sent`);
    const work = new Promise<unknown>((resolve, reject) => {
      const callback = (err: unknown, rows: unknown): void => {
        if (err) reject(err);
        else resolve(rows);
      };
      if (values) this.core.query(sql, values, callback);
      else this.core.query(sql, callback);
    });
    try {
      return await withDeadline(this.clock, deadline, `${what} on ${this.label}`, work, () => this.destroy());
    } catch (err) {
      // mysql2 attaches the interpolated statement as `sql`; with values it may hold a password
      // (CHANGE MASTER ... MASTER_PASSWORD), and the raw error travels on as our error's cause.
      if (values && typeof err === 'object' && err !== null) delete (err as { sql?: string }).sql;
      const converted = toDatabaseError(err, `${what} on ${this.label}`, this.context);
      if ((err as { fatal?: boolean }).fatal) this.isBroken = true;
      throw converted;
    }
  }

  /** Drop the socket now: pending commands fail, the server sees the client vanish. */
  destroy(): void {
    this.isBroken = true;
    const stream = (this.core as unknown as { stream?: { destroy(): void } }).stream;
    stream?.destroy();
    this.core.destroy();
  }

  /** Polite close (COM_QUIT), bounded: falls back to destroy. */
  async close(deadline: MonoMs): Promise<void> {
    if (this.isBroken) return;
    this.isBroken = true;
    const ended = new Promise<void>((resolve) => this.core.end(() => resolve()));
    await withDeadline(this.clock, deadline, `close ${this.label}`, ended, () => this.destroy()).catch(() =>
      this.destroy(),
    );
  }
}

/**
 * Rejects once the server has sent nothing for `stallMs` (TCP connect and every chunk received
 * restart the wait). mysql2 creates its socket in the constructor, so it can be watched at once.
 * A TLS upgrade is a step of its own: mysql2 then reads only the TLS socket, which `follow`
 * watches from there on (its handshake done, and each chunk after it).
 */
function watchProgress(
  core: mysql.Connection,
  stallMs: number,
  label: string,
): { stalled: Promise<never>; stop(): void; follow(socket: EventEmitter): void } {
  const streams: EventEmitter[] = [];
  const plain = (core as unknown as { stream?: EventEmitter }).stream;
  let timer: NodeJS.Timeout | undefined;
  let fail: (e: Error) => void = () => undefined;
  const stalled = new Promise<never>((_, reject) => {
    fail = reject;
  });
  stalled.catch(() => undefined);
  const restart = (): void => {
    clearTimeout(timer);
    timer = setTimeout(
      () => fail(new DeadlineExceededError(`connect ${label}: no answer for ${Math.round(stallMs)} ms`)),
      stallMs,
    );
  };
  const watch = (stream: EventEmitter, events: string[]): void => {
    for (const event of events) stream.on(event, restart);
    streams.push(stream);
  };
  restart();
  if (plain) watch(plain, ['connect', 'data']);
  return {
    stalled,
    stop() {
      clearTimeout(timer);
      for (const stream of streams)
        for (const event of ['connect', 'secureConnect', 'data']) stream.off(event, restart);
    },
    follow(socket) {
      restart();
      watch(socket, ['secureConnect', 'data']);
    },
  };
}

/** What a statement without rows answers (mysql2's ResultSetHeader). */
function isOkPacket(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'affectedRows' in value;
}
