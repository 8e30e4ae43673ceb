/**
 * MariaDB servers simulated at the protocol level, many per process, for measuring coordinators
 * that manage hundreds of clusters (bench/scale-bench.ts): mysql2's server side reads the
 * handshake and the commands, wire.ts writes the answers. Each fake keeps the small model baton's
 * SQL reads and changes: read_only, the GTID positions, its replication channel, the heartbeat
 * rows and the watchdog event. Everything baton sends is answered from that model; a statement
 * (or variable) the fakes do not model is answered with an error and reported once
 * (`FakeFleet.unmodelled`), so a bench run shows when baton started sending something new.
 *
 * Replication is modelled by pulling: whenever a server answers a statement, its channel first
 * takes what its source's binlog holds (the source's own channel first, and so on), so a replica
 * reports the GTID position of its master and the heartbeat rows the writer last stamped. A
 * source that is down leaves the channel `Connecting` with error 2003, as a crashed master does.
 * What this leaves out: real replication delay (a replica is as current as its master when
 * asked), transaction contents, semi-sync, and any server-side cost.
 */
import { EventEmitter } from 'node:events';
import net, { type AddressInfo, type Socket } from 'node:net';
import mysql from 'mysql2';
import { processlistSql } from '../../src/mysql/processlist.js';
import {
  formatPosition,
  laterOf,
  parsePosition,
  parseSelect,
  reached,
  splitStatements,
  withoutStatementLimit,
  type GtidPosition,
  type ParsedSelect,
} from './sql-text.js';
import {
  encodeAnswers,
  SERVER_STATUS_AUTOCOMMIT,
  UTF8MB4_GENERAL_CI,
  type Answer,
  type Value,
} from './wire.js';

export const FAKE_VERSION = '10.11.6-MariaDB-fake';
const LOOPBACK = '127.0.0.1';

/** What a fake needs to know about itself; the replication source is named by node. */
export interface FakeNodeSpec {
  cluster: string;
  name: string;
  serverId: number;
  gtidDomainId: number;
  /** The node this one replicates from at start (the masters replicate from each other). */
  source: string;
  writable: boolean;
}

/**
 * The server side of a mysql2 connection, as far as the fakes use it: mysql2 reads the
 * handshake and the commands; the answers are written straight to the socket (wire.ts).
 */
interface ServerConnection {
  stream: Socket;
  /** mysql2 checks incoming packets against it: 0 when a new command is due (see endOfResponse). */
  sequenceId: number;
  serverHandshake(args: Record<string, unknown>): void;
  on(event: string, listener: (...args: never[]) => void): void;
}

/** mysql2's Connection and ConnectionConfig, exported at run time but not in its types. */
const { Connection, ConnectionConfig } = mysql as unknown as {
  Connection: new (options: { config: unknown }) => ServerConnection;
  ConnectionConfig: new (options: Record<string, unknown>) => unknown;
};

/** Capabilities a MariaDB 10.11 server offers, less what mysql2's server side cannot speak. */
const CAPABILITIES =
  0x00000001 | // LONG_PASSWORD (CLIENT_MYSQL: no MariaDB extended capabilities)
  0x00000004 | // LONG_FLAG
  0x00000008 | // CONNECT_WITH_DB
  0x00000200 | // PROTOCOL_41
  0x00002000 | // TRANSACTIONS
  0x00008000 | // SECURE_CONNECTION
  0x00010000 | // MULTI_STATEMENTS
  0x00020000 | // MULTI_RESULTS
  0x00080000 | // PLUGIN_AUTH
  0x00200000; // PLUGIN_AUTH_LENENC_CLIENT_DATA

/** MariaDB error numbers the fakes answer with. */
const ER = {
  NO_SUCH_THREAD: 1094,
  PARSE: 1064,
  SLAVE_MUST_STOP: 1198,
  BAD_SLAVE: 1200,
  UNKNOWN_SYSTEM_VARIABLE: 1193,
} as const;

