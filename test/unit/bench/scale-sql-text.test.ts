import { describe, expect, it } from 'vitest';
import { heartbeatLagColumn } from '../../../src/mysql/heartbeat.js';
import { mariadbDialect, probeSql } from '../../../src/mysql/dialect.js';
import {
  formatPosition,
  laterOf,
  parsePosition,
  parseSelect,
  reached,
  splitStatements,
  withoutStatementLimit,
} from '../../../bench/scale/sql-text.js';

describe('splitStatements', () => {
  it("splits baton's probe into its three statements and keeps quoted semicolons", () => {
    expect(splitStatements(probeSql(mariadbDialect, 150, true))).toHaveLength(3);
    expect(splitStatements("SELECT 'a;b' AS x; SHOW PROCESSLIST;")).toEqual([
      "SELECT 'a;b' AS x",
      'SHOW PROCESSLIST',
    ]);
  });
});

describe('withoutStatementLimit', () => {
  it('drops MariaDB’s per-statement limit, so the probe text is the same every time', () => {
    const [a] = splitStatements(probeSql(mariadbDialect, 150, false));
    const [b] = splitStatements(probeSql(mariadbDialect, 37, false));
    expect(withoutStatementLimit(a as string)).toBe(withoutStatementLimit(b as string));
    expect(withoutStatementLimit(a as string)).toMatch(/^SELECT @@global\.read_only AS readOnly/);
  });
});

describe('parseSelect', () => {
  it('takes the probe’s variables apart, the heartbeat subquery as one item', () => {
    const [first] = splitStatements(probeSql(mariadbDialect, 150, true));
    const parsed = parseSelect(withoutStatementLimit(first as string));
    expect(parsed?.from).toBeUndefined();
    expect(parsed?.items.map((i) => i.column)).toEqual([
      'readOnly',
      'executedGtids',
      'binlogGtids',
      'serverId',
      'version',
      'eventScheduler',
      'gtidSource',
      'lagUs',
    ]);
    expect(parsed?.items.at(-1)?.expression).toBe(heartbeatLagColumn.replace(/ AS lagUs$/, ''));
  });

  it('finds the top-level FROM, not the one inside a subquery', () => {
    const parsed = parseSelect(
      'SELECT MAX(x) AS m, (SELECT 1 FROM t) AS s FROM (SELECT x FROM u) AS v WHERE x > 0',
    );
    expect(parsed?.items.map((i) => i.column)).toEqual(['m', 's']);
    expect(parsed?.from).toBe('(SELECT x FROM u) AS v WHERE x > 0');
  });

  it('is undefined for anything but a SELECT', () => {
    expect(parseSelect('SHOW ALL SLAVES STATUS')).toBeUndefined();
  });
});

describe('GTID positions', () => {
  it('round-trips MariaDB’s format with domains in order', () => {
    expect(formatPosition(parsePosition('2-21-5, 1-11-100'))).toBe('1-11-100,2-21-5');
    expect(formatPosition(parsePosition(''))).toBe('');
  });

  it('takes the later GTID per domain', () => {
    expect(
      formatPosition(laterOf(parsePosition('1-11-100,2-21-5'), parsePosition('1-11-90,2-22-7,3-3-1'))),
    ).toBe('1-11-100,2-22-7,3-3-1');
  });

  it('has reached a position only when every wanted domain is there', () => {
    const have = parsePosition('1-11-100,2-21-5');
    expect(reached(have, parsePosition('1-11-100'))).toBe(true);
    expect(reached(have, parsePosition('1-11-100,2-21-6'))).toBe(false);
    expect(reached(have, parsePosition('9-9-1'))).toBe(false);
    expect(reached(have, parsePosition(''))).toBe(true);
  });
});
