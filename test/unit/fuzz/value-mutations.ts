/**
 * Seeded mutations of a valid JSON-like document, for the fuzz tests of what people write by
 * hand: config files (test/unit/config/config-fuzz.test.ts) and intent values put into etcd
 * (test/unit/coordinator/intent-fuzz.test.ts). Each mutation breaks the document at one place,
 * its `path`, in a way no field of baton accepts: the test then asks that the rejection names
 * that place. Truncation is the exception: it breaks the text, not a value.
 */

import type { Prng } from '../../sim/prng.js';

export type DocPath = (string | number)[];

/** A value planted by mutations: the rejection must not echo it back. */
export const CANARY = 'CANARY-value-9f2c';

export type MutationKind =
  | 'wrong-type'
  | 'out-of-range'
  | 'long-string'
  | 'control-characters'
  | 'unknown-field'
  | 'deep-nesting'
  | 'huge-array';

export interface Mutation {
  kind: MutationKind;
  /** Where the document was broken. */
  path: DocPath;
  /** The document with the change; text to splice in where it holds DEEP_MARKER. */
  doc: unknown;
  /** Replaces DEEP_MARKER's quoted form in the serialized document (deep-nesting only). */
  splice?: string;
  describe: string;
}

/** Stands for text too deep to build as a value (a serializer would overflow first). */
export const DEEP_MARKER = 'DEEP-NESTING-MARKER';

interface Node {
  path: DocPath;
  value: unknown;
}