class SqlError extends Error {
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
  }
}

interface Channel {
  host: string;
  port: number;
  /** START SLAVE was given (and no STOP SLAVE since). */
  running: boolean;
  /** DO_DOMAIN_IDS; undefined: every domain. */
  onlyDomains?: Set<number>;
  retrieved: GtidPosition;
}

interface ClientSession {
  id: number;
  user: string;
  conn: ServerConnection;
  since: number;
  /** Statements of one connection are answered in order, even when one of them waits. */
  queue: Promise<void>;
}

interface HeartbeatRow {
  ts: number;
  fenceAfter: number | undefined;
}

/** Parsed SELECTs by text: the probe's text repeats every cycle, parsing it once is enough. */
const selectCache = new Map<string, ParsedSelect | undefined>();
const SELECT_CACHE_LIMIT = 256;

export class FakeMariadb {
  port = 0;
  alive = false;
  readOnly: boolean;
  private binlog: GtidPosition = new Map();
  private slave: GtidPosition = new Map();
  private channel: Channel | undefined;
  private semiSyncReplica = false;
  private readonly heartbeat = new Map<number, HeartbeatRow>();
  private listener: net.Server | undefined;
  private readonly sessions = new Map<number, ClientSession>();
  /** Below 10: the server's own threads in the process list. */
  private nextConnectionId = 10;
  /** read_only=OFF statements received, with when (performance.now()). */
  readonly opened: number[] = [];

  constructor(
    readonly spec: FakeNodeSpec,
    private readonly fleet: FakeFleet,
  ) {
    this.readOnly = !spec.writable;
  }

  get label(): string {
    return `${this.spec.cluster}/${this.spec.name}`;
  }

  /** A history all four servers share: a writer that already took a few transactions. */
  seed(history: GtidPosition, source: FakeMariadb | undefined): void {
    this.binlog = new Map(history);
    this.slave = new Map(history);
    if (source)
      this.channel = { host: LOOPBACK, port: source.port, running: true, retrieved: new Map(history) };
  }

