/**
 * The Database port for one MySQL/MariaDB server.
 *
 * Connections are dedicated (no pool): at most two idle connections are kept, one for probes
 * (opened with multipleStatements, it only ever runs the constant probe text, so a probe is one
 * round trip) and one for everything else; any connection that hit a deadline or lost its
 * socket is destroyed, and the
 * statement it was running is KILLed server-side on a fresh, short-lived connection (a client
 * deadline alone leaves the statement running on the server). SELECTs also carry a
 * server-side limit (max_statement_time / MAX_EXECUTION_TIME) derived from the deadline.
 *
 * The dialect (MariaDB 10.6+, or MySQL 8.0.23+/8.4: untested against a server) is detected
 * from VERSION() on every new connection.
 */
import type {
  Clock,
  Database,
  MonoMs,
  Probe,
  RepointOptions,
  WatchdogHold,
  WatchdogState,
} from '../coordinator/ports.js';
import { DeadlineExceededError } from '../coordinator/ports.js';
import { remainingMs } from '../deadline.js';
import { LinkRtt } from '../link-rtt.js';
import { silentLogger, type Logger } from '../log.js';
import { DeadlineConnection, type MysqlEndpoint } from './connection.js';
import {
  dialectFor,
  formatStatement,
  mariadbPendingGtids,
  parseSemiSync,
  probeSql,
  type Dialect,
  type ReplicationCredentials,
  type ReplicationSource,
  type Statement,
} from './dialect.js';
import { DatabasePrivilegeError, DatabaseQueryError, DatabaseUnavailableError, ER } from './errors.js';
import {
  HEARTBEAT_TABLE,
  heartbeatAddWatchdogColumnSql,
  heartbeatLagSql,
  heartbeatSchemaSql,
  heartbeatStamp,
  heartbeatWriteSql,
} from './heartbeat.js';
import { clientConnectionsToKill, processlistSql, type ProcessRow } from './processlist.js';
import { alignedSlavePos } from './truncated-tail.js';
import { watchdogEventStatusSql, watchdogState } from './watchdog.js';

export interface MysqlNodeSettings extends MysqlEndpoint {
  /** Node name for logs and messages (e.g. "a1"). */
  name: string;
  /** Replication user for repoint (CHANGE MASTER ... MASTER_USER). Omitted: keep the current one. */
  replication?: ReplicationCredentials;
  /** Users whose connections fence never kills, in addition to our own user. */
  protectedUsers?: string[];
  /** Deadline for the server-side KILL of a statement whose client deadline passed. Default 1000. */
  killTimeoutMs?: number;
  /**
   * How long the server itself may take to answer one step (a probe, a handshake packet), on
   * top of the link's measured round trip. Default 150 ms (timings.probeTimeoutMs).
   */
  answerAllowanceMs?: number;
}

const DEFAULT_ANSWER_ALLOWANCE_MS = 150;

/** Time kept back from a server-side wait so its answer arrives before our client deadline. */
const SERVER_WAIT_SLACK_MS = 100;
/** How long read_only=ON may wait for running statements before we kill client connections. */
const FENCE_GRACE_MS = 150;

interface Session {
  conn: DeadlineConnection;
  dialect: Dialect;
  serverId: number;
}

/** The event's status is read this often (event_scheduler itself is read by every probe). */
const WATCHDOG_EVENT_CHECK_MS = 30_000;

/**
 * Which idle connection an operation uses, each kept warm (probes: see the file comment).
 * `probe` and `fence` run only constant SQL and may send several statements in one round trip;
 * `command` takes statements with values.
 */
type Slot = 'probe' | 'fence' | 'command';

export class MysqlDatabase implements Database {
  private readonly idle: Partial<Record<Slot, Session>> = {};
  /** After close(), connections are closed after use instead of kept (the process can exit). */
  private closed = false;
  /** Once the heartbeat table exists, probes read the lag with the variables (one round trip less). */
  private heartbeatTableSeen = false;
  /** The watchdog event's STATUS as last read (null: no such event), and when. */
  private watchdogEvent: { status: unknown; checkedAt: MonoMs } | undefined;
  private readonly log: Logger;
  /** Round trips to this server as measured from here (the link may cross a WAN). */
  private readonly link = new LinkRtt();

