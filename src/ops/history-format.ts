/**
 * History entries as an operator reads them at 3 a.m. (issue 14): one line each, local time
 * first, then what happened, to which node, at which epoch, why, and the message. Lost and
 * errant GTID ranges are printed in full: they are what someone must reconcile. Pure: the time
 * zone is a parameter, so tests do not depend on the machine's.
 */
import type { HistoryEntry } from '../core/history.js';

/** The loop stores wall-clock time with each entry it writes (`wallAt`); older ones have `at`. */
export type StoredHistoryEntry = HistoryEntry & { wallAt?: number; coordinator?: string };

export interface HistoryLineOptions {
  /** IANA zone for the time column; undefined: the machine's. */
  timeZone?: string;
}

/**
 * One formatter per zone: building one costs far more than using it, and the web view formats
 * a few hundred times a second per open page (a coordinator's event loop also answers HAProxy).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      fractionalSecondDigits: 3,
      hourCycle: 'h23',
    });
    formatters.set(key, formatter);
  }
  return formatter;
}

/** `2026-12-05 03:20:21.043` in the zone: sortable, and with milliseconds (failovers are fast). */
export function localTime(epochMs: number, timeZone?: string): string {
  const parts = formatterFor(timeZone).formatToParts(new Date(epochMs));
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}.${get('fractionalSecond')}`;
}

export function entryTime(entry: StoredHistoryEntry): number {
  return entry.wallAt ?? entry.at;
}

/** The columns of one line, before padding. */
export function historyColumns(entry: StoredHistoryEntry, options: HistoryLineOptions = {}): string[] {
  const node =
    entry.from !== undefined && entry.node !== undefined
      ? `${entry.from}→${entry.node}`
      : (entry.node ?? '-');
  const extra = [
    entry.lostGtids !== undefined ? `lost: ${entry.lostGtids || 'nothing'}` : undefined,
    entry.errantGtids !== undefined ? `errant: ${entry.errantGtids}` : undefined,
    entry.by !== 'auto' ? `by ${entry.by}` : undefined,
  ].filter((x): x is string => x !== undefined);
  const message = oneLine(entry.message) + (extra.length > 0 ? ` [${extra.join('; ')}]` : '');
  return [
    localTime(entryTime(entry), options.timeZone),
    entry.event,
    node,
    `e${entry.epoch}`,
    entry.reason,
    message,
  ];
}

export const HISTORY_COLUMNS = ['TIME', 'EVENT', 'NODE', 'EPOCH', 'REASON', 'MESSAGE'];

/** Aligned lines, the message column last and unpadded; with a header unless asked not to. */
export function formatHistoryTable(
  entries: readonly StoredHistoryEntry[],
  options: HistoryLineOptions & { header?: boolean } = {},
): string[] {
  const rows = entries.map((e) => historyColumns(e, options));
  const all = options.header === false ? rows : [HISTORY_COLUMNS, ...rows];
  const widths = HISTORY_COLUMNS.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd(),
  );
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** `90s`, `15m`, `2h`, `1d` (a bare number is seconds) → ms; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 's'] as number;
  const ms = Number(match[1]) * unit;
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

export interface HistoryFilter {
  last?: number;
  /** Entries at or after this epoch ms. */
  since?: number;
  event?: string;
}

export function filterHistory(
  entries: readonly StoredHistoryEntry[],
  filter: HistoryFilter,
): StoredHistoryEntry[] {
  const kept = entries.filter(
    (e) =>
      (filter.since === undefined || entryTime(e) >= filter.since) &&
      (filter.event === undefined || e.event === filter.event),
  );
  return filter.last === undefined ? kept : kept.slice(-filter.last);
}