  async start(): Promise<void> {
    // mysql2's createServer gives each connection a 16,000-entry statement cache, allocated up
    // front: the fakes never prepare, and thousands of connections made the GC the busiest thread.
    const listener = net.createServer((socket) =>
      this.accept(
        new Connection({
          config: new ConnectionConfig({ stream: socket, isServer: true, maxPreparedStatements: 1 }),
        }),
      ),
    );
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(this.port, LOOPBACK, () => resolve());
    });
    this.port = (listener.address() as AddressInfo).port;
    this.listener = listener;
    this.alive = true;
  }

  /**
   * A crash: nothing listens any more (connects are refused) and every open connection drops,
   * as the kernel does for a killed mysqld.
   */
  async kill(): Promise<void> {
    this.alive = false;
    const listener = this.listener;
    this.listener = undefined;
    for (const session of this.sessions.values()) session.conn.stream.destroy();
    this.sessions.clear();
    if (listener) await new Promise<void>((resolve) => listener.close(() => resolve()));
  }

  private accept(conn: ServerConnection): void {
    if (!this.alive) {
      conn.stream.destroy();
      return;
    }
    const id = this.nextConnectionId++;
    const session: ClientSession = { id, user: '', conn, since: Date.now(), queue: Promise.resolve() };
    this.sessions.set(id, session);
    conn.on('error', () => undefined);
    conn.stream.on('close', () => this.sessions.delete(id));
    // As mysqld does (vio_fastsend): an answer is several small writes, and Nagle's algorithm
    // against the client's delayed ACK held each round trip about 40 ms.
    conn.stream.setNoDelay(true);
    conn.serverHandshake({
      protocolVersion: 10,
      serverVersion: FAKE_VERSION,
      connectionId: id,
      statusFlags: SERVER_STATUS_AUTOCOMMIT,
      characterSet: UTF8MB4_GENERAL_CI,
      capabilityFlags: CAPABILITIES,
      // Any password is taken: the fakes model replication, not privileges.
      authCallback: (params: { user: string }, done: (err: null) => void) => {
        session.user = params.user;
        done(null);
        endOfResponse(conn);
      },
    });
    // mysql2's server hands statements starting with SET to `stmt_prepare`; over COM_QUERY they
    // are plain text queries like the rest.
    const onText = (sql: string): void => {
      session.queue = session.queue.then(() => this.answer(session, sql));
    };
    conn.on('query', onText);
    conn.on('stmt_prepare', onText);
  }

  /**
   * Runs every statement of one round trip, then sends the whole answer in one write, as mysqld
   * sends what its network buffer holds.
   */
  private async answer(session: ClientSession, sql: string): Promise<void> {
    this.fleet.roundTrips++;
    const answers: Answer[] = [];
    let failure: { errno: number; message: string } | undefined;
    for (const statement of splitStatements(sql)) {
      try {
        this.fleet.syncReplication(this);
        answers.push(await this.execute(statement));
      } catch (error) {
        // An error ends a multi-statement round trip: the statements after it are not run.
        failure = error instanceof SqlError ? error : { errno: ER.PARSE, message: (error as Error).message };
        break;
      }
    }
    if (!this.alive) return;
    session.conn.stream.write(encodeAnswers(answers, failure));
    endOfResponse(session.conn);
  }

  private async execute(raw: string): Promise<Answer> {
    const statement = withoutStatementLimit(raw.trim());
    const upper = statement.toUpperCase();
    if (statement === processlistSql) return this.processlist();
    if (upper.startsWith('SELECT ')) return this.select(statement);
    if (upper === 'SHOW ALL SLAVES STATUS') return this.slaveStatus();
    if (upper.startsWith('INSERT INTO BATON.HEARTBEAT ')) return this.stamp(statement);
    if (upper.startsWith('SET ')) return this.set(statement);
    if (upper === 'STOP SLAVE') {
      if (this.channel) this.channel.running = false;
      return { affectedRows: 0 };
    }
    if (upper === 'START SLAVE') {
      if (!this.channel) throw new SqlError(ER.BAD_SLAVE, 'Misconfigured slave: MASTER_HOST was not set');
      this.channel.running = true;
      this.fleet.syncReplication(this);
      return { affectedRows: 0 };
    }
    if (upper.startsWith('CHANGE MASTER TO ')) return this.changeMaster(statement);
    if (upper.startsWith('KILL CONNECTION ')) return this.killConnection(statement);
    // The heartbeat table exists from the start (the operator's watchdog install creates it).
    if (
      upper === 'CREATE DATABASE IF NOT EXISTS BATON' ||
      upper.startsWith('CREATE TABLE IF NOT EXISTS BATON.')
    )
      return { affectedRows: 0 };
    throw this.unmodelled(statement);
  }

  private unmodelled(statement: string): SqlError {
    this.fleet.noteUnmodelled(statement);
    return new SqlError(ER.PARSE, `the fake MariaDB does not model: ${statement.slice(0, 200)}`);
  }

  // --- SELECT ----------------------------------------------------------------------------

  private async select(statement: string): Promise<Answer> {
    let parsed = selectCache.get(statement);
    if (parsed === undefined && !selectCache.has(statement)) {
      parsed = parseSelect(statement);
      if (selectCache.size >= SELECT_CACHE_LIMIT) selectCache.clear();
      // A MASTER_GTID_WAIT names positions: cached, every wait would stay in the cache.
      if (!/MASTER_GTID_WAIT/i.test(statement)) selectCache.set(statement, parsed);
    }
    if (!parsed) throw this.unmodelled(statement);
    const columns = parsed.items.map((item) => item.column);
    if (parsed.from === undefined) {
      const row: Value[] = [];
      for (const item of parsed.items) row.push(await this.evaluate(item.expression, statement));
      return { columns, rows: [row] };
    }
    const from = parsed.from;
    if (/^baton\.heartbeat$/i.test(from)) {
      return {
        columns,
        rows: [parsed.items.map((item) => this.evaluateOnHeartbeat(item.expression, statement))],
      };
    }
    if (/^information_schema\.EVENTS WHERE EVENT_SCHEMA = 'baton' AND EVENT_NAME = 'watchdog'$/i.test(from)) {
      // Installed on every node with the heartbeat table, as `baton lab up` does.
      return { columns, rows: [parsed.items.map(() => 'ENABLED')] };
    }
    if (/^\(SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema\.GLOBAL_VARIABLES/i.test(from)) {
      return { columns, rows: [parsed.items.map((item) => this.pivotItem(item.expression, statement))] };
    }
    throw this.unmodelled(statement);
  }

  private async evaluate(expression: string, statement: string): Promise<Value> {
    const variable = /^@@global\.(\w+)$/i.exec(expression);
    if (variable) return this.globalVariable((variable[1] as string).toLowerCase());
    if (/^VERSION\(\)$/i.test(expression)) return FAKE_VERSION;
    if (/^CURRENT_USER\(\)$/i.test(expression)) return 'baton@%';
    const subquery = /^\((SELECT [\s\S]*) FROM baton\.heartbeat\)$/i.exec(expression);
    if (subquery) {
      const inner = parseSelect(subquery[1] as string);
      if (inner?.items.length === 1)
        return this.evaluateOnHeartbeat((inner.items[0] as { expression: string }).expression, statement);
    }
    const wait = /^MASTER_GTID_WAIT\('([^']*)', ([\d.]+)\)$/i.exec(expression);
    if (wait) return this.masterGtidWait(parsePosition(wait[1] as string), Number(wait[2]) * 1000);
    if (/^\d+$/.test(expression)) return expression;
    throw this.unmodelled(statement);
  }

  /** The one aggregate baton runs on the heartbeat table: microseconds since the newest stamp. */
  private evaluateOnHeartbeat(expression: string, statement: string): Value {
    if (!/^TIMESTAMPDIFF\(MICROSECOND, MAX\(ts\), UTC_TIMESTAMP\(6\)\)$/i.test(expression))
      throw this.unmodelled(statement);
    let newest: number | undefined;
    for (const row of this.heartbeat.values()) newest = Math.max(newest ?? row.ts, row.ts);
    return newest === undefined ? null : String(Math.max(0, Date.now() - newest) * 1000);
  }

  /** `MAX(CASE WHEN UPPER(VARIABLE_NAME) IN ('A', 'B') THEN VARIABLE_VALUE END)`: the first name the server has. */
  private pivotItem(expression: string, statement: string): Value {
    const names = /IN \(([^)]*)\) THEN VARIABLE_VALUE/i.exec(expression);
    if (!names) throw this.unmodelled(statement);
    for (const quoted of (names[1] as string).split(',')) {
      const value = this.statusOrVariable(quoted.trim().replace(/'/g, '').toLowerCase());
      if (value !== undefined) return value;
    }
    return null;
  }

  /** information_schema's GLOBAL_VARIABLES and GLOBAL_STATUS for semi-sync (plugin built in, off). */
  private statusOrVariable(name: string): string | undefined {
    switch (name) {
      case 'rpl_semi_sync_master_enabled':
      case 'rpl_semi_sync_master_status':
        return 'OFF';
      case 'rpl_semi_sync_slave_enabled':
        return this.semiSyncReplica ? 'ON' : 'OFF';
      case 'rpl_semi_sync_master_clients':
      case 'rpl_semi_sync_master_no_tx':
      case 'rpl_semi_sync_master_no_times':
        return '0';
      case 'rpl_semi_sync_master_wait_point':
        return 'AFTER_COMMIT';
      case 'rpl_semi_sync_master_timeout':
        return '10000';
      default:
        return undefined;
    }
  }

  private globalVariable(name: string): string {
    switch (name) {
      case 'read_only':
        return this.readOnly ? '1' : '0';
      case 'gtid_current_pos':
        return formatPosition(laterOf(this.binlog, this.slave));
      case 'gtid_binlog_pos':
        return formatPosition(this.binlog);
      case 'gtid_slave_pos':
        return formatPosition(this.slave);
      case 'server_id':
        return String(this.spec.serverId);
      case 'gtid_domain_id':
        return String(this.spec.gtidDomainId);
      case 'event_scheduler':
        return 'ON';
      case 'gtid_strict_mode':
        return '1';
      case 'rpl_semi_sync_slave_enabled':
        return this.semiSyncReplica ? '1' : '0';
      default:
        this.fleet.noteUnmodelled(`@@global.${name}`);
        throw new SqlError(ER.UNKNOWN_SYSTEM_VARIABLE, `Unknown system variable '${name}'`);
    }
  }

  /** 0 once gtid_slave_pos holds every domain of `wanted`, -1 after the timeout (MariaDB's answers). */
  private async masterGtidWait(wanted: GtidPosition, timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      this.fleet.syncReplication(this);
      if (reached(this.slave, wanted)) return '0';
      if (performance.now() >= deadline || !this.alive) return '-1';
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  // --- SHOW ------------------------------------------------------------------------------

  private slaveStatus(): Answer {
    const ch = this.channel;
    if (!ch) return { columns: SLAVE_STATUS_COLUMNS, rows: [] };
    const source = this.fleet.at(ch.host, ch.port);
    const connected = ch.running && source?.alive === true;
    const ioState = !ch.running ? 'No' : connected ? 'Yes' : 'Connecting';
    const ioError =
      ch.running && !connected
        ? `error reconnecting to master 'repl@${ch.host}:${ch.port}' - retry-time: 1  maximum-retries: 100000  message: Can't connect to server on '${ch.host}' (111 "Connection refused")`
        : '';
    const values: Record<(typeof SLAVE_STATUS_COLUMNS)[number], string | null> = {
      Connection_name: '',
      Slave_SQL_State: ch.running ? 'Slave has read all relay log; waiting for more updates' : '',
      Slave_IO_State: connected
        ? 'Waiting for master to send event'
        : ch.running
          ? 'Reconnecting after a failed master event read'
          : '',
      Master_Host: ch.host,
      Master_User: 'repl',
      Master_Port: String(ch.port),
      Connect_Retry: '1',
      Slave_IO_Running: ioState,
      Slave_SQL_Running: ch.running ? 'Yes' : 'No',
      Last_Errno: '0',
      Last_Error: '',
      Seconds_Behind_Master: connected ? '0' : null,
      Last_IO_Errno: ioError ? '2003' : '0',
      Last_IO_Error: ioError,
      Last_SQL_Errno: '0',
      Last_SQL_Error: '',
      Master_Server_Id: source ? String(source.spec.serverId) : '0',
      Using_Gtid: 'Slave_Pos',
      Gtid_IO_Pos: formatPosition(ch.retrieved),
      Replicate_Do_Domain_Ids: ch.onlyDomains ? [...ch.onlyDomains].join(',') : '',
      Replicate_Ignore_Domain_Ids: '',
      Gtid_Slave_Pos: formatPosition(this.slave),
    };
    return { columns: SLAVE_STATUS_COLUMNS, rows: [SLAVE_STATUS_COLUMNS.map((c) => values[c])] };
  }

  /** The server's own threads (ids below 10) and one row per client connection, all idle. */
  private processlist(): Answer {
    const now = Date.now();
    const row = (
      id: number,
      user: string,
      host: string,
      command: string,
      state: string,
      since = now,
    ): Value[] => [
      String(id),
      user,
      host,
      null,
      command,
      String(Math.floor((now - since) / 1000)),
      state,
      null,
      '0.000',
    ];
    const rows = [row(1, 'event_scheduler', 'localhost', 'Daemon', 'Waiting for next activation')];
    if (this.channel?.running) {
      rows.push(row(2, 'system user', '', 'Slave_IO', 'Waiting for master to send event'));
      rows.push(row(3, 'system user', '', 'Slave_SQL', 'Slave has read all relay log'));
    }
    for (const s of this.sessions.values())
      rows.push(row(s.id, s.user, `${LOOPBACK}:0`, 'Sleep', '', s.since));
    return { columns: ['Id', 'User', 'Host', 'db', 'Command', 'Time', 'State', 'Info', 'Progress'], rows };
  }

  // --- writes ----------------------------------------------------------------------------

  /**
   * The heartbeat and watchdog stamp (src/mysql/heartbeat.ts). With `WHERE @@global.read_only = 0`
   * it writes nothing on a read-only server; otherwise it is a transaction in the server's own
   * domain, like any write, and replicates with its row.
   */
  private stamp(statement: string): Answer {
    const m =
      /^INSERT INTO baton\.heartbeat \(server_id, ts(?:, fence_after)?\) SELECT (\d+), UTC_TIMESTAMP\(6\)(?:, UTC_TIMESTAMP\(6\) \+ INTERVAL (\d+) MICROSECOND)? FROM DUAL (WHERE @@global\.read_only = 0 )?ON DUPLICATE KEY UPDATE /i.exec(
        statement,
      );
    if (!m) throw this.unmodelled(statement);
    if (m[3] !== undefined && this.readOnly) return { affectedRows: 0 };
    const serverId = Number(m[1]);
    const now = Date.now();
    const existing = this.heartbeat.get(serverId);
    const requested = m[2] === undefined ? undefined : now + Number(m[2]) / 1000;
    const fenceAfter =
      requested === undefined ? existing?.fenceAfter : Math.max(existing?.fenceAfter ?? requested, requested);
    this.heartbeat.set(serverId, { ts: now, fenceAfter });
    this.commitOwnTransaction();
    this.fleet.stamps++;
    return { affectedRows: existing ? 2 : 1 };
  }

  private commitOwnTransaction(): void {
    const domain = this.spec.gtidDomainId;
    const seq = Math.max(this.binlog.get(domain)?.seq ?? 0, this.slave.get(domain)?.seq ?? 0) + 1;
    this.binlog.set(domain, { serverId: this.spec.serverId, seq });
  }

  private set(statement: string): Answer {
    const readOnly = /^SET GLOBAL read_only\s*=\s*(ON|OFF|1|0)$/i.exec(statement);
    if (readOnly) {
      const on = /^(ON|1)$/i.test(readOnly[1] as string);
      if (!on) this.opened.push(performance.now());
      if (on !== this.readOnly) this.fleet.noteReadOnlyChange(this, on, 'statement');
      this.readOnly = on;
      return { affectedRows: 0 };
    }
    if (/^SET SESSION lock_wait_timeout\s*=\s*\d+$/i.test(statement)) return { affectedRows: 0 };
    const slavePos = /^SET GLOBAL gtid_slave_pos\s*=\s*'([^']*)'$/i.exec(statement);
    if (slavePos) {
      this.requireStoppedChannel();
      this.slave = parsePosition(slavePos[1] as string);
      return { affectedRows: 0 };
    }
    const semiSync = /^SET GLOBAL rpl_semi_sync_slave_enabled\s*=\s*(ON|OFF|1|0)$/i.exec(statement);
    if (semiSync) {
      this.semiSyncReplica = /^(ON|1)$/i.test(semiSync[1] as string);
      return { affectedRows: 0 };
    }
    throw this.unmodelled(statement);
  }

  private requireStoppedChannel(): void {
    if (this.channel?.running)
      throw new SqlError(
        ER.SLAVE_MUST_STOP,
        "This operation cannot be performed as you have a running slave ''; run STOP SLAVE '' first",
      );
  }

  private changeMaster(statement: string): Answer {
    this.requireStoppedChannel();
    const host = /MASTER_HOST='([^']*)'/i.exec(statement)?.[1];
    const port = /MASTER_PORT=(\d+)/i.exec(statement)?.[1];
    if (host === undefined || port === undefined) throw this.unmodelled(statement);
    const domains = /DO_DOMAIN_IDS=\(([^)]*)\)/i.exec(statement)?.[1]?.trim();
    const channel: Channel = {
      host,
      port: Number(port),
      running: false,
      // A new source starts from where this server's slave position stands.
      retrieved: new Map(this.slave),
    };
    if (domains) channel.onlyDomains = new Set(domains.split(',').map((d) => Number(d.trim())));
    this.channel = channel;
    return { affectedRows: 0 };
  }

  private killConnection(statement: string): Answer {
    const id = Number(/^KILL CONNECTION (\d+)$/i.exec(statement)?.[1]);
    const victim = this.sessions.get(id);
    if (!victim) throw new SqlError(ER.NO_SUCH_THREAD, `Unknown thread id: ${id}`);
    victim.conn.stream.destroy();
    this.sessions.delete(victim.id);
    return { affectedRows: 0 };
  }

  // --- replication and the watchdog event, driven by the fleet ---------------------------

  /** Take what the source's binlog has (the source is synced first by the fleet). */
  pull(source: FakeMariadb | undefined): void {
    const ch = this.channel;
    if (!ch?.running || !source?.alive) return;
    for (const [domain, gtid] of source.binlog) {
      if (ch.onlyDomains && !ch.onlyDomains.has(domain)) continue;
      const have = ch.retrieved.get(domain);
      if (have === undefined || have.seq < gtid.seq) ch.retrieved.set(domain, gtid);
    }
    let applied = false;
    for (const [domain, gtid] of ch.retrieved) {
      if ((this.slave.get(domain)?.seq ?? -1) >= gtid.seq) continue;
      this.slave.set(domain, gtid);
      applied = true;
      // log_slave_updates: what a server applies goes to its own binlog, except its own events
      // coming back around the circle (replicate_same_server_id=0 skips them).
      if (gtid.serverId !== this.spec.serverId && (this.binlog.get(domain)?.seq ?? -1) < gtid.seq)
        this.binlog.set(domain, gtid);
    }
    if (!applied) return;
    for (const [serverId, row] of source.heartbeat) {
      const mine = this.heartbeat.get(serverId);
      if (mine === undefined || mine.ts < row.ts) this.heartbeat.set(serverId, { ...row });
    }
  }

  sourceAddress(): { host: string; port: number } | undefined {
    return this.channel && { host: this.channel.host, port: this.channel.port };
  }

  /** The event `baton.watchdog`, once a second: read-only once its own row's fence_after passed. */
  watchdogTick(now: number): void {
    if (!this.alive || this.readOnly) return;
    const fenceAfter = this.heartbeat.get(this.spec.serverId)?.fenceAfter;
    if (fenceAfter !== undefined && fenceAfter < now) {
      this.readOnly = true;
      this.fleet.noteReadOnlyChange(this, true, 'watchdog');
    }
  }
}

