/**
 * The JSON values stored under /baton/<cluster>/ and how they are read back. Decoding is
 * defensive: a value another version wrote, or an operator edited, must not crash the loop; it
 * is reported as unreadable instead.
 */

import type {
  AntiFlapState,
  FencedWriter,
  HistoryEntry,
  Intent,
  NodeObservation,
  OperationJournal,
  PinRecord,
  QuarantineRecord,
  ReplicaHealth,
  WriterHold,
  WriterRecord,
} from '../core/index.js';
import { readIntentRecord } from './intent-record.js';

/**
 * The guardian's promise (core WriterHold, invariant 4): it will not reopen `node` at `epoch`,
 * and saw it read-only (`fenced`, `operation`) or not running (`dead`). Published with its
 * report; the leader's loop promotes away from a writer whose guardian is alive only against
 * such a hold, and compares the report's revision in the same txn (promotion-guard.ts).
 */
export type { WriterHold };

/** Value of /baton/<cluster>/observations/<coordinator> (lease-bound to its session). */
export interface PublishedReport {
  coordinator: string;
  colo: string;
  /** The observer's monotonic clock (informational only). */
  publishedAt: number;
  nodes: NodeObservation[];
}

/**
 * Value of /baton/<cluster>/guardians/<coordinator> (lease-bound to the same session as its
 * report): the guardian's promises for its colo's writer. Apart from the report because a
 * promotion's txn compares this key's revision (promotion-guard.ts): the report changes with
 * every verdict and refresh, and across a WAN a commit that compared it never landed (issue 11:
 * ten aborted commits in a row at 60 ms one-way), while the promises change rarely. Its
 * presence is what tells the leader the guardian is alive.
 */
export interface GuardianRecord {
  coordinator: string;
  colo: string;
  fencedWriter?: FencedWriter;
  holding?: WriterHold;
}

/** Value of /baton/<cluster>/history/<epoch>-<seq>: the core entry plus wall-clock time. */
export interface StoredHistoryEntry extends HistoryEntry {
  wallAt: number;
  coordinator: string;
}

export class UnreadableRecordError extends Error {
  override name = 'UnreadableRecordError';
}

function parseObject(key: string, value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new UnreadableRecordError(`${key}: not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UnreadableRecordError(`${key}: not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

export function decodeWriter(key: string, value: string): WriterRecord {
  const o = parseObject(key, value);
  if (typeof o.node !== 'string' || typeof o.epoch !== 'number' || !Number.isSafeInteger(o.epoch)) {
    throw new UnreadableRecordError(`${key}: writer record needs a string node and an integer epoch`);
  }
  return o as unknown as WriterRecord;
}

export function decodePin(key: string, value: string): PinRecord {
  const o = parseObject(key, value);
  if (typeof o.by !== 'string') throw new UnreadableRecordError(`${key}: pin needs "by"`);
  return o as unknown as PinRecord;
}

export function decodeAntiFlap(key: string, value: string): AntiFlapState {
  const o = parseObject(key, value);
  if (!Array.isArray(o.failoverTimes))
    throw new UnreadableRecordError(`${key}: cooldown needs failoverTimes`);
  return o as unknown as AntiFlapState;
}

export function decodeOperation(key: string, value: string): OperationJournal {
  const o = parseObject(key, value);
  if (typeof o.id !== 'string' || typeof o.step !== 'string' || typeof o.to !== 'string') {
    throw new UnreadableRecordError(`${key}: operation journal needs id, step and to`);
  }
  return o as unknown as OperationJournal;
}

export function decodeReplicaHealth(key: string, value: string): ReplicaHealth {
  const o = parseObject(key, value);
  if (
    typeof o.broken !== 'object' ||
    o.broken === null ||
    typeof o.diverging !== 'object' ||
    o.diverging === null
  )
    throw new UnreadableRecordError(`${key}: replica health needs broken and diverging`);
  return o as unknown as ReplicaHealth;
}

export function decodeQuarantine(key: string, value: string): Record<string, QuarantineRecord> {
  return parseObject(key, value) as unknown as Record<string, QuarantineRecord>;
}

/**
 * Never throws: a value that is not a valid intent reads as an InvalidIntent, which the leader
 * marks failed with its problems (intent-record.ts), rather than as unreadable, which it would
 * skip and log every cycle for ever.
 */
export function decodeIntent(key: string, value: string): Intent {
  return readIntentRecord(key, value).intent;
}

export function decodeReport(key: string, value: string): PublishedReport {
  const o = parseObject(key, value);
  if (typeof o.coordinator !== 'string' || !Array.isArray(o.nodes)) {
    throw new UnreadableRecordError(`${key}: report needs coordinator and nodes`);
  }
  return o as unknown as PublishedReport;
}

export function decodeGuardian(key: string, value: string): GuardianRecord {
  const o = parseObject(key, value);
  if (typeof o.coordinator !== 'string')
    throw new UnreadableRecordError(`${key}: guardian record needs coordinator`);
  return o as unknown as GuardianRecord;
}

export function encode(value: unknown): string {
  return JSON.stringify(value);
}
