import { describe, expect, it } from 'vitest';
import {
  holds,
  mergeGrantSets,
  parseShowGrants,
  readOnlyBypasses,
  reviewBatonGrants,
} from '../../../src/doctor/grants.js';
import { APP_GRANT_LINES, BATON_GRANT_LINES } from './fixtures.js';

describe('parseShowGrants', () => {
  it("reads MariaDB 10.11's lines for the lab's accounts, keeping no hash", () => {
    const baton = parseShowGrants(BATON_GRANT_LINES, 'mariadb');
    expect(baton.grants).toEqual([
      { privilege: 'PROCESS', on: '*.*' },
      { privilege: 'CONNECTION ADMIN', on: '*.*' },
      { privilege: 'READ_ONLY ADMIN', on: '*.*' },
      { privilege: 'REPLICATION SLAVE ADMIN', on: '*.*' },
      { privilege: 'SLAVE MONITOR', on: '*.*' },
      ...['SELECT', 'INSERT', 'UPDATE', 'CREATE', 'ALTER', 'EVENT'].map((privilege) => ({
        privilege,
        on: 'baton.*',
      })),
    ]);
    expect(baton.withGrantOption).toBe(false);
    const app = parseShowGrants(APP_GRANT_LINES, 'mariadb');
    expect(app.grants.map((g) => `${g.privilege} ${g.on}`)).toEqual([
      'SELECT app.*',
      'INSERT app.*',
      'UPDATE app.*',
      'DELETE app.*',
    ]);
    expect(JSON.stringify([baton, app])).not.toMatch(/PASSWORD|\*244B|\*89ED/);
  });

  it("reads roles: MariaDB's current role's grants go to the role, role grants to the list", () => {
    const set = parseShowGrants(
      [
        'GRANT `ro_admin` TO `app`@`%`',
        "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*89ED'",
        'GRANT READ_ONLY ADMIN ON *.* TO `ro_admin`',
        'SET DEFAULT ROLE `ro_admin` FOR `app`@`%`',
      ],
      'mariadb',
    );
    expect(set.roles).toEqual(['ro_admin']);
    expect(set.grants).toEqual([{ privilege: 'READ_ONLY ADMIN', on: '*.*', grantee: '`ro_admin`' }]);
  });

  it("reads MySQL 8's lines: dynamic privileges without spaces, roles with hosts", () => {
    const set = parseShowGrants(
      [
        'GRANT SELECT, RELOAD ON *.* TO `u`@`%`',
        'GRANT CONNECTION_ADMIN,SYSTEM_VARIABLES_ADMIN ON *.* TO `u`@`%`',
        'GRANT `dba`@`%`,`reader`@`%` TO `u`@`%`',
        'REVOKE INSERT ON `mysql`.* FROM `u`@`%`',
      ],
      'mysql',
    );
    expect(set.grants.map((g) => g.privilege)).toEqual([
      'SELECT',
      'RELOAD',
      'CONNECTION_ADMIN',
      'SYSTEM_VARIABLES_ADMIN',
    ]);
    expect(set.grants.every((g) => g.grantee === undefined)).toBe(true);
    expect(set.roles).toEqual(['dba', 'reader']);
  });

  it('normalises aliases, drops column privileges, reads objects and WITH GRANT OPTION', () => {
    const set = parseShowGrants(
      [
        'GRANT READ ONLY ADMIN, REPLICATION CLIENT ON *.* TO `b`@`%` WITH GRANT OPTION',
        'GRANT SELECT (`id`, `ts`), UPDATE ON `baton`.`heartbeat` TO `b`@`%`',
        'GRANT EXECUTE ON PROCEDURE `db`.`p` TO `b`@`%`',
        "GRANT PROXY ON ''@'%' TO 'b'@'%'",
        'GRANT ALL ON `we``ird`.* TO `b`@`%`',
      ],
      'mariadb',
    );
    expect(set.grants).toEqual([
      { privilege: 'READ_ONLY ADMIN', on: '*.*' },
      { privilege: 'BINLOG MONITOR', on: '*.*' },
      { privilege: 'UPDATE', on: 'baton.heartbeat' },
      { privilege: 'EXECUTE', on: 'other' },
      { privilege: 'PROXY', on: 'other' },
      { privilege: 'ALL PRIVILEGES', on: 'we`ird.*' },
    ]);
    expect(set.withGrantOption).toBe(true);
    // REPLICATION CLIENT stays itself on MySQL, where it is what baton needs.
    expect(
      parseShowGrants(['GRANT REPLICATION CLIENT ON *.* TO `b`@`%`'], 'mysql').grants[0]?.privilege,
    ).toBe('REPLICATION CLIENT');
  });
});