const SLAVE_STATUS_COLUMNS = [
  'Connection_name',
  'Slave_SQL_State',
  'Slave_IO_State',
  'Master_Host',
  'Master_User',
  'Master_Port',
  'Connect_Retry',
  'Slave_IO_Running',
  'Slave_SQL_Running',
  'Last_Errno',
  'Last_Error',
  'Seconds_Behind_Master',
  'Last_IO_Errno',
  'Last_IO_Error',
  'Last_SQL_Errno',
  'Last_SQL_Error',
  'Master_Server_Id',
  'Using_Gtid',
  'Gtid_IO_Pos',
  'Replicate_Do_Domain_Ids',
  'Replicate_Ignore_Domain_Ids',
  'Gtid_Slave_Pos',
] as const;

/**
 * The client numbers each command's packets from 0 and the answer from 1 (wire.ts). mysql2's
 * server side checks every incoming packet against its own count, which the answers written past
 * it never advanced: set to 0, it expects the next command and prints no "packets out of order".
 */
function endOfResponse(conn: ServerConnection): void {
  conn.sequenceId = 0;
}

/** A read_only change the fleet saw, for the report (a fence or a watchdog close in steady state is a finding). */
export interface ReadOnlyChange {
  server: string;
  readOnly: boolean;
  by: 'statement' | 'watchdog';
  at: number;
}

