import { describe, expect, it } from 'vitest';
import {
  containsGtidSet,
  countGtids,
  emptyGtidSet,
  equalGtidSets,
  errantTransactions,
  formatGtidSet,
  GtidParseError,
  intersectGtidSets,
  isEmptyGtidSet,
  missingTransactions,
  parseGtidSet,
  subtractGtidSets,
  unionGtidSets,
  type GtidSet,
} from '../../../src/core/gtid.js';
import type { Flavor } from '../../../src/core/topology.js';
import { prng, type Prng } from './prng.js';

const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const U2 = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const maria = (s: string): GtidSet => parseGtidSet(s, 'mariadb');
const mysql = (s: string): GtidSet => parseGtidSet(s, 'mysql');

describe('gtid parse/format', () => {
  it.each([
    ['mariadb', '0-1-100', '0-1-100'],
    ['mariadb', '0-1-100,1-2-50', '0-1-100,1-2-50'],
    ['mariadb', ' 1-2-50 , 0-1-100 ', '0-1-100,1-2-50'],
    ['mariadb', '', ''],
    ['mariadb', '0-1-0', ''],
    ['mariadb', '0-1-5..10,0-1-20..30', '0-1-5..10,0-1-20..30'],
    ['mariadb', '0-1-1..10', '0-1-10'],
    ['mysql', `${U1}:1-5:7-9`, `${U1}:1-5:7-9`],
    ['mysql', `${U2}:1-3,\n${U1.toUpperCase()}:1-5:6`, `${U1}:1-6,${U2}:1-3`],
    ['mysql', `${U1}:7`, `${U1}:7`],
    ['mysql', `${U1}:1-3:batch:1-2`, `${U1}:1-3,${U1}:batch:1-2`],
    ['mysql', '', ''],
  ] as const)('%s %j formats as %j', (flavor, input, expected) => {
    expect(formatGtidSet(parseGtidSet(input, flavor))).toBe(expected);
  });

  it('keeps the server id of the highest seq per MariaDB domain', () => {
    expect(formatGtidSet(maria('0-1-100,0-2-150'))).toBe('0-2-150');
    expect(formatGtidSet(unionGtidSets(maria('0-1-100'), maria('0-7-120')))).toBe('0-7-120');
    expect(formatGtidSet(unionGtidSets(maria('0-1-130'), maria('0-7-120')))).toBe('0-1-130');
  });

  it.each([
    ['mariadb', '0-1'],
    ['mariadb', '0-1-x'],
    ['mariadb', '0-1-10..5'],
    ['mariadb', '0-1-99999999999999999999'],
    ['mysql', 'not-a-uuid:1-5'],
    ['mysql', `${U1}`],
    ['mysql', `${U1}:5-3`],
    ['mysql', `${U1}:0`],
    ['mysql', `${U1}:1-x`],
  ] as const)('rejects %s %j with a GtidParseError naming the input', (flavor, input) => {
    expect(() => parseGtidSet(input, flavor)).toThrow(GtidParseError);
    expect(() => parseGtidSet(input, flavor)).toThrow(/gtid: /);
  });

  it('refuses to combine flavours', () => {
    expect(() => unionGtidSets(maria('0-1-1'), mysql(`${U1}:1`))).toThrow(/cannot combine/);
  });
});

describe('gtid algebra examples', () => {
  it('subtracts into non-prefix MariaDB ranges and back', () => {
    const d = subtractGtidSets(maria('0-1-150,1-2-10'), maria('0-1-100'));
    expect(formatGtidSet(d)).toBe('0-1-101..150,1-2-10');
    expect(formatGtidSet(unionGtidSets(d, maria('0-1-100')))).toBe('0-1-150,1-2-10');
  });

  it('contains, equals, isEmpty', () => {
    expect(containsGtidSet(mysql(`${U1}:1-10`), mysql(`${U1}:2-4:6`))).toBe(true);
    expect(containsGtidSet(mysql(`${U1}:1-10`), mysql(`${U1}:2-11`))).toBe(false);
    expect(containsGtidSet(mysql(`${U1}:1-10`), mysql(`${U2}:1`))).toBe(false);
    expect(equalGtidSets(mysql(`${U1}:1-3:4-5`), mysql(`${U1}:1-5`))).toBe(true);
    expect(isEmptyGtidSet(emptyGtidSet('mysql'))).toBe(true);
    expect(isEmptyGtidSet(subtractGtidSets(maria('0-1-5'), maria('0-2-9')))).toBe(true);
    expect(countGtids(mysql(`${U1}:1-5:7-9,${U2}:1`))).toBe(9);
  });
});

