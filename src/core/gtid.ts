/**
 * GTID sets as values, for both flavours.
 *
 * - MariaDB positions (`@@gtid_current_pos`, `Gtid_IO_Pos`) list the last GTID per replication
 *   domain, `domain-server-seq`, which under gtid_strict_mode means "seqs 1..seq of that domain".
 *   Sets produced by subtraction are not prefixes; they format as `domain-server-a..b` items, an
 *   extension this module also parses. The server id of the highest seq is kept per domain so a
 *   prefix set formats back exactly as the server printed it.
 * - MySQL sets are `uuid:1-5:7-9,uuid2:1-3` (optionally `uuid:tag:1-3`, MySQL 8.3+); the key is
 *   the uuid (plus tag), the intervals are kept as given.
 *
 * Sequence numbers are JS numbers: anything above Number.MAX_SAFE_INTEGER is rejected rather
 * than silently rounded.
 */

import type { Flavor } from './topology.js';

/** Inclusive range of sequence numbers / transaction ids. */
export interface GtidInterval {
  start: number;
  end: number;
}

export interface GtidSet {
  readonly flavor: Flavor;
  /** Per domain id (MariaDB) or uuid[:tag] (MySQL): sorted, disjoint, non-adjacent intervals. */
  readonly intervals: ReadonlyMap<string, readonly GtidInterval[]>;
  /** MariaDB only: server id that wrote the highest seq of each domain. */
  readonly serverIds: ReadonlyMap<string, number>;
}

export class GtidParseError extends Error {
  override name = 'GtidParseError';
}

export function emptyGtidSet(flavor: Flavor): GtidSet {
  return { flavor, intervals: new Map(), serverIds: new Map() };
}

// ---------------------------------------------------------------------------------------
// Parsing and formatting

export function parseGtidSet(text: string, flavor: Flavor): GtidSet {
  return flavor === 'mariadb' ? parseMariadb(text) : parseMysql(text);
}

export function formatGtidSet(set: GtidSet): string {
  return set.flavor === 'mariadb' ? formatMariadb(set) : formatMysql(set);
}

const MARIADB_ITEM = /^(\d+)-(\d+)-(\d+)(?:\.\.(\d+))?$/;

function parseMariadb(text: string): GtidSet {
  const builder = new SetBuilder('mariadb');
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const m = MARIADB_ITEM.exec(item);
    if (!m) {
      throw new GtidParseError(
        `gtid: invalid MariaDB GTID "${item}" in "${text}": expected domain-server-seq (or domain-server-a..b)`,
      );
    }
    const domain = String(toSafeInt(m[1] as string, item, text));
    const serverId = toSafeInt(m[2] as string, item, text);
    const a = toSafeInt(m[3] as string, item, text);
    if (m[4] === undefined) {
      // A position: seqs 1..a. Seq 0 means "nothing in this domain yet".
      if (a > 0) builder.add(domain, { start: 1, end: a }, serverId);
    } else {
      const b = toSafeInt(m[4], item, text);
      if (a < 1 || b < a) throw new GtidParseError(`gtid: invalid range "${item}" in "${text}"`);
      builder.add(domain, { start: a, end: b }, serverId);
    }
  }
  return builder.build();
}