describe('holds', () => {
  const set = parseShowGrants(
    [
      'GRANT PROCESS ON *.* TO `b`@`%`',
      'GRANT SELECT ON `baton`.* TO `b`@`%`',
      'GRANT UPDATE ON `baton`.`heartbeat` TO `b`@`%`',
    ],
    'mariadb',
  );
  it.each<[string, string, boolean]>([
    ['PROCESS', '*.*', true],
    ['SELECT', 'baton.heartbeat', true],
    ['UPDATE', 'baton.heartbeat', true],
    ['UPDATE', 'baton.other', false],
    ['SELECT', '*.*', false],
  ])('%s on %s: %s', (privilege, on, expected) => {
    expect(holds(set, privilege, on)).toBe(expected);
  });

  it('ALL PRIVILEGES on a wider object covers everything under it', () => {
    expect(holds(parseShowGrants(['GRANT ALL ON *.* TO `b`@`%`'], 'mariadb'), 'READ_ONLY ADMIN')).toBe(true);
  });
});

describe('readOnlyBypasses', () => {
  const grants = (line: string, flavor: 'mariadb' | 'mysql' = 'mariadb') =>
    parseShowGrants([line], flavor).grants;
  it.each<[string, 'mariadb' | 'mysql', string, string[]]>([
    ['GRANT READ_ONLY ADMIN ON *.* TO `a`@`%`', 'mariadb', '10.11.19-MariaDB', ['READ_ONLY ADMIN']],
    ['GRANT ALL PRIVILEGES ON *.* TO `a`@`%`', 'mariadb', '10.11.19-MariaDB', ['ALL PRIVILEGES']],
    ['GRANT SUPER ON *.* TO `a`@`%`', 'mariadb', '10.11.19-MariaDB', []],
    ['GRANT SUPER ON *.* TO `a`@`%`', 'mariadb', '10.6.18-MariaDB', ['SUPER']],
    ['GRANT ALL PRIVILEGES ON `app`.* TO `a`@`%`', 'mariadb', '10.11.19-MariaDB', []],
    ['GRANT CONNECTION_ADMIN ON *.* TO `a`@`%`', 'mysql', '8.0.36', ['CONNECTION_ADMIN']],
    ['GRANT SUPER ON *.* TO `a`@`%`', 'mysql', '8.4.0', ['SUPER']],
  ])('%s (%s %s)', (line, flavor, version, expected) => {
    expect(readOnlyBypasses(grants(line, flavor), flavor, version).map((g) => g.privilege)).toEqual(expected);
  });
});

describe('reviewBatonGrants', () => {
  it("passes the lab's grants", () => {
    expect(reviewBatonGrants(parseShowGrants(BATON_GRANT_LINES, 'mariadb'), 'mariadb')).toEqual({
      missing: [],
      missingOnSchema: [],
      extra: [],
    });
  });

  it('lists what is missing and what is more than needed', () => {
    const review = reviewBatonGrants(
      parseShowGrants(
        [
          'GRANT PROCESS, SUPER, SELECT ON *.* TO `b`@`%`',
          'GRANT SELECT, INSERT ON `baton`.* TO `b`@`%`',
          'GRANT DELETE ON `app`.`writes` TO `b`@`%`',
        ],
        'mariadb',
      ),
      'mariadb',
    );
    expect(review.missing).toEqual([
      'READ_ONLY ADMIN',
      'CONNECTION ADMIN',
      'SLAVE MONITOR',
      'REPLICATION SLAVE ADMIN',
    ]);
    expect(review.missingOnSchema).toEqual(['UPDATE', 'CREATE', 'ALTER', 'EVENT']);
    expect(review.extra.map((g) => `${g.privilege} ${g.on}`)).toEqual([
      'SUPER *.*',
      'SELECT *.*',
      'DELETE app.writes',
    ]);
  });

  it('MySQL needs its own names', () => {
    const review = reviewBatonGrants(parseShowGrants(['GRANT PROCESS ON *.* TO `b`@`%`'], 'mysql'), 'mysql');
    expect(review.missing).toEqual([
      'SYSTEM_VARIABLES_ADMIN',
      'CONNECTION_ADMIN',
      'REPLICATION CLIENT',
      'REPLICATION_SLAVE_ADMIN',
    ]);
  });
});

describe('mergeGrantSets', () => {
  it('keeps one of each grant, role and the grant option', () => {
    const a = parseShowGrants(['GRANT `r` TO `u`@`%`', 'GRANT SELECT ON *.* TO `u`@`%`'], 'mariadb');
    const b = parseShowGrants(
      [
        'GRANT `r` TO `u`@`%`',
        'GRANT SELECT ON *.* TO `u`@`%`',
        'GRANT PROCESS ON *.* TO `r` WITH GRANT OPTION',
      ],
      'mariadb',
    );
    expect(mergeGrantSets(a, b)).toEqual({
      grants: [
        { privilege: 'SELECT', on: '*.*' },
        { privilege: 'PROCESS', on: '*.*', grantee: '`r`' },
      ],
      roles: ['r'],
      withGrantOption: true,
    });
  });
});
