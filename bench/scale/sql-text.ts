/**
 * Just enough SQL text handling for the fake MariaDB servers (fake-mariadb.ts): split what baton
 * sends in one round trip into statements, take a SELECT apart into its items, and do MariaDB's
 * GTID position arithmetic. Pure, so it is unit-tested (test/unit/bench/scale-sql-text.test.ts).
 */

/** Splits on `;` outside quotes and parentheses; drops empty statements. */
export function splitStatements(sql: string): string[] {
  return splitTopLevel(sql, ';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Splits on `separator` where it is outside quotes and parentheses. The pieces keep their
 * whitespace, so callers trim what they need.
 */
export function splitTopLevel(text: string, separator: string): string[] {
  const pieces: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && c === separator) {
      pieces.push(text.slice(start, i));
      start = i + 1;
    }
  }
  pieces.push(text.slice(start));
  return pieces;
}

const STATEMENT_LIMIT = /^SET STATEMENT max_statement_time=[\d.]+ FOR\s+/i;

/**
 * MariaDB's per-statement limit (`SET STATEMENT max_statement_time=0.150 FOR SELECT …`) only
 * bounds how long the server may run the statement; the fakes answer at once, so they drop it.
 * Without the prefix, the probe's text is the same every time, which is what the parse cache keys on.
 */
export function withoutStatementLimit(statement: string): string {
  return statement.replace(STATEMENT_LIMIT, '');
}

export interface SelectItem {
  expression: string;
  /** The `AS name` of the item, or the expression itself (what MariaDB names the column). */
  column: string;
}

export interface ParsedSelect {
  items: SelectItem[];
  /** Everything after the top-level FROM (undefined for a FROM-less SELECT). */
  from?: string;
}

/** `SELECT a AS x, (SELECT …) AS y FROM t WHERE …` → items and the FROM clause; undefined if not a SELECT. */
export function parseSelect(statement: string): ParsedSelect | undefined {
  const match = /^SELECT\s+([\s\S]*)$/i.exec(statement.trim());
  if (!match) return undefined;
  const body = match[1] as string;
  const fromAt = topLevelKeyword(body, 'FROM');
  const list = fromAt === undefined ? body : body.slice(0, fromAt);
  const items = splitTopLevel(list, ',').map((raw) => {
    const item = raw.trim();
    const aliased = /^([\s\S]*?)\s+AS\s+`?(\w+)`?$/i.exec(item);
    return aliased
      ? { expression: (aliased[1] as string).trim(), column: aliased[2] as string }
      : { expression: item, column: item };
  });
  return fromAt === undefined ? { items } : { items, from: body.slice(fromAt + 'FROM'.length).trim() };
}

/** Index of a whole-word keyword outside quotes and parentheses. */
function topLevelKeyword(text: string, keyword: string): number | undefined {
  let depth = 0;
  let quote: string | undefined;
  const upper = text.toUpperCase();
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (
      depth === 0 &&
      upper.startsWith(keyword, i) &&
      /\s/.test(text[i - 1] ?? ' ') &&
      /\s/.test(text[i + keyword.length] ?? ' ')
    )
      return i;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// MariaDB GTID positions: `domain-server-seq` per replication domain, comma-separated.

export interface Gtid {
  serverId: number;
  seq: number;
}

/** A position: the last GTID of each domain. */
export type GtidPosition = Map<number, Gtid>;

export function parsePosition(text: string): GtidPosition {
  const position: GtidPosition = new Map();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)-(\d+)-(\d+)\s*$/.exec(part);
    if (m) position.set(Number(m[1]), { serverId: Number(m[2]), seq: Number(m[3]) });
  }
  return position;
}

/** MariaDB's own format: domains in ascending order. */
export function formatPosition(position: GtidPosition): string {
  return [...position.entries()]
    .sort(([a], [b]) => a - b)
    .map(([domain, g]) => `${domain}-${g.serverId}-${g.seq}`)
    .join(',');
}

/** Per domain, the later of the two (a server's current position over its binlog and slave positions). */
export function laterOf(a: GtidPosition, b: GtidPosition): GtidPosition {
  const merged: GtidPosition = new Map(a);
  for (const [domain, g] of b) {
    const have = merged.get(domain);
    if (have === undefined || have.seq < g.seq) merged.set(domain, g);
  }
  return merged;
}

/** Whether `position` has reached every domain of `wanted` (MASTER_GTID_WAIT's test). */
export function reached(position: GtidPosition, wanted: GtidPosition): boolean {
  for (const [domain, g] of wanted) {
    if ((position.get(domain)?.seq ?? -1) < g.seq) return false;
  }
  return true;
}