/** Every fake server of a run, by address, with the replication and watchdog machinery between them. */
export class FakeFleet extends EventEmitter {
  private readonly byPort = new Map<number, FakeMariadb>();
  private readonly byName = new Map<string, FakeMariadb>();
  readonly servers: FakeMariadb[] = [];
  private watchdogTimer: NodeJS.Timeout | undefined;
  private readonly unmodelledSeen = new Map<string, number>();
  readonly readOnlyChanges: ReadOnlyChange[] = [];
  /** Queries (COM_QUERY) answered, each one round trip however many statements it holds. */
  roundTrips = 0;
  stamps = 0;

  /**
   * Starts the servers of every cluster: each listens on its own loopback port; the writable
   * node's history (a few transactions in its own domain) is on every server, so all four start
   * in step.
   */
  async start(clusters: ReadonlyMap<string, FakeNodeSpec[]>): Promise<void> {
    for (const nodes of clusters.values()) {
      const fakes = nodes.map((spec) => new FakeMariadb(spec, this));
      for (const fake of fakes) {
        await fake.start();
        this.byPort.set(fake.port, fake);
        this.byName.set(fake.label, fake);
        this.servers.push(fake);
      }
      const writer = nodes.find((n) => n.writable);
      const history = writer ? parsePosition(`${writer.gtidDomainId}-${writer.serverId}-100`) : new Map();
      for (const fake of fakes)
        fake.seed(
          history,
          fakes.find((f) => f.spec.name === fake.spec.source),
        );
    }
    this.watchdogTimer = setInterval(() => {
      const now = Date.now();
      for (const server of this.servers) server.watchdogTick(now);
    }, 1_000);
  }

