/**
 * History entries as markers on a time strip (the web view's "last hour", issue 14): what kind
 * of moment each entry was, where it sits in the window, and a short label. The full readable
 * line stays with each marker (history-format.ts), so a marker never says less than
 * `baton history`. Pure: the window and the time zone are parameters.
 */
import { entryTime, historyColumns, type StoredHistoryEntry } from './history-format.js';

/**
 * - `writer-change`: a promote that gave the cluster a writer (failover, switchover, bootstrap);
 * - `fence`: a server was closed (guardian self-fence, a stale writable node);
 * - `skip`: a failover the leader decided not to make, and why;
 * - `blip`: a disturbance that ended with the writer where it was: a failover called off because
 *   the writer answered again (`operation-aborted`), or the writer reopened at a new epoch after
 *   its guardian fenced it through a cut (`writer-reopen`);
 * - `other`: the rest of the audit trail (pins, quarantine, hooks, replication).
 */
export type TimelineKind = 'writer-change' | 'fence' | 'skip' | 'blip' | 'other';

export interface TimelineMarker {
  /** Wall-clock ms. */
  at: number;
  kind: TimelineKind;
  /** A few words for beside the marker: `a1→b1 e4`, `fence a1`, `skip: no-quorum`. */
  label: string;
  /** The entry's readable line, the columns of `baton history`. */
  line: string[];
}

export interface TimelineWindow {
  /** Wall-clock ms, inclusive. */
  from: number;
  to: number;
}

export function timelineKind(entry: StoredHistoryEntry): TimelineKind {
  if (entry.reason === 'writer-reopen' || entry.reason === 'operation-aborted') return 'blip';
  switch (entry.event) {
    case 'promote':
      return 'writer-change';
    case 'fence':
      return 'fence';
    case 'skip':
      return 'skip';
    default:
      return 'other';
  }
}

function label(entry: StoredHistoryEntry, kind: TimelineKind): string {
  const node = entry.node ?? '';
  switch (kind) {
    case 'writer-change':
      return `${entry.from !== undefined ? `${entry.from}→` : ''}${node} e${entry.epoch}`;
    case 'fence':
      return `fence ${node}`.trim();
    case 'skip':
      return `skip: ${entry.reason}`;
    case 'blip':
      return entry.reason === 'writer-reopen'
        ? `reopen ${node} e${entry.epoch}`
        : `${entry.operationKind ?? 'operation'} called off`;
    case 'other':
      return `${entry.event} ${node}`.trim();
  }
}

/**
 * The entries inside the window, oldest first, as markers. With `limit`, at most that many:
 * every writer change, fence, skip and blip before any other entry, the newest first within
 * each group (a strip a thousand pixels wide cannot show more apart anyway, and each marker's
 * line costs the coordinator a formatting).
 */
export function timelineMarkers(
  entries: readonly StoredHistoryEntry[],
  window: TimelineWindow,
  options: { timeZone?: string; limit?: number } = {},
): TimelineMarker[] {
  const inWindow = entries
    .filter((entry) => entryTime(entry) >= window.from && entryTime(entry) <= window.to)
    .map((entry) => ({ entry, kind: timelineKind(entry) }));
  const kept =
    options.limit === undefined || inWindow.length <= options.limit
      ? inWindow
      : [...inWindow]
          .sort(
            (x, y) =>
              Number(x.kind === 'other') - Number(y.kind === 'other') ||
              entryTime(y.entry) - entryTime(x.entry),
          )
          .slice(0, options.limit);
  return kept
    .sort((x, y) => entryTime(x.entry) - entryTime(y.entry))
    .map(({ entry, kind }) => ({
      at: entryTime(entry),
      kind,
      label: label(entry, kind),
      line: historyColumns(entry, { timeZone: options.timeZone }),
    }));
}