  constructor(
    readonly settings: MysqlNodeSettings,
    private readonly clock: Clock,
    logger: Logger = silentLogger,
  ) {
    this.log = logger.child({ component: 'mysql', node: settings.name });
  }

  /**
   * Three facts in one round trip once the heartbeat table is known to exist (probes of a
   * remote colo pay the WAN latency per round trip): variables plus lag, and replica status.
   */
  async probe(deadline: MonoMs): Promise<Probe> {
    return this.withSession(
      deadline,
      'probe',
      async (s) => {
        // One round trip: the server's allowance plus the link's, never past the caller's deadline.
        const sentAt = this.clock.now();
        const answerBy = Math.min(deadline, sentAt + this.stepAllowanceMs());
        let results: Array<Record<string, unknown>[]> | undefined;
        if (this.heartbeatTableSeen) {
          try {
            results = await this.timedRoundTrip(() =>
              s.conn.queryResults(
                probeSql(s.dialect, remainingMs(this.clock, answerBy), true),
                answerBy,
                'probe',
              ),
            );
          } catch (err) {
            if (!isMissingTable(err)) throw err;
            this.heartbeatTableSeen = false;
          }
        }
        results ??= await this.timedRoundTrip(() =>
          s.conn.queryResults(
            probeSql(s.dialect, remainingMs(this.clock, answerBy), false),
            answerBy,
            'probe',
          ),
        );
        const [[vars] = [], replicas = [], [semiSync] = []] = results;
        const probe: Probe = {
          readOnly: Number(vars?.readOnly) === 1,
          executedGtids: String(vars?.executedGtids ?? '').replace(/\s+/g, ''),
          replication: replicas.map((row) => s.dialect.parseReplicaStatus(row)),
          serverId: Number(vars?.serverId),
          version: String(vars?.version ?? ''),
        };
        if (vars?.gtidSource !== undefined && vars.gtidSource !== null)
          probe.gtidSource = String(vars.gtidSource);
        if (vars?.binlogGtids !== undefined && vars.binlogGtids !== null)
          probe.binlogGtids = String(vars.binlogGtids).replace(/\s+/g, '');
        const semi = parseSemiSync(semiSync);
        if (semi) probe.semiSync = semi;
        const lag = this.heartbeatTableSeen ? lagMs(vars?.lagUs) : await this.heartbeatLag(s, deadline);
        if (lag !== undefined) probe.heartbeatLagMs = lag;
        const watchdog = await this.watchdog(s, vars?.eventScheduler, deadline);
        if (watchdog !== undefined) probe.watchdog = watchdog;
        return probe;
      },
      'probe',
    );
  }

  /** One round trip to this server may take this long (link RTT estimate with its variation). */
  roundTripMs(): number {
    return this.link.allowanceMs();
  }

  /** The server's own allowance for one step plus one round trip over the link. */
  private stepAllowanceMs(): number {
    return (this.settings.answerAllowanceMs ?? DEFAULT_ANSWER_ALLOWANCE_MS) + this.link.allowanceMs();
  }

  /** Run one round trip, feeding its duration (or its loss) to the link's RTT estimate. */
  private async timedRoundTrip<T>(roundTrip: () => Promise<T>): Promise<T> {
    const sentAt = this.clock.now();
    try {
      const result = await roundTrip();
      this.link.sample(this.clock.now() - sentAt);
      return result;
    } catch (err) {
      if (err instanceof DeadlineExceededError) this.link.lost();
      throw err;
    }
  }