describe('co-master comparisons', () => {
  it.each([
    {
      name: 'clean standby: nothing extra',
      node: '1-1-100,2-2-40',
      writer: '1-1-120,2-2-40',
      retrieved: '',
      errant: '',
      missing: '1-1-101..120',
    },
    {
      name: 'ex-writer wrote what the new writer never got',
      node: '1-1-110,2-2-40',
      writer: '1-1-100,2-2-45',
      retrieved: '1-1-100',
      errant: '1-1-101..110',
      missing: '2-2-41..45',
    },
    {
      name: 'what the writer already received is lag, not errant',
      node: '1-1-110,2-2-40',
      writer: '1-1-100,2-2-40',
      retrieved: '1-1-110',
      errant: '',
      missing: '',
    },
    {
      name: 'a write on the standby in its own domain is errant',
      node: '1-1-100,2-2-40,3-3-2',
      writer: '1-1-100,2-2-40',
      retrieved: '1-1-100',
      errant: '3-3-2',
      missing: '',
    },
  ])('$name', ({ node, writer, retrieved, errant, missing }) => {
    const n = { executed: maria(node) };
    const w = { executed: maria(writer), retrieved: maria(retrieved) };
    expect(formatGtidSet(errantTransactions(n, w))).toBe(errant);
    expect(formatGtidSet(missingTransactions(n, w))).toBe(missing);
  });

  it('mysql: errant ignores the writer relay log contents', () => {
    const n = { executed: mysql(`${U1}:1-10,${U2}:1-3`) };
    const w = { executed: mysql(`${U1}:1-8`), retrieved: mysql(`${U1}:1-10`) };
    expect(formatGtidSet(errantTransactions(n, w))).toBe(`${U2}:1-3`);
  });
});

// ---------------------------------------------------------------------------------------
// Properties against a brute-force model: a set of "key#seq" strings.

function randomSet(r: Prng, flavor: Flavor): GtidSet {
  const parts: string[] = [];
  const keyCount = r.int(0, 3);
  for (let k = 0; k < keyCount; k++) {
    const intervals = r.int(1, 3);
    for (let i = 0; i < intervals; i++) {
      const start = r.int(1, 40);
      const end = start + r.int(0, 15);
      if (flavor === 'mariadb') {
        const domain = r.pick(['0', '1', '2', '10']);
        parts.push(
          r.next() < 0.3 ? `${domain}-${r.int(1, 9)}-${end}` : `${domain}-${r.int(1, 9)}-${start}..${end}`,
        );
      } else {
        const uuid = r.pick([U1, U2, '00000000-0000-0000-0000-000000000001']);
        parts.push(`${uuid}:${start === end ? start : `${start}-${end}`}`);
      }
    }
  }
  return parseGtidSet(parts.join(','), flavor);
}

function model(set: GtidSet): Set<string> {
  const out = new Set<string>();
  for (const [key, intervals] of set.intervals) {
    for (const iv of intervals) for (let s = iv.start; s <= iv.end; s++) out.add(`${key}#${s}`);
  }
  return out;
}

const sorted = (s: Set<string>): string[] => [...s].sort();

describe.each(['mariadb', 'mysql'] as const)('gtid properties (%s)', (flavor) => {
  const SEEDS = 300;

  it('union, subtract, intersect agree with the set model', () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = prng(seed);
      const a = randomSet(r, flavor);
      const b = randomSet(r, flavor);
      const ma = model(a);
      const mb = model(b);
      const ctx = `seed ${seed}: A=${formatGtidSet(a)} B=${formatGtidSet(b)}`;
      expect(sorted(model(unionGtidSets(a, b))), ctx).toEqual(sorted(new Set([...ma, ...mb])));
      expect(sorted(model(subtractGtidSets(a, b))), ctx).toEqual(
        sorted(new Set([...ma].filter((x) => !mb.has(x)))),
      );
      expect(sorted(model(intersectGtidSets(a, b))), ctx).toEqual(
        sorted(new Set([...ma].filter((x) => mb.has(x)))),
      );
      expect(containsGtidSet(a, b), ctx).toBe([...mb].every((x) => ma.has(x)));
    }
  });

  it('algebraic laws hold', () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = prng(seed * 7919);
      const a = randomSet(r, flavor);
      const b = randomSet(r, flavor);
      const c = randomSet(r, flavor);
      const ab = unionGtidSets(a, b);
      const ctx = `seed ${seed}: A=${formatGtidSet(a)} B=${formatGtidSet(b)} C=${formatGtidSet(c)}`;
      expect(containsGtidSet(ab, a), ctx).toBe(true);
      expect(containsGtidSet(ab, b), ctx).toBe(true);
      expect(equalGtidSets(ab, unionGtidSets(b, a)), ctx).toBe(true);
      expect(isEmptyGtidSet(intersectGtidSets(subtractGtidSets(a, b), b)), ctx).toBe(true);
      expect(equalGtidSets(unionGtidSets(subtractGtidSets(a, b), intersectGtidSets(a, b)), a), ctx).toBe(
        true,
      );
      expect(isEmptyGtidSet(subtractGtidSets(a, a)), ctx).toBe(true);
      expect(equalGtidSets(unionGtidSets(ab, c), unionGtidSets(a, unionGtidSets(b, c))), ctx).toBe(true);
      expect(containsGtidSet(a, b), ctx).toBe(equalGtidSets(ab, a));
      expect(countGtids(ab), ctx).toBe(countGtids(a) + countGtids(b) - countGtids(intersectGtidSets(a, b)));
      // errant ⊆ node.executed and disjoint from everything the writer has or received
      const errant = errantTransactions({ executed: a }, { executed: b, retrieved: c });
      expect(containsGtidSet(a, errant), ctx).toBe(true);
      expect(isEmptyGtidSet(intersectGtidSets(errant, unionGtidSets(b, c))), ctx).toBe(true);
    }
  });

  it('format(parse(x)) round-trips', () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const a = randomSet(prng(seed * 31), flavor);
      const text = formatGtidSet(a);
      const again = parseGtidSet(text, flavor);
      expect(formatGtidSet(again), `seed ${seed}`).toBe(text);
      expect(equalGtidSets(again, a), `seed ${seed}`).toBe(true);
    }
  });
});
