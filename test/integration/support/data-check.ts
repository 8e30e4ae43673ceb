import mysql from 'mysql2/promise';
import type { LabStatus } from '../../../src/lab/lab-status.js';
import {
  parseGtidSet,
  containsGtidSet,
  equalGtidSets,
  filterGtidKeys,
  formatGtidSet,
} from '../../../src/core/gtid.js';
import { withDeadline } from './split-brain-sampler.js';

/** What one server holds: the rows (order-independent checksum) and the masters' GTIDs. */
export interface ServerData {
  node: string;
  rows: number;
  checksum: string;
  /** gtid_current_pos restricted to the masters' domains (a replica's own writes are errant, kept apart). */
  gtids: string;
  /** Its own-domain GTIDs and anything outside the masters' domains. */
  others: string;
}

export interface DataVerdict {
  writer: ServerData;
  servers: (ServerData & { matches: boolean; quarantined: boolean })[];
}

/** Masters' domains in the lab: a1 writes under 1, b1 under 2 (src/lab/topology.ts). */
const MASTER_DOMAINS = new Set(['1', '2']);

/**
 * Judge by the data, not by the roles: every server's rows (an order-independent checksum over
 * every column) and GTID set against the writer's, replicas included. Waits up to `settleMs`
 * for servers to apply what they are still receiving, then each server either matches the writer
 * or must be quarantined (`quarantined` lists what baton quarantined).
 */
export async function checkData(
  status: LabStatus,
  writer: string,
  quarantined: readonly string[],
  settleMs = 15_000,
): Promise<DataVerdict> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const all = await Promise.all(
      status.nodes.filter((n) => n.state !== 'dead').map((n) => readData(status, n.name)),
    );
    const w = all.find((s) => s.node === writer);
    if (!w) throw new Error(`writer ${writer} did not answer`);
    const servers = all.map((s) => ({
      ...s,
      matches: s.rows === w.rows && s.checksum === w.checksum && sameGtids(s.gtids, w.gtids),
      quarantined: quarantined.includes(s.node),
    }));
    const settled = servers.every((s) => s.matches || s.quarantined);
    if (settled || Date.now() > deadline) return { writer: w, servers };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** One line per server for the test log. */
export function describeData(verdict: DataVerdict): string {
  return verdict.servers
    .map(
      (s) =>
        `${s.node}: ${s.rows} rows crc ${s.checksum} gtid ${s.gtids}${s.others ? ` (+${s.others})` : ''} ${
          s.matches ? 'matches' : s.quarantined ? 'QUARANTINED' : 'DIFFERS'
        }`,
    )
    .join('\n');
}

/** Ids of app.writes rows on a server (for loss accounting). */
export async function idsOn(status: LabStatus, node: string): Promise<Set<number>> {
  return withConnection(status, node, async (conn) => {
    const [rows] = await conn.query('SELECT id FROM app.writes');
    return new Set((rows as { id: number | string }[]).map((r) => Number(r.id)));
  });
}

async function readData(status: LabStatus, node: string): Promise<ServerData> {
  return withConnection(status, node, async (conn) => {
    const [[sums]] = (await conn.query(
      "SELECT COUNT(*) AS n, CAST(COALESCE(BIT_XOR(CRC32(CONCAT_WS('|', id, client, seq, created_at))), 0) AS CHAR) AS crc FROM app.writes",
    )) as unknown as [[{ n: number | string; crc: string }]];
    const [[vars]] = (await conn.query('SELECT @@global.gtid_current_pos AS gtids')) as unknown as [
      [{ gtids: string }],
    ];
    const set = parseGtidSet(String(vars.gtids ?? '').replace(/\s+/g, ''), 'mariadb');
    return {
      node,
      rows: Number(sums.n),
      checksum: String(sums.crc),
      gtids: formatGtidSet(filterGtidKeys(set, (key) => MASTER_DOMAINS.has(key))),
      others: formatGtidSet(filterGtidKeys(set, (key) => !MASTER_DOMAINS.has(key))),
    };
  });
}

function sameGtids(a: string, b: string): boolean {
  return equalGtidSets(parseGtidSet(a, 'mariadb'), parseGtidSet(b, 'mariadb'));
}

/** Whether server `a` holds every masters' GTID that `b` holds. */
export function holdsAll(a: ServerData, b: ServerData): boolean {
  return containsGtidSet(parseGtidSet(a.gtids, 'mariadb'), parseGtidSet(b.gtids, 'mariadb'));
}

/** `fn` on a fresh connection to `node` as the application's user, bounded; always closed. */
export async function withConnection<T>(
  status: LabStatus,
  node: string,
  fn: (conn: mysql.Connection) => Promise<T>,
): Promise<T> {
  const spec = status.nodes.find((n) => n.name === node);
  if (!spec) throw new Error(`no node ${node}`);
  const conn = await withDeadline(
    mysql.createConnection({
      host: spec.host,
      port: spec.port,
      // The application's user: it reads app.* (baton's own user has no business there).
      user: status.users.app.user,
      password: status.users.app.password,
      connectTimeout: 3_000,
      supportBigNumbers: true,
      bigNumberStrings: true,
    }),
    3_000,
  );
  try {
    return await withDeadline(fn(conn), 5_000);
  } finally {
    conn.destroy();
  }
}

/**
 * Every server matches the writer or is quarantined; otherwise fails with what a person needs to
 * read the failure: every server's data and, for each one left behind, its replication state.
 */
export async function expectEveryServerJudged(
  verdict: DataVerdict,
  status: () => Promise<LabStatus>,
): Promise<void> {
  const unjudged = verdict.servers.filter((s) => !s.matches && !s.quarantined);
  if (unjudged.length === 0) return;
  const now = await status();
  const replication = unjudged.map((s) => {
    const node = now.nodes.find((n) => n.name === s.node);
    return `${s.node}: state ${node?.state}, read_only ${String(node?.readOnly)}, gtid_current_pos ${String(
      node?.gtidCurrentPos,
    )}, replication ${JSON.stringify(node?.replication ?? null)}`;
  });
  throw new Error(
    `${unjudged.map((s) => s.node).join(', ')} neither match ${verdict.writer.node} nor are quarantined\n` +
      `${describeData(verdict)}\n${replication.join('\n')}`,
  );
}