  /**
   * read_only=ON and the executed GTIDs in one round trip, then kill client connections.
   *
   * SET GLOBAL read_only waits for running writes (and LOCK TABLES) to finish: a long write
   * must not make fencing miss its deadline, which is typically ~1 s. So if read_only has not
   * taken effect after a short grace, a second connection kills the client connections while
   * the first keeps waiting; the blocker dies and read_only completes. The session
   * lock_wait_timeout (default a day) is bounded by the deadline as a server-side backstop.
   *
   * Once read_only=ON has returned no commit is in flight and no client without READ_ONLY ADMIN
   * (MySQL: with super_read_only, nobody) can commit, so the set read right after it, in the
   * same round trip, is final. The clients are killed after that, and the fence returns without
   * waiting for it: the kills only send clients elsewhere. A switchover's write gap held all of
   * those round trips (issue 11: 3 more, 240 ms from a far leader). `clientsKilled` settles once
   * they are done.
   */
  async fence(deadline: MonoMs): Promise<{ executedGtids: string }> {
    // A guardian fences the writer it keeps a command connection to (heartbeats): a cold fence
    // connection would first need a handshake, with a hung server a whole stall allowance.
    const slot: Slot = this.idle.fence === undefined && this.idle.command !== undefined ? 'command' : 'fence';
    const fenced = await this.withSession(
      deadline,
      'fence',
      async (s) => {
        const lockWait = Math.max(1, Math.ceil(remainingMs(this.clock, deadline) / 1000));
        // This first statement never waits on the server: a server or link that does not answer
        // it within a round trip is gone, and a failover must not wait out the whole fence
        // deadline. It goes before the write gap, which read_only=ON opens.
        const answerBy = Math.min(deadline, this.clock.now() + this.stepAllowanceMs());
        await this.timedRoundTrip(() =>
          s.conn.query(`SET SESSION lock_wait_timeout=${lockWait}`, answerBy, 'set lock_wait_timeout'),
        );
        const fenceAndRead = async (what: string): Promise<Record<string, unknown> | undefined> => {
          if (!s.conn.multipleStatements) {
            await this.run(s, s.dialect.fence(), deadline, what);
            return (await this.select(s, s.dialect.executedGtids(), deadline, 'executed gtids'))[0];
          }
          const sql = [...s.dialect.fence(), s.dialect.executedGtids()].join('; ');
          return (await s.conn.queryResults(sql, deadline, what)).at(-1)?.[0];
        };
        const graceMs = Math.min(FENCE_GRACE_MS, remainingMs(this.clock, deadline) / 4);
        let unblocking: Promise<number[]> | undefined;
        const timer = setTimeout(() => {
          this.log.warn({ graceMs }, 'read_only=ON is waiting for running statements; killing clients');
          unblocking = this.killClientsFromNewConnection(deadline, s);
          unblocking.catch(() => undefined);
        }, graceMs);
        let row: Record<string, unknown> | undefined;
        try {
          row = await fenceAndRead('read_only=ON');
        } catch (err) {
          if (!(err instanceof DatabaseQueryError && err.errno === ER.LOCK_WAIT_TIMEOUT)) throw err;
          // Still blocked (e.g. a lock holder reconnected): kill clients, retry once.
          await this.killClientsFromNewConnection(deadline, s);
          row = await fenceAndRead('read_only=ON (retry)');
        } finally {
          clearTimeout(timer);
        }
        return {
          executedGtids: String(row?.executedGtids ?? '').replace(/\s+/g, ''),
          killedWhileBlocked: unblocking ? unblocking.catch(() => []) : Promise.resolve([]),
        };
      },
      slot,
    );
    const { executedGtids, killedWhileBlocked } = fenced;
    this.clientsKilled = this.withSession(deadline, 'kill clients', (s) => this.killClients(s, deadline))
      .then(async (killed) => {
        const all = killed.length + (await killedWhileBlocked).length;
        this.log.info({ killed: all, executedGtids }, 'fenced');
        return all;
      })
      .catch((err: unknown) => {
        this.log.warn({ err: (err as Error).message, executedGtids }, 'fenced; killing its clients failed');
        return 0;
      });
    return { executedGtids };
  }

  /** How many client connections the last fence killed, once it has (0 when that failed). */
  clientsKilled: Promise<number> = Promise.resolve(0);

