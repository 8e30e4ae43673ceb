/**
 * Reads one server for doctor: a connection as baton's account, a handful of read-only queries
 * (each bounded on the client, the SELECTs also on the server), and, for each application
 * account doctor was given, a login as that account to read its own grants. Nothing is written.
 */
import { DeadlineExceededError, type Clock } from '../coordinator/ports.js';
import { DeadlineConnection, type MysqlEndpoint } from '../mysql/connection.js';
import type { MysqlTls } from '../mysql/tls.js';
import { dialectFor, parseSemiSync, type Dialect } from '../mysql/dialect.js';
import {
  doctorDialectFor,
  serverTimeSql,
  utcDatetimeMs,
  watchdogEventDetailsSql,
  type DoctorDialect,
  type ReplicaChannel,
} from '../mysql/doctor-dialect.js';
import { offsetFromTimestamps, type TimestampSample } from './clock-offset.js';
import { emptyGrantSet, mergeGrantSets, parseShowGrants, type GrantSet } from './grants.js';
import type { AccountGrants, AppAccountReading, ServerFacts, ServerReading } from './snapshot.js';

export interface ServerBudget {
  /** TCP connect and handshake. */
  connectMs: number;
  /** Each statement. */
  statementMs: number;
}

export const DEFAULT_SERVER_BUDGET: ServerBudget = { connectMs: 3_000, statementMs: 2_000 };

/** Round trips timed, on the connection the reads have warmed: clock offset and link. */
const TIME_SAMPLES = 5;

type Row = Record<string, unknown>;

class Session {
  constructor(
    private readonly conn: DeadlineConnection,
    private readonly clock: Clock,
    private readonly budget: ServerBudget,
  ) {}

  query(sql: string, what: string): Promise<Row[]> {
    return this.conn.query(sql, this.clock.now() + this.budget.statementMs, what);
  }

  close(): Promise<void> {
    return this.conn.close(this.clock.now() + 500);
  }
}

async function open(endpoint: MysqlEndpoint, clock: Clock, budget: ServerBudget): Promise<Session> {
  const conn = await DeadlineConnection.open(endpoint, clock, clock.now() + budget.connectMs, {
    // A server whose kernel accepts but which never greets is found out well before the budget.
    stallMs: Math.min(budget.connectMs, 1_500),
  });
  return new Session(conn, clock, budget);
}

function firstColumn(rows: readonly Row[]): string[] {
  return rows.map((r) => String(Object.values(r)[0] ?? ''));
}

/**
 * The account's grants at login, then each granted role's in turn: a role not enabled at login
 * (no default role) still counts for the application, which can enable it itself.
 */
