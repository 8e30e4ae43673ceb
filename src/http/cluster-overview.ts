/**
 * One cluster as the web view draws it (issue 14), built on the coordinator from the cluster
 * state it already holds, with the same derivations `baton status` and `baton history` use: the
 * server rows (server-table.ts), the readable history lines (history-format.ts), the timeline
 * markers (history-timeline.ts) and the diagram's geometry (topology-diagram.ts). The page's
 * script only paints what this says, so nothing is worded twice. Pure: the clock, the time zone
 * and what the coordinator knows come in as arguments.
 */
import type { ClusterState } from '../ops/cluster-state.js';
import {
  HISTORY_COLUMNS,
  historyColumns,
  localTime,
  type StoredHistoryEntry,
} from '../ops/history-format.js';
import {
  timelineKind,
  timelineMarkers,
  type TimelineKind,
  type TimelineMarker,
} from '../ops/history-timeline.js';
import { SERVER_COLUMNS, serverRows, type ServerRole, type ServerState } from '../ops/server-table.js';
import type { ClusterLayout } from './cluster-layout.js';
import { topologyDiagram, type TopologyDiagram } from './topology-diagram.js';

/** The timeline covers this much, ending now. */
export const TIMELINE_WINDOW_MS = 3_600_000;
/** The history table shows the newest entries, up to this many (`baton history` has them all). */
export const HISTORY_ROWS = 100;
/** At most this many markers on the timeline (history-timeline.ts says which are kept). */
export const TIMELINE_MARKERS = 300;

/** A writer record as far as this coordinator knows it (the watch's newest may lack nothing, the loop's has no since/reason). */
export interface KnownWriter {
  node: string;
  epoch: number;
  since?: number;
  reason?: string;
}

export interface OverviewInput {
  state: ClusterState;
  /** Why `state` is an older read: the read for this request failed. */
  readError?: string;
  layout: ClusterLayout;
  /** The newest writer record this coordinator knows (it may be newer than `state`'s). */
  writer?: KnownWriter;
  /** The coordinator answering. */
  coordinator: string;
  /** How old `state` is. */
  stateAgeMs: number;
  /** This coordinator's own session. */
  session: { valid: boolean; leaseLeftMs: number; isLeader: boolean };
  /** Wall-clock ms: the timeline's right edge and the cooldown's reference. */
  wallNow: number;
  /** IANA zone for times; undefined: the coordinator's. */
  timeZone?: string;
}

export interface OverviewServer {
  name: string;
  colo: string;
  role: ServerRole;
  state: ServerState;
  /** `baton status`'s cells, in SERVER_COLUMNS order. */
  cells: string[];
  /** Why it is marked: its quarantine, the replication error it stopped on. */
  notes: string[];
}

export interface ClusterOverview {
  cluster: string;
  answeredBy: string;
  /** Wall-clock ms when the coordinator built this answer. */
  generatedAt: number;
  stateAgeMs: number;
  /** Why the state is older than a refresh period: this request's read of etcd failed. */
  readError: string | null;
  revision: number;
  leader: { coordinator: string; thisCoordinator: boolean; leaseLeftMs?: number } | null;
  session: { valid: boolean; leaseLeftMs: number };
  writer: (KnownWriter & { sinceText?: string }) | null;
  policy: string;
  pin: { node: string | null; by: string; reason: string; message?: string } | null;
  antiFlap: {
    cooldownLeftMs: number;
    failoversInWindow: number;
    budget: { count: number; windowMs: number };
    lastSkip: { reason: string; since: number } | null;
  };
  operation: { kind: string; from: string | null; to: string; step: string; epoch: number } | null;
  serverColumns: string[];
  servers: OverviewServer[];
  diagram: TopologyDiagram;
  timeline: { from: number; to: number; markers: TimelineMarker[] };
  historyColumns: string[];
  /** Newest first: `baton history`'s lines, each with its timeline kind (the row's colour). */
  history: { kind: TimelineKind; cells: string[] }[];
}

interface AntiFlapLike {
  cooldownUntil?: number;
  failoverTimes?: number[];
  lastSkip?: { reason: string; since: number };
}

interface OperationLike {
  kind: string;
  from?: string;
  to: string;
  step: string;
  epoch: number;
}

interface QuarantineLike {
  status?: string;
  errantGtids?: string;
}

interface ReplicaHealthLike {
  broken?: Record<string, { thread?: string; errno?: number; message?: string }>;
  diverging?: Record<string, { errantGtids?: string }>;
}