  /**
   * The watchdog is stamped before the last statement (the one that lets clients write), so the
   * event cannot close the server on an older, passed deadline the moment it opens. The stamp
   * bypasses read_only (our user may: READ_ONLY ADMIN, or MySQL with only super_read_only
   * lifted); its GTID is on the server that is becoming the writer.
   */
  async openWrites(deadline: MonoMs, hold?: WatchdogHold, committed?: Promise<void>): Promise<void> {
    await this.withSession(deadline, 'open writes', async (s) => {
      const statements = s.dialect.openWrites();
      const opening = statements.slice(-1);
      const lifting = statements.slice(0, -1);
      // MySQL lifts super_read_only before the stamp can be written: that waits for the commit.
      if (committed && lifting.length > 0) await committed;
      await this.run(s, lifting, deadline, 'read_only=OFF');
      if (hold) await this.stamp(s, hold, false, Math.min(deadline, hold.stampBy ?? deadline));
      if (committed) await committed;
      await this.run(s, opening, deadline, 'read_only=OFF');
    });
    this.log.info('writes opened');
  }

  /** Both connections an operation uses (warmUp) are open and idle. */
  hasIdleConnection(): boolean {
    return (['command', 'fence'] as const).every((slot) => {
      const idle = this.idle[slot];
      return idle !== undefined && !idle.conn.broken;
    });
  }

  /** Both connections an operation uses: the fence's and the commands'. */
  async warmUp(deadline: MonoMs): Promise<void> {
    await Promise.all([
      this.withSession(deadline, 'warm up', () => Promise.resolve()),
      this.withSession(deadline, 'warm up', () => Promise.resolve(), 'fence'),
    ]);
  }

  async waitForGtids(gtids: string, deadline: MonoMs): Promise<boolean> {
    if (gtids.trim() === '') return true;
    return this.withSession(deadline, 'wait for gtids', async (s) => {
      let wanted = gtids;
      if (s.dialect.flavor === 'mariadb') {
        // Answer from gtid_current_pos when it already covers the set (no server-side wait),
        // and hand MASTER_GTID_WAIT only the domains still missing. MASTER_GTID_WAIT is
        // documented against gtid_slave_pos; on 10.11 it also accepted a domain the server
        // wrote itself (measured), but a server's own domain is never waited for here anyway.
        const [row] = await this.select(s, s.dialect.executedGtids(), deadline, 'executed gtids');
        wanted = mariadbPendingGtids(gtids, String(row?.executedGtids ?? ''));
        if (wanted === '') return true;
      }
      const timeoutSeconds = Math.max(
        0.001,
        (remainingMs(this.clock, deadline) - SERVER_WAIT_SLACK_MS) / 1000,
      );
      const statement = s.dialect.waitForGtids(wanted, timeoutSeconds);
      const [result] = await s.conn.query(formatStatement(statement), deadline, 'wait for gtids');
      return s.dialect.waitSucceeded(result?.waited);
    });
  }

  async repoint(
    source: { host: string; port: number },
    deadline: MonoMs,
    options: RepointOptions = {},
  ): Promise<void> {
    const { onlyKeys, refetchOwnTail = false } = options;
    await this.withSession(deadline, 'repoint', async (s) => {
      await s.conn.query(s.dialect.stopReplication(), deadline, 'stop replication');
      if (s.dialect.flavor === 'mariadb') await this.alignOwnDomain(s, deadline, refetchOwnTail);
      const change = s.dialect.changeSource(
        source satisfies ReplicationSource,
        this.settings.replication,
        onlyKeys,
      );
      await this.execute(s, change, deadline, 'change source');
      await s.conn.query(s.dialect.startReplication(), deadline, 'start replication');
    });
    this.log.info({ source: `${source.host}:${source.port}` }, 'replication repointed');
  }

