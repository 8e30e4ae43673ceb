/**
 * The value of /baton/<cluster>/intents/<id>, read back. The CLI writes well-formed intents, but
 * anyone with write access to the prefix can put anything there by hand (`etcdctl put`), and the
 * leader acts on what it reads: a string "false" where acceptDataLoss wants a boolean is truthy.
 * So every intent is checked field by field, bounded like the config (issue 15), and one that
 * fails becomes an InvalidIntent naming each bad field by its path, which the leader marks
 * failed (core/intents.ts) instead of skipping it every cycle.
 */

import { z } from 'zod';
import { REASON_CODES, type Intent, type InvalidIntent, type IntentStatus } from '../core/index.js';
import { CONTROL_CHARACTERS, formatPath, oneLine, valueAt } from '../problem-text.js';

/** Far above any intent the CLI writes (a few hundred bytes); checked before parsing. */
export const MAX_INTENT_CHARS = 64 * 1024;
/** Bad fields named in an InvalidIntent's problem; the rest are counted. */
const MAX_PROBLEMS_NAMED = 5;
/** An InvalidIntent's problem, and an outcome's message, are cut to this. */
export const MAX_INTENT_MESSAGE_CHARS = 1_000;

const OPERATOR_KINDS = ['pin', 'unpin', 'switchover', 'failover', 'rejoin'] as const;

const noControlCharacters = (s: string) => !CONTROL_CHARACTERS.test(s);
const text = (max: number) =>
  z
    .string({ error: `expected a string of at most ${max} characters` })
    .max(max, `expected a string of at most ${max} characters`)
    .refine(noControlCharacters, 'expected no control characters');
/** The CLI's ids are `<UTC time>-<6 hex>`; the simulation's `op-<n>`. */
const id = z
  .string({ error: 'expected an id' })
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'expected an id of letters, digits, ".", "_", ":" or "-" (max 128)');
/** A node as the config names it. */
const node = z
  .string({ error: 'expected a node name' })
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    'expected a node name of lowercase letters, digits, "-" or "_" (max 63)',
  );
/** Wall-clock ms, within what a Date can hold. */
const wallMs = z
  .number({ error: 'expected wall-clock milliseconds (an integer)' })
  .int('expected wall-clock milliseconds (an integer)')
  .min(0, 'expected wall-clock milliseconds (an integer)')
  .max(8.64e15, 'expected wall-clock milliseconds (an integer)');
const status = z.enum(['pending', 'in-progress', 'done', 'failed'], {
  error: 'expected pending, in-progress, done or failed',
});

const base = {
  id,
  by: text(256).min(1, 'expected who asked (user@host)'),
  at: wallMs,
  status,
  reason: text(MAX_INTENT_MESSAGE_CHARS).optional(),
  outcome: z
    .object({
      reason: z.enum(REASON_CODES, { error: 'expected a reason code' }),
      message: text(MAX_INTENT_MESSAGE_CHARS),
      at: wallMs,
    })
    .strict()
    .optional(),
};

const intentSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ ...base, kind: z.literal('pin'), node: node.optional() }).strict(),
    z.object({ ...base, kind: z.literal('unpin') }).strict(),
    z.object({ ...base, kind: z.literal('switchover'), target: node.optional() }).strict(),
    z
      .object({
        ...base,
        kind: z.literal('failover'),
        target: node.optional(),
        acceptDataLoss: z.boolean({ error: 'expected true or false' }),
      })
      .strict(),
    z.object({ ...base, kind: z.literal('rejoin'), node }).strict(),
    // As the leader stores an invalid intent it marked failed, so that it reads back as itself.
    z.object({ ...base, kind: z.literal('invalid'), problem: text(MAX_INTENT_MESSAGE_CHARS) }).strict(),
  ],
  { error: `expected kind ${OPERATOR_KINDS.join(', ')}` },
);

export interface IntentProblem {
  path: string;
  message: string;
}

/** An intent as stored, or the problems that make it one baton cannot act on. */
export type IntentReading =
  { intent: Intent; problems?: undefined } | { intent: InvalidIntent; problems: IntentProblem[] };

/**
 * Reads the intent stored at `key`. Never throws: a value that is not a valid intent comes back
 * as an InvalidIntent (with the problems), pending unless it says it is done or failed already,
 * so that a resolved record is not answered twice.
 */
export function readIntentRecord(key: string, value: string): IntentReading {
  const keyId = key.slice(key.lastIndexOf('/') + 1);
  if (value.length > MAX_INTENT_CHARS) {
    return invalid(keyId, undefined, [
      { path: '', message: `${value.length} characters, more than an intent may have (${MAX_INTENT_CHARS})` },
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch (error) {
    // Only where: V8's message quotes the text around the error, which is no business of a log.
    const message = error instanceof Error ? error.message : '';
    const position = /at position (\d+)/.exec(message)?.[1];
    const where = position
      ? ` at position ${position}`
      : /Unexpected end/.test(message)
        ? ' (cut short)'
        : '';
    return invalid(keyId, undefined, [{ path: '', message: `not JSON${where}` }]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const got = raw === null ? 'null' : Array.isArray(raw) ? 'a list' : `a ${typeof raw}`;
    return invalid(keyId, raw, [{ path: '', message: `expected a JSON object, got ${got}` }]);
  }
  const parsed = intentSchema.safeParse(raw);
  if (!parsed.success)
    return invalid(
      keyId,
      raw,
      parsed.error.issues.map((issue) => problemOf(issue, raw)),
    );
  // The leader writes its answer under the id the value names: one that is not its own key's
  // would put the answer beside it and leave this one pending for ever.
  if (parsed.data.id !== keyId) {
    return invalid(keyId, raw, [
      { path: 'id', message: `expected "${oneLine(keyId, 128)}", the last part of its key` },
    ]);
  }
  return { intent: parsed.data as Intent };
}

function problemOf(issue: z.core.$ZodIssue, raw: unknown): IntentProblem {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const names = issue.keys.map((k) =>
      /^[A-Za-z0-9_.-]{1,60}$/.test(k) ? k : JSON.stringify(oneLine(k, 60)),
    );
    return { path, message: `unknown field(s): ${names.join(', ')}` };
  }
  if (issue.code === 'invalid_type' && issue.path.length > 0 && valueAt(raw, issue.path) === undefined)
    return { path, message: 'required' };
  return { path, message: issue.message };
}

/**
 * An InvalidIntent under the key's own id, keeping what can be kept of who asked and when, so
 * that history and `baton status` still say something true.
 */
function invalid(keyId: string, raw: unknown, problems: IntentProblem[]): IntentReading {
  const fields =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const by = base.by.safeParse(fields.by);
  const at = wallMs.safeParse(fields.at);
  const outcome = base.outcome.safeParse(fields.outcome);
  const stored = status.safeParse(fields.status);
  const resolved: IntentStatus | undefined =
    stored.success && (stored.data === 'done' || stored.data === 'failed') ? stored.data : undefined;
  const named = problems.slice(0, MAX_PROBLEMS_NAMED).map((p) => `${p.path || '(top level)'}: ${p.message}`);
  if (problems.length > named.length) named.push(`and ${problems.length - named.length} more`);
  const intent: InvalidIntent = {
    id: keyId,
    kind: 'invalid',
    by: by.success ? by.data : 'unknown',
    at: at.success ? at.data : 0,
    status: resolved ?? 'pending',
    problem: oneLine(named.join('; '), MAX_INTENT_MESSAGE_CHARS),
  };
  if (outcome.success && outcome.data) intent.outcome = outcome.data;
  return { intent, problems };
}