async function readGrants(session: Session, dd: DoctorDialect): Promise<AccountGrants> {
  const [who] = await session.query(dd.currentAccountSql(), 'current account');
  const account = String(who?.account ?? '');
  const grants = parseShowGrants(firstColumn(await session.query(dd.showGrantsSql(), 'grants')), dd.flavor);
  let roleGrants: GrantSet = emptyGrantSet();
  const unreadRoles: string[] = [];
  const pending = [...grants.roles];
  const seen = new Set<string>();
  while (pending.length > 0 && seen.size < 20) {
    const role = pending.shift() as string;
    if (seen.has(role)) continue;
    seen.add(role);
    try {
      let lines: string[] = [];
      for (const sql of dd.grantsWithRoleSql(role)) {
        const rows = await session.query(sql, `grants of role ${role}`);
        if (rows.length > 0) lines = firstColumn(rows);
      }
      const read = parseShowGrants(lines, dd.flavor);
      roleGrants = mergeGrantSets(roleGrants, read);
      for (const nested of read.roles) if (!seen.has(nested)) pending.push(nested);
    } catch {
      // A nested role cannot be enabled directly (MariaDB: only roles granted to the user can).
      unreadRoles.push(role);
    }
  }
  // A role granted to a role and shown under it was read through its parent.
  const shown = new Set(
    roleGrants.grants.flatMap((g) => (g.grantee ? [g.grantee.replace(/^[`'"]|[`'"]$/g, '')] : [])),
  );
  return { account, grants, roleGrants, unreadRoles: unreadRoles.filter((r) => !shown.has(r)) };
}

async function readClock(
  session: Session,
  clock: Clock,
): Promise<{ samples: TimestampSample[]; rtts: number[] }> {
  const samples: TimestampSample[] = [];
  const rtts: number[] = [];
  for (let i = 0; i < TIME_SAMPLES; i++) {
    const sentAt = Date.now();
    const started = clock.now();
    const [row] = await session.query(serverTimeSql, 'server time');
    rtts.push(clock.now() - started);
    samples.push({ sentAt, receivedAt: Date.now(), remoteMs: utcDatetimeMs(row?.now) });
  }
  return { samples, rtts };
}

function channel(dialect: Dialect, dd: DoctorDialect, row: Row): ReplicaChannel {
  const status = dialect.parseReplicaStatus(row);
  return {
    sourceHost: status.sourceHost,
    sourcePort: status.sourcePort,
    ioRunning: status.ioRunning,
    sqlRunning: status.sqlRunning,
    ...(status.error ? { error: status.error } : {}),
    ...dd.replicaDetails(row),
  };
}

function describe(error: unknown): string {
  if (error instanceof DeadlineExceededError) return error.message;
  return (error as Error).message.split('\n')[0] ?? String(error);
}

async function readApp(
  endpoint: MysqlEndpoint,
  dd: DoctorDialect,
  clock: Clock,
  budget: ServerBudget,
): Promise<AppAccountReading> {
  let session: Session | undefined;
  try {
    session = await open(endpoint, clock, budget);
    return { user: endpoint.user, grants: await readGrants(session, dd) };
  } catch (error) {
    return { user: endpoint.user, error: describe(error) };
  } finally {
    await session?.close();
  }
}

export interface ServerTarget {
  host: string;
  port: number;
  baton: { user: string; password: string };
  apps: readonly { user: string; password: string }[];
  /** The cluster's TLS, for every login here (baton's and the applications'). */
  tls?: MysqlTls | undefined;
}

/**
 * A server read, its connection still open for the timed round trips (`measure`), which the
 * gather step runs once every read is done: timed beside the connects and reads of the other
 * servers, a LAN round trip read as 20 ms of this process's own busy event loop.
 */
export interface ServerRead {
  facts: ServerFacts;
  measure(): Promise<void>;
  close(): Promise<void>;
}

export async function readServer(
  target: ServerTarget,
  clock: Clock,
  budget: ServerBudget = DEFAULT_SERVER_BUDGET,
): Promise<ServerRead> {
  let session: Session | undefined;
  const close = async () => {
    await session?.close();
    session = undefined;
  };
  try {
    const tls = target.tls ? { tls: target.tls } : {};
    session = await open({ host: target.host, port: target.port, ...target.baton, ...tls }, clock, budget);
    const s = session;
    const [versionRow] = await s.query('SELECT VERSION() AS version', 'version');
    const version = String(versionRow?.version ?? '');
    const dialect = dialectFor(version);
    const dd = doctorDialectFor(dialect.flavor);
    const limit = (select: string) => dialect.limitSelect(select, budget.statementMs);
    const settings = dd.parseVariables(await s.query(limit(dd.variablesSql()), 'variables'));
    const replication = (await s.query(dialect.replicaStatus(), 'replica status')).map((row) =>
      channel(dialect, dd, row),
    );
    const [semiSyncRow] = await s.query(limit(dialect.semiSyncStatus()), 'semi-sync');
    const [event] = await s.query(limit(watchdogEventDetailsSql), 'watchdog event');
    const reading: ServerReading = {
      reachable: true,
      version,
      flavor: dialect.flavor,
      settings,
      replication,
      apps: [],
      roundTripsMs: [],
    };
    const semiSync = parseSemiSync(semiSyncRow);
    if (semiSync) reading.semiSync = semiSync;
    if (event)
      reading.watchdogEvent = { status: String(event.status ?? ''), definer: String(event.definer ?? '') };
    reading.apps = await Promise.all(
      target.apps.map((app) =>
        readApp({ host: target.host, port: target.port, ...app, ...tls }, dd, clock, budget),
      ),
    );
    // Last on this connection: reading another role's grants switches the session's role.
    try {
      reading.baton = await readGrants(s, dd);
    } catch (error) {
      reading.batonGrantsError = describe(error);
    }
    return {
      facts: reading,
      async measure() {
        try {
          const { samples, rtts } = await readClock(s, clock);
          reading.roundTripsMs = rtts;
          const offset = offsetFromTimestamps(samples);
          if (offset) reading.clock = offset;
        } catch {
          // The server stopped answering between the reads and now: nothing measured.
        }
      },
      close,
    };
  } catch (error) {
    await close();
    return { facts: { reachable: false, error: describe(error) }, measure: async () => undefined, close };
  }
}