  /**
   * See truncated-tail.ts. Replication is stopped. A server that ever wrote in its own domain gets
   * its slave position there aligned with its binlog and, where semi-sync is in use (or a tail was
   * truncated), the semi-sync replica setting that lets its IO thread take its own server-id
   * transactions back in strict mode; the next START SLAVE then fetches a truncated tail.
   */
  private async alignOwnDomain(s: Session, deadline: MonoMs, refetchOwnTail: boolean): Promise<void> {
    const [row] = await this.select(
      s,
      'SELECT @@global.gtid_slave_pos AS slavePos, @@global.gtid_binlog_pos AS binlogPos, ' +
        '@@global.gtid_domain_id AS domain, @@global.gtid_strict_mode AS strict, ' +
        '@@global.rpl_semi_sync_slave_enabled AS semiSyncReplica',
      deadline,
      'gtid positions',
    );
    const slavePos = String(row?.slavePos ?? '');
    const binlogPos = String(row?.binlogPos ?? '');
    const aligned = alignedSlavePos(slavePos, binlogPos, Number(row?.domain));
    // Only a returning ex-writer, or a server showing the truncation itself, is touched: a
    // standby master that ACKed its co-master would slow its own applier (DESIGN.md).
    if (aligned === undefined || !(refetchOwnTail || aligned.truncatedTail)) return;
    const fields = { slavePos, binlogPos, reset: aligned.slavePos, strict: Number(row?.strict) === 1 };
    if (aligned.truncatedTail) {
      this.log.warn(
        fields,
        'gtid_slave_pos is ahead of the binlog in this server own domain (a crash-truncated tail): ' +
          'moving it back so the source sends those transactions again',
      );
    } else {
      this.log.info(fields, 'aligning gtid_slave_pos with the binlog in this server own domain');
    }
    if (Number(row?.semiSyncReplica) !== 1) {
      await s.conn.query('SET GLOBAL rpl_semi_sync_slave_enabled=ON', deadline, 'semi-sync replica on');
    }
    await s.conn.query('SET GLOBAL gtid_slave_pos=?', deadline, 'align gtid_slave_pos', [aligned.slavePos]);
  }

  async stopReplication(deadline: MonoMs): Promise<void> {
    await this.withSession(deadline, 'stop replication', (s) =>
      s.conn.query(s.dialect.stopReplication(), deadline, 'stop replication'),
    );
  }

  async startReplication(deadline: MonoMs): Promise<void> {
    await this.withSession(deadline, 'start replication', (s) =>
      s.conn.query(s.dialect.startReplication(), deadline, 'start replication'),
    );
  }

  /**
   * Update this server's heartbeat row (and with a hold, the watchdog's deadline). The write
   * only happens while the server is writable (checked in the same statement): our user can
   * bypass read_only (READ_ONLY ADMIN), and a heartbeat on a fenced node would be an errant
   * transaction. Creates the table, or its watchdog column, on first use.
   */
  async writeHeartbeat(deadline: MonoMs, hold?: WatchdogHold): Promise<void> {
    await this.withSession(deadline, 'heartbeat', async (s) => {
      if (hold) await this.stamp(s, hold, true, deadline);
      else
        await this.withHeartbeatSchema(s, true, deadline, () =>
          s.conn.query(heartbeatWriteSql, deadline, 'heartbeat', [s.serverId]),
        );
    });
  }

  private async stamp(s: Session, hold: WatchdogHold, guarded: boolean, deadline: MonoMs): Promise<void> {
    const statement = heartbeatStamp(s.serverId, hold, guarded);
    await this.withHeartbeatSchema(s, guarded, deadline, () =>
      this.execute(s, statement, deadline, 'heartbeat'),
    );
  }

  /** Run a heartbeat write; if the table or its watchdog column is missing, add it and retry. */
  private async withHeartbeatSchema(
    s: Session,
    onlyIfWritable: boolean,
    deadline: MonoMs,
    write: () => Promise<unknown>,
  ): Promise<void> {
    try {
      await write();
      return;
    } catch (err) {
      const missingColumn = err instanceof DatabaseQueryError && err.errno === ER.BAD_FIELD;
      if (!isMissingTable(err) && !missingColumn) throw err;
      if (onlyIfWritable) {
        const [vars] = await this.select(s, 'SELECT @@global.read_only AS readOnly', deadline, 'read_only');
        if (Number(vars?.readOnly) === 1) return;
      }
      if (missingColumn) {
        this.log.info(`adding the watchdog column to ${HEARTBEAT_TABLE}`);
        await s.conn.query(heartbeatAddWatchdogColumnSql, deadline, 'heartbeat schema');
      } else {
        this.log.info(`creating ${HEARTBEAT_TABLE}`);
        try {
          for (const ddl of heartbeatSchemaSql)
            await s.conn.query(ddl, deadline, 'create the heartbeat table');
        } catch (err) {
          // CREATE DATABASE without CREATE is refused as "Access denied ... to database 'baton'".
          if (!(err instanceof DatabasePrivilegeError && err.errno === ER.DBACCESS_DENIED)) throw err;
          throw new DatabasePrivilegeError(
            `create the heartbeat table on ${s.conn.label}: ${s.conn.privilegeLine('CREATE', 'baton.*')}`,
            { cause: err, errno: err.errno },
          );
        }
      }
    }
    await write();
  }