function formatMariadb(set: GtidSet): string {
  const domains = [...set.intervals.keys()].sort((x, y) => Number(x) - Number(y));
  const items: string[] = [];
  for (const domain of domains) {
    const intervals = set.intervals.get(domain) ?? [];
    const serverId = set.serverIds.get(domain) ?? 0;
    const only = intervals.length === 1 ? intervals[0] : undefined;
    if (only && only.start === 1) {
      items.push(`${domain}-${serverId}-${only.end}`);
    } else {
      for (const iv of intervals) items.push(`${domain}-${serverId}-${iv.start}..${iv.end}`);
    }
  }
  return items.join(',');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TAG = /^[a-z_][a-z0-9_]{0,31}$/;
const MYSQL_INTERVAL = /^(\d+)(?:-(\d+))?$/;

function parseMysql(text: string): GtidSet {
  const builder = new SetBuilder('mysql');
  for (const raw of text.split(',')) {
    const item = raw.replace(/\s+/g, '');
    if (item === '') continue;
    const [uuidPart, ...rest] = item.split(':');
    const uuid = (uuidPart ?? '').toLowerCase();
    if (!UUID.test(uuid)) {
      throw new GtidParseError(`gtid: invalid MySQL source uuid "${uuidPart}" in "${text}"`);
    }
    if (rest.length === 0) throw new GtidParseError(`gtid: "${item}" has no intervals in "${text}"`);
    let key = uuid;
    for (const part of rest) {
      const lower = part.toLowerCase();
      const m = MYSQL_INTERVAL.exec(part);
      if (m) {
        const start = toSafeInt(m[1] as string, item, text);
        const end = m[2] === undefined ? start : toSafeInt(m[2], item, text);
        if (start < 1 || end < start)
          throw new GtidParseError(`gtid: invalid interval "${part}" in "${text}"`);
        builder.add(key, { start, end });
      } else if (TAG.test(lower)) {
        key = `${uuid}:${lower}`;
      } else {
        throw new GtidParseError(`gtid: invalid interval or tag "${part}" in "${text}"`);
      }
    }
  }
  return builder.build();
}

function formatMysql(set: GtidSet): string {
  const keys = [...set.intervals.keys()].sort();
  return keys
    .map((key) => {
      const intervals = (set.intervals.get(key) ?? []).map((iv) =>
        iv.start === iv.end ? `${iv.start}` : `${iv.start}-${iv.end}`,
      );
      return `${key}:${intervals.join(':')}`;
    })
    .join(',');
}

function toSafeInt(digits: string, item: string, text: string): number {
  const n = Number(digits);
  if (!Number.isSafeInteger(n)) {
    throw new GtidParseError(
      `gtid: number ${digits} in "${item}" of "${text}" exceeds the safe integer range`,
    );
  }
  return n;
}

// ---------------------------------------------------------------------------------------
// Algebra

export function isEmptyGtidSet(set: GtidSet): boolean {
  return set.intervals.size === 0;
}

export function unionGtidSets(a: GtidSet, b: GtidSet): GtidSet {
  assertSameFlavor(a, b);
  const builder = new SetBuilder(a.flavor);
  for (const set of [a, b]) {
    for (const [key, intervals] of set.intervals) {
      for (const iv of intervals) builder.add(key, iv);
    }
  }
  // Keep the server id of whichever side holds the highest seq of the domain (a wins ties).
  for (const key of builder.keys()) {
    const fromA = a.serverIds.get(key);
    const fromB = b.serverIds.get(key);
    const highA = lastEnd(a, key);
    const highB = lastEnd(b, key);
    const serverId = fromA !== undefined && highA >= highB ? fromA : (fromB ?? fromA);
    if (serverId !== undefined) builder.setServerId(key, serverId);
  }
  return builder.build();
}

/** a − b: transactions in a that b does not have. */
export function subtractGtidSets(a: GtidSet, b: GtidSet): GtidSet {
  assertSameFlavor(a, b);
  const builder = new SetBuilder(a.flavor);
  for (const [key, intervals] of a.intervals) {
    const remove = b.intervals.get(key) ?? [];
    for (const iv of subtractIntervals(intervals, remove)) builder.add(key, iv);
    const serverId = a.serverIds.get(key);
    if (serverId !== undefined) builder.setServerId(key, serverId);
  }
  return builder.build();
}

export function intersectGtidSets(a: GtidSet, b: GtidSet): GtidSet {
  // a ∩ b = a − (a − b)
  return subtractGtidSets(a, subtractGtidSets(a, b));
}

/** True when `superset` holds every transaction of `subset`. */
export function containsGtidSet(superset: GtidSet, subset: GtidSet): boolean {
  return isEmptyGtidSet(subtractGtidSets(subset, superset));
}

/**
 * The part of `set` under the keys (MariaDB domains, MySQL uuids[:tag]) that `keep` accepts:
 * e.g. the masters' history only, or everything but the writer's own newest writes.
 */
export function filterGtidKeys(set: GtidSet, keep: (key: string) => boolean): GtidSet {
  return {
    flavor: set.flavor,
    intervals: new Map([...set.intervals].filter(([key]) => keep(key))),
    serverIds: new Map([...set.serverIds].filter(([key]) => keep(key))),
  };
}

/** Same transactions (server ids are presentation only and ignored). */
export function equalGtidSets(a: GtidSet, b: GtidSet): boolean {
  return containsGtidSet(a, b) && containsGtidSet(b, a);
}

/** Number of transactions in the set (for messages and lag estimates). */
export function countGtids(set: GtidSet): number {
  let n = 0;
  for (const intervals of set.intervals.values()) for (const iv of intervals) n += iv.end - iv.start + 1;
  return n;
}

// ---------------------------------------------------------------------------------------
// Co-master comparisons

/**
 * Transactions `node` executed that the writer neither executed nor holds in its relay log.
 * What the writer already received is only lag; anything else was written on `node` outside
 * the writer's history (an errant transaction) and must not replicate into the writer.
 */
export function errantTransactions(
  node: { executed: GtidSet },
  writer: { executed: GtidSet; retrieved?: GtidSet },
): GtidSet {
  let errant = subtractGtidSets(node.executed, writer.executed);
  if (writer.retrieved) errant = subtractGtidSets(errant, writer.retrieved);
  return errant;
}

/** Writer transactions `node` has not executed yet: replication lag, never errant. */
export function missingTransactions(node: { executed: GtidSet }, writer: { executed: GtidSet }): GtidSet {
  return subtractGtidSets(writer.executed, node.executed);
}

// ---------------------------------------------------------------------------------------
// Internals

function assertSameFlavor(a: GtidSet, b: GtidSet): void {
  if (a.flavor !== b.flavor) throw new Error(`gtid: cannot combine ${a.flavor} and ${b.flavor} GTID sets`);
}

function lastEnd(set: GtidSet, key: string): number {
  const intervals = set.intervals.get(key);
  return intervals && intervals.length > 0 ? (intervals[intervals.length - 1] as GtidInterval).end : 0;
}

function subtractIntervals(from: readonly GtidInterval[], remove: readonly GtidInterval[]): GtidInterval[] {
  const out: GtidInterval[] = [];
  for (const iv of from) {
    let pieces: GtidInterval[] = [{ ...iv }];
    for (const r of remove) {
      if (r.end < iv.start || r.start > iv.end) continue;
      const next: GtidInterval[] = [];
      for (const p of pieces) {
        if (r.end < p.start || r.start > p.end) {
          next.push(p);
          continue;
        }
        if (p.start < r.start) next.push({ start: p.start, end: r.start - 1 });
        if (p.end > r.end) next.push({ start: r.end + 1, end: p.end });
      }
      pieces = next;
    }
    out.push(...pieces);
  }
  return out;
}

/** Accumulates intervals per key and normalises them (sorted, merged when overlapping/adjacent). */
class SetBuilder {
  private readonly raw = new Map<string, GtidInterval[]>();
  private readonly servers = new Map<string, { serverId: number; end: number }>();

  constructor(private readonly flavor: Flavor) {}

  add(key: string, iv: GtidInterval, serverId?: number): void {
    const list = this.raw.get(key) ?? [];
    list.push({ start: iv.start, end: iv.end });
    this.raw.set(key, list);
    if (serverId !== undefined) {
      const current = this.servers.get(key);
      if (!current || iv.end >= current.end) this.servers.set(key, { serverId, end: iv.end });
    }
  }

  setServerId(key: string, serverId: number): void {
    this.servers.set(key, { serverId, end: Number.MAX_SAFE_INTEGER });
  }

  keys(): string[] {
    return [...this.raw.keys()];
  }

  build(): GtidSet {
    const intervals = new Map<string, GtidInterval[]>();
    const serverIds = new Map<string, number>();
    for (const [key, list] of this.raw) {
      const sorted = [...list].sort((x, y) => x.start - y.start);
      const merged: GtidInterval[] = [];
      for (const iv of sorted) {
        const last = merged[merged.length - 1];
        if (last && iv.start <= last.end + 1) last.end = Math.max(last.end, iv.end);
        else merged.push({ ...iv });
      }
      if (merged.length === 0) continue;
      intervals.set(key, merged);
      const server = this.servers.get(key);
      if (this.flavor === 'mariadb') serverIds.set(key, server?.serverId ?? 0);
    }
    return { flavor: this.flavor, intervals, serverIds };
  }
}