/** Every value in the document with its path, the root first. */
export function nodesOf(doc: unknown, path: DocPath = []): Node[] {
  const out: Node[] = [{ path, value: doc }];
  if (Array.isArray(doc)) doc.forEach((v, i) => out.push(...nodesOf(v, [...path, i])));
  else if (isObject(doc)) for (const [k, v] of Object.entries(doc)) out.push(...nodesOf(v, [...path, k]));
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A copy of `doc` with the value at `path` replaced (or changed by `change`). */
export function withValueAt(doc: unknown, path: DocPath, change: (old: unknown) => unknown): unknown {
  if (path.length === 0) return change(doc);
  const [head, ...rest] = path;
  if (Array.isArray(doc)) return doc.map((v, i) => (i === head ? withValueAt(v, rest, change) : v));
  if (isObject(doc)) {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc)) {
      // defineProperty: a key such as __proto__ must stay an own, enumerable key.
      Object.defineProperty(copy, k, {
        value: k === head ? withValueAt(v, rest, change) : v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return copy;
  }
  throw new Error(`no value at ${formatDocPath(path)}`);
}

/** clusters[0].nodes[2].port: the same form as the config's problems. */
export function formatDocPath(path: DocPath): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${key}` : key),
    '',
  );
}

function typeOf(value: unknown): 'number' | 'string' | 'boolean' | 'array' | 'object' | 'null' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as 'number' | 'string' | 'boolean' | 'object';
}

/** Values of other types than the one a field holds. */
const OTHER_TYPES: Record<ReturnType<typeof typeOf>, unknown[]> = {
  number: ['12', CANARY, true, null, [], {}],
  string: [42, -1, true, false, null, [CANARY], {}],
  boolean: ['yes', 'true', 1, 0, null, []],
  array: [{}, CANARY, 7, null, true],
  object: [[], CANARY, 7, null, true],
  null: [CANARY, 7, [], {}],
};

const OUT_OF_RANGE = [-1, 0.5, -0.5, 1e308, -1e308, 2 ** 53 + 1, 1e21, Number.NaN, Infinity, -Infinity];

const UNKNOWN_KEYS = ['extra', 'Name', 'password', '__proto__', 'constructor', '', 'a\nb', 'k'.repeat(1_000)];

/** One mutation of `doc`, at a place of a kind it applies to. */
export function mutate(rng: Prng, doc: unknown): Mutation {
  const nodes = nodesOf(doc);
  const inner = nodes.filter((n) => n.path.length > 0);
  const of = (t: ReturnType<typeof typeOf>, from = inner) => from.filter((n) => typeOf(n.value) === t);
  const kinds: [MutationKind, Node[]][] = [
    ['wrong-type', inner],
    ['out-of-range', of('number')],
    ['long-string', of('string')],
    ['control-characters', of('string')],
    ['unknown-field', of('object', nodes)],
    ['deep-nesting', inner],
    // Small entries only: a thousand copies of a whole cluster make a case cost a second.
    ['huge-array', of('array').filter((n) => smallFirstEntry(n.value as unknown[]))],
  ];
  const available = kinds.filter(([, at]) => at.length > 0);
  const [kind, candidates] = rng.pick(available);
  const { path, value } = rng.pick(candidates);
  const at = formatDocPath(path) || '(top level)';
  switch (kind) {
    case 'wrong-type': {
      const replacement = rng.pick(OTHER_TYPES[typeOf(value)]);
      return {
        kind,
        path,
        doc: withValueAt(doc, path, () => replacement),
        describe: `${at} = ${show(replacement)}`,
      };
    }
    case 'out-of-range': {
      const replacement = rng.pick(OUT_OF_RANGE);
      return {
        kind,
        path,
        doc: withValueAt(doc, path, () => replacement),
        describe: `${at} = ${replacement}`,
      };
    }
    case 'long-string': {
      const length = rng.pick([5_000, 100_000]);
      const replacement = rng.pick(['x', 'ab ', '9']).repeat(length).slice(0, length);
      return {
        kind,
        path,
        doc: withValueAt(doc, path, () => replacement),
        describe: `${at} = ${length} characters`,
      };
    }
    case 'control-characters': {
      const old = value as string;
      const char = rng.pick(['\n', '\r', '\t', '\u0000', '\u001b', '\u007f']);
      const cut = rng.int(0, old.length);
      const replacement = `${old.slice(0, cut)}${char}${old.slice(cut)}`;
      return {
        kind,
        path,
        doc: withValueAt(doc, path, () => replacement),
        describe: `${at} = ${JSON.stringify(replacement)}`,
      };
    }
    case 'unknown-field': {
      const key = rng.pick(UNKNOWN_KEYS);
      const changed = withValueAt(doc, path, (old) => {
        const copy = withValueAt(old, [], (o) => ({ ...(o as object) })) as Record<string, unknown>;
        Object.defineProperty(copy, key, {
          value: CANARY,
          enumerable: true,
          writable: true,
          configurable: true,
        });
        return copy;
      });
      return { kind, path, doc: changed, describe: `${at} gets field ${show(key)}` };
    }
    case 'deep-nesting': {
      // The YAML parser's stack gives out near 800 levels (each overflow costs about 40 ms).
      const depth = rng.pick([64, 300, 2_000]);
      const splice = rng.chance(0.5)
        ? '['.repeat(depth) + ']'.repeat(depth)
        : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      return {
        kind,
        path,
        doc: withValueAt(doc, path, () => DEEP_MARKER),
        splice,
        describe: `${at} = ${depth} levels of ${splice[0] === '[' ? 'lists' : 'objects'}`,
      };
    }
    case 'huge-array': {
      const first = (value as unknown[])[0];
      // Above every list's bound (the config's longest is 1,000 clusters, which are not small).
      const length = rng.pick([100, 100, 1_001]);
      return {
        kind,
        path,
        // Copies, not one shared value: YAML would write a shared one as an alias.
        doc: withValueAt(doc, path, () => Array.from({ length }, () => structuredClone(first))),
        describe: `${at} has ${length} entries`,
      };
    }
  }
}

/** The document as text, with a deep-nesting splice in place. */
export function serialize(mutation: Mutation, stringify: (doc: unknown) => string): string {
  const text = stringify(mutation.doc);
  if (mutation.splice === undefined) return text;
  // JSON and YAML both write the marker as a plain or quoted scalar: replace either form.
  return text.replace(`"${DEEP_MARKER}"`, mutation.splice).replace(DEEP_MARKER, mutation.splice);
}

function smallFirstEntry(list: unknown[]): boolean {
  return list.length > 0 && JSON.stringify(list[0]).length <= 200;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** How many cases a fuzz test runs: FUZZ_CASES=N for a longer search than CI's. */
export function fuzzCases(fallback: number): number {
  const asked = Number(process.env.FUZZ_CASES ?? fallback);
  if (!Number.isSafeInteger(asked) || asked < 1) throw new Error(`FUZZ_CASES must be a positive integer`);
  return asked;
}

/** The seed a fuzz test runs with: FUZZ_SEED=N to replay, FUZZ_SEED=random to explore. */
export function fuzzSeed(fallback: number): number {
  const asked = process.env.FUZZ_SEED;
  if (asked === undefined || asked === '') return fallback;
  if (asked === 'random') return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(asked);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer or "random", not ${asked}`);
  return seed;
}