/** The records as stored: another version may have written them, so every field is checked. */
function serverNotes(state: ClusterState, node: string): string[] {
  const notes: string[] = [];
  const quarantine = ((state.quarantine ?? {}) as Record<string, QuarantineLike | undefined>)[node];
  if (quarantine)
    notes.push(
      `quarantined (${quarantine.status ?? '?'})${quarantine.errantGtids ? `: errant ${quarantine.errantGtids}` : ''}`,
    );
  const health = (state.replicas ?? {}) as ReplicaHealthLike;
  const broken = health.broken?.[node];
  if (broken)
    notes.push(
      `replication ${broken.thread ?? '?'} thread stopped, error ${broken.errno ?? '?'}: ${broken.message ?? ''}`.trim(),
    );
  const diverging = health.diverging?.[node];
  if (diverging) notes.push(`holds ${diverging.errantGtids ?? '?'} the writer lacks`);
  return notes;
}

/** Colos in config order; in each, the candidate masters first (the layout never follows the writer). */
function colosOf(layout: ClusterLayout): { name: string; servers: string[] }[] {
  const colos = new Map<string, string[]>();
  const ordered = [
    ...layout.nodes.filter((n) => n.role === 'candidate'),
    ...layout.nodes.filter((n) => n.role !== 'candidate'),
  ];
  for (const colo of layout.nodes.map((n) => n.colo)) colos.set(colo, []);
  for (const node of ordered) colos.get(node.colo)?.push(node.name);
  return [...colos].map(([name, servers]) => ({ name, servers }));
}

function newestWriter(state: ClusterState, known: KnownWriter | undefined): KnownWriter | undefined {
  if (!known || (state.writer && state.writer.epoch >= known.epoch)) return state.writer;
  return known;
}

/**
 * The coordinator's own loop is fresher than the background read about its own leadership (it
 * is what the coordinator acts on), and only the leader can tell how long its lease is provable.
 */
function leaderOf(input: OverviewInput): ClusterOverview['leader'] {
  if (input.session.isLeader)
    return {
      coordinator: input.coordinator,
      thisCoordinator: true,
      leaseLeftMs: Math.round(input.session.leaseLeftMs),
    };
  const named = input.state.leader?.coordinator;
  return named === undefined ? null : { coordinator: named, thisCoordinator: named === input.coordinator };
}

export function buildClusterOverview(input: OverviewInput): ClusterOverview {
  const { state, layout, wallNow, timeZone } = input;
  const writer = newestWriter(state, input.writer);
  const rows = serverRows(state, layout.nodes, writer ? { writer: writer.node } : {});
  const colo = new Map(layout.nodes.map((n) => [n.name, n.colo]));
  const antiFlap = (state.cooldown ?? {}) as AntiFlapLike;
  const operation = state.operation as OperationLike | undefined;
  const history = state.history as StoredHistoryEntry[];
  const window = { from: wallNow - TIMELINE_WINDOW_MS, to: wallNow };
  return {
    cluster: state.cluster,
    answeredBy: input.coordinator,
    generatedAt: wallNow,
    stateAgeMs: Math.round(input.stateAgeMs),
    readError: input.readError ?? null,
    revision: state.revision,
    leader: leaderOf(input),
    session: { valid: input.session.valid, leaseLeftMs: Math.round(input.session.leaseLeftMs) },
    writer: writer
      ? {
          ...writer,
          ...(writer.since !== undefined ? { sinceText: localTime(writer.since, timeZone) } : {}),
        }
      : null,
    policy: layout.policy,
    pin: state.pin
      ? {
          node: state.pin.node ?? null,
          by: state.pin.by,
          reason: state.pin.reason,
          ...(state.pin.message !== undefined ? { message: state.pin.message } : {}),
        }
      : null,
    antiFlap: {
      cooldownLeftMs: Math.max(0, (antiFlap.cooldownUntil ?? wallNow) - wallNow),
      failoversInWindow: (antiFlap.failoverTimes ?? []).filter(
        (t) => t > wallNow - layout.failoverBudget.windowMs,
      ).length,
      budget: layout.failoverBudget,
      lastSkip: antiFlap.lastSkip ?? null,
    },
    operation: operation
      ? {
          kind: operation.kind,
          from: operation.from ?? null,
          to: operation.to,
          step: operation.step,
          epoch: operation.epoch,
        }
      : null,
    serverColumns: SERVER_COLUMNS,
    servers: rows.map((row) => ({
      name: row.name,
      colo: colo.get(row.name) ?? '-',
      role: row.role,
      state: row.state,
      cells: row.cells,
      notes: serverNotes(state, row.name),
    })),
    diagram: topologyDiagram(
      colosOf(layout),
      rows.flatMap((row) => row.sources.map((s) => ({ from: s.node, to: row.name, running: s.running }))),
    ),
    timeline: {
      ...window,
      markers: timelineMarkers(history, window, { timeZone, limit: TIMELINE_MARKERS }),
    },
    historyColumns: HISTORY_COLUMNS,
    history: history
      .slice(-HISTORY_ROWS)
      .reverse()
      .map((entry) => ({ kind: timelineKind(entry), cells: historyColumns(entry, { timeZone }) })),
  };
}

/** Whether Intl knows the zone (a browser sends its own; a bad one is the caller's mistake, a 400). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