  find(cluster: string, node: string): FakeMariadb | undefined {
    return this.byName.get(`${cluster}/${node}`);
  }

  /** Clusters where a master is up and writable: the ones whose applications can write now. */
  clustersTakingWrites(clusters: readonly string[]): number {
    return clusters.filter((c) =>
      ['a1', 'b1'].some((node) => {
        const fake = this.find(c, node);
        return fake?.alive === true && !fake.readOnly;
      }),
    ).length;
  }

  at(host: string, port: number): FakeMariadb | undefined {
    return host === LOOPBACK ? this.byPort.get(port) : undefined;
  }

  /** Brings `server` up to date with its source, and the source with its own first (a chain, or the masters' circle). */
  syncReplication(server: FakeMariadb, visiting = new Set<FakeMariadb>()): void {
    if (visiting.has(server)) return;
    visiting.add(server);
    const address = server.sourceAddress();
    const source = address && this.at(address.host, address.port);
    if (source?.alive) this.syncReplication(source, visiting);
    server.pull(source);
  }

  noteUnmodelled(statement: string): void {
    const key = statement.slice(0, 120);
    const count = this.unmodelledSeen.get(key) ?? 0;
    this.unmodelledSeen.set(key, count + 1);
    if (count === 0) this.emit('unmodelled', statement);
  }

  get unmodelled(): ReadonlyMap<string, number> {
    return this.unmodelledSeen;
  }

  noteReadOnlyChange(server: FakeMariadb, readOnly: boolean, by: ReadOnlyChange['by']): void {
    const change = { server: server.label, readOnly, by, at: performance.now() };
    this.readOnlyChanges.push(change);
    this.emit('read-only', change);
  }

  async stop(): Promise<void> {
    clearInterval(this.watchdogTimer);
    await Promise.all(this.servers.filter((s) => s.alive).map((s) => s.kill()));
  }
}