  /** The scheduler from this probe, the event's status from a read at most 30 s old. */
  private async watchdog(
    s: Session,
    eventScheduler: unknown,
    deadline: MonoMs,
  ): Promise<WatchdogState | undefined> {
    if (eventScheduler === undefined) return undefined;
    const now = this.clock.now();
    if (this.watchdogEvent === undefined || now - this.watchdogEvent.checkedAt >= WATCHDOG_EVENT_CHECK_MS) {
      try {
        const [row] = await this.select(s, watchdogEventStatusSql, deadline, 'watchdog event');
        this.watchdogEvent = { status: row?.status ?? null, checkedAt: now };
      } catch (err) {
        // A server that refuses this one read (privileges) is still up: the probe must not fail.
        if (!(err instanceof DatabaseQueryError)) throw err;
        this.log.warn({ err: err.message }, 'cannot read the watchdog event status');
        this.watchdogEvent = { status: undefined, checkedAt: now };
      }
    }
    if (this.watchdogEvent.status === undefined) return undefined;
    return watchdogState(eventScheduler, this.watchdogEvent.status);
  }

  /**
   * Close the idle connections. An operation still running (or started later: a guardian's
   * self-fence after shutdown) still works, but its connection is closed afterwards, not kept.
   */
  async close(): Promise<void> {
    this.closed = true;
    // Every slot: an open connection keeps the process from exiting after a graceful stop.
    const idle = Object.values(this.idle);
    for (const slot of Object.keys(this.idle) as Slot[]) delete this.idle[slot];
    await Promise.all(idle.map((s) => s.conn.close(this.clock.now() + 1000)));
  }

  // -------------------------------------------------------------------------------------

  /**
   * Run work on a connection. Every operation here is idempotent, so when a connection taken
   * from the idle slot turns out to be dead (server restarted, idle timeout) the work is
   * retried once on a fresh connection within the same deadline, rather than reporting a
   * healthy server as failing.
   */
  private async withSession<T>(
    deadline: MonoMs,
    what: string,
    work: (s: Session) => Promise<T>,
    slot: Slot = 'command',
  ): Promise<T> {
    const idle = this.idle[slot];
    const reused = idle !== undefined && !idle.conn.broken;
    try {
      return await this.attempt(deadline, what, work, slot);
    } catch (err) {
      if (!reused || !(err instanceof DatabaseUnavailableError) || remainingMs(this.clock, deadline) <= 0)
        throw err;
      this.log.debug({ what, err: err.message }, 'idle connection was dead; retrying on a new one');
      return this.attempt(deadline, what, work, slot);
    }
  }

  private async attempt<T>(
    deadline: MonoMs,
    what: string,
    work: (s: Session) => Promise<T>,
    slot: Slot,
  ): Promise<T> {
    const session = await this.takeSession(deadline, slot);
    try {
      const result = await work(session);
      this.release(session, slot);
      return result;
    } catch (err) {
      if (session.conn.broken) {
        if (err instanceof DeadlineExceededError) this.killOnServer(session.conn.threadId);
      } else {
        this.release(session, slot);
      }
      this.log.debug({ what, err: (err as Error).message }, 'operation failed');
      throw err;
    }
  }

  private async takeSession(deadline: MonoMs, slot: Slot): Promise<Session> {
    const idle = this.idle[slot];
    delete this.idle[slot];
    if (idle && !idle.conn.broken) return idle;
    let conn: DeadlineConnection;
    try {
      conn = await DeadlineConnection.open(this.settings, this.clock, deadline, {
        multipleStatements: slot !== 'command',
        stallMs: this.stepAllowanceMs(),
      });
    } catch (err) {
      if (err instanceof DeadlineExceededError) this.link.lost();
      throw err;
    }
    try {
      const [row] = await this.timedRoundTrip(() =>
        conn.query(
          // The account, for the GRANT a missing privilege's error suggests.
          'SELECT VERSION() AS version, @@global.server_id AS serverId, CURRENT_USER() AS account',
          deadline,
          'identify server',
        ),
      );
      const dialect = dialectFor(String(row?.version ?? ''));
      conn.identified(String(row?.account ?? ''), dialect.flavor);
      return { conn, dialect, serverId: Number(row?.serverId) };
    } catch (err) {
      conn.destroy();
      throw err;
    }
  }

  private release(session: Session, slot: Slot): void {
    if (session.conn.broken) return;
    if (this.idle[slot] || this.closed) void session.conn.close(this.clock.now() + 1000);
    else this.idle[slot] = session;
  }

  /** The client gave up on a statement; make the server give up too. Best effort, bounded. */
  private killOnServer(threadId: number): void {
    const deadline = this.clock.now() + (this.settings.killTimeoutMs ?? 1000);
    void (async () => {
      const conn = await DeadlineConnection.open(this.settings, this.clock, deadline);
      try {
        await conn.query('KILL CONNECTION ?', deadline, 'kill timed-out statement', [threadId]);
      } finally {
        conn.destroy();
      }
    })().catch((err: unknown) =>
      this.log.debug({ threadId, err: (err as Error).message }, 'could not kill timed-out statement'),
    );
  }

  private select(s: Session, sql: string, deadline: MonoMs, what: string) {
    return s.conn.query(s.dialect.limitSelect(sql, remainingMs(this.clock, deadline)), deadline, what);
  }

  private async run(s: Session, statements: string[], deadline: MonoMs, what: string): Promise<void> {
    for (const sql of statements) await s.conn.query(sql, deadline, what);
  }

  /** A statement with values: interpolated client-side; its text is never logged. */
  private async execute(s: Session, statement: Statement, deadline: MonoMs, what: string): Promise<void> {
    await s.conn.query(statement.sql, deadline, what, statement.values);
  }

  private async killClients(s: Session, deadline: MonoMs, alsoProtect: number[] = []): Promise<number[]> {
    const rows = await s.conn.query(processlistSql, deadline, 'list client connections');
    const processes: ProcessRow[] = rows.map((r) => ({
      id: Number(r.Id),
      user: String(r.User ?? ''),
      command: String(r.Command ?? ''),
    }));
    const victims = clientConnectionsToKill(processes, {
      protectedThreadIds: [s.conn.threadId, ...alsoProtect],
      protectedUsers: [this.settings.user, ...(this.settings.protectedUsers ?? [])],
    });
    for (const id of victims) {
      try {
        await s.conn.query('KILL CONNECTION ?', deadline, 'kill a client connection', [id]);
      } catch (err) {
        // Already gone between SHOW PROCESSLIST and KILL: that is what we wanted.
        if (!(err instanceof DatabaseQueryError && err.errno === ER.NO_SUCH_THREAD)) throw err;
      }
    }
    return victims;
  }

  /** killClients on a connection of its own, while another connection is blocked. */
  private async killClientsFromNewConnection(deadline: MonoMs, fencing: Session): Promise<number[]> {
    const conn = await DeadlineConnection.open(this.settings, this.clock, deadline);
    try {
      const session: Session = { conn, dialect: fencing.dialect, serverId: fencing.serverId };
      return await this.killClients(session, deadline, [fencing.conn.threadId]);
    } finally {
      conn.destroy();
    }
  }

  private async heartbeatLag(s: Session, deadline: MonoMs): Promise<number | undefined> {
    try {
      const [row] = await this.select(s, heartbeatLagSql, deadline, 'heartbeat lag');
      this.heartbeatTableSeen = true;
      return lagMs(row?.lagUs);
    } catch (err) {
      if (isMissingTable(err)) return undefined;
      throw err;
    }
  }
}

function lagMs(lagUs: unknown): number | undefined {
  if (lagUs === null || lagUs === undefined) return undefined;
  return Math.max(0, Number(lagUs) / 1000);
}

function isMissingTable(err: unknown): boolean {
  return err instanceof DatabaseQueryError && (err.errno === ER.NO_SUCH_TABLE || err.errno === ER.BAD_DB);
}
