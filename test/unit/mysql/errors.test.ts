import { describe, expect, it } from 'vitest';
import { DeadlineExceededError, ServerDownError } from '../../../src/coordinator/ports.js';
import {
  DatabaseAuthError,
  DatabasePrivilegeError,
  DatabaseQueryError,
  DatabaseTlsError,
  DatabaseUnavailableError,
  isRetryableDatabaseError,
  toDatabaseError,
} from '../../../src/mysql/errors.js';

describe('toDatabaseError', () => {
  const cases: Array<[string, object, new (...args: never[]) => Error, boolean]> = [
    [
      'refused',
      { code: 'ECONNREFUSED', errno: -111, message: 'connect ECONNREFUSED' },
      ServerDownError,
      true,
    ],
    [
      'lost',
      { code: 'PROTOCOL_CONNECTION_LOST', fatal: true, message: 'lost' },
      DatabaseUnavailableError,
      true,
    ],
    [
      'too many',
      { code: 'ER_CON_COUNT_ERROR', errno: 1040, message: 'Too many connections' },
      DatabaseUnavailableError,
      true,
    ],
    [
      'bad password',
      { code: 'ER_ACCESS_DENIED_ERROR', errno: 1045, message: 'Access denied' },
      DatabaseAuthError,
      false,
    ],
    [
      'privilege',
      { code: 'ER_SPECIFIC_ACCESS_DENIED_ERROR', errno: 1227, message: 'need SUPER' },
      DatabasePrivilegeError,
      false,
    ],
    // MariaDB-only errors come with code undefined: matched on errno.
    [
      'mariadb statement timeout',
      { errno: 1969, message: 'max_statement_time exceeded' },
      DatabaseQueryError,
      true,
    ],
    [
      'lock wait',
      { code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205, message: 'Lock wait timeout' },
      DatabaseQueryError,
      true,
    ],
    [
      'read only',
      { code: 'ER_OPTION_PREVENTS_STATEMENT', errno: 1290, message: '--read-only' },
      DatabaseQueryError,
      false,
    ],
  ];
  for (const [name, raw, expected, retryable] of cases) {
    it(`${name} -> ${expected.name}`, () => {
      const converted = toDatabaseError(raw, 'probe a1');
      expect(converted).toBeInstanceOf(expected);
      expect(converted.message).toMatch(/^probe a1: /);
      expect(isRetryableDatabaseError(converted)).toBe(retryable);
    });
  }

  it('keeps the server errno for callers that branch on it', () => {
    expect(
      (
        toDatabaseError(
          { errno: 1146, message: "Table 'baton.heartbeat' doesn't exist" },
          'x',
        ) as DatabaseQueryError
      ).errno,
    ).toBe(1146);
  });

  it('passes deadline errors through and marks them retryable', () => {
    const err = new DeadlineExceededError('late');
    expect(toDatabaseError(err, 'x')).toBe(err);
    expect(isRetryableDatabaseError(err)).toBe(true);
  });
});

describe('a missing privilege is named, with the GRANT that fixes it', () => {
  const context = { user: 'baton', account: 'baton@10.0.%', flavor: 'mariadb' as const };
  it.each([
    [
      'MariaDB 1227 (SUPER is never advised)',
      1227,
      'Access denied; you need (at least one of) the SUPER, REPLICATION SLAVE ADMIN privilege(s) for this operation',
      "baton's MySQL account lacks REPLICATION SLAVE ADMIN on *.*: GRANT REPLICATION SLAVE ADMIN ON *.* TO 'baton'@'10.0.%'",
    ],
    [
      'MySQL 1227',
      1227,
      'Access denied; you need (at least one of) the SUPER or SYSTEM_VARIABLES_ADMIN privilege(s) for this operation',
      "baton's MySQL account lacks SYSTEM_VARIABLES_ADMIN on *.*: GRANT SYSTEM_VARIABLES_ADMIN ON *.* TO 'baton'@'10.0.%'",
    ],
    [
      '1142 on a table',
      1142,
      "UPDATE command denied to user 'baton'@'10.0.0.7' for table `baton`.`heartbeat`",
      "baton's MySQL account lacks UPDATE on baton.*: GRANT UPDATE ON baton.* TO 'baton'@'10.0.%'",
    ],
    [
      '1095 (names no privilege)',
      1095,
      'You are not owner of thread 55',
      "baton's MySQL account lacks CONNECTION ADMIN on *.*: GRANT CONNECTION ADMIN ON *.* TO 'baton'@'10.0.%'",
    ],
  ])('%s', (_name, errno, message, line) => {
    const converted = toDatabaseError({ errno, message }, 'fence a1', context);
    expect(converted).toBeInstanceOf(DatabasePrivilegeError);
    expect(converted.message).toBe(`fence a1: ${line}`);
  });

  it('without the account, the user name alone (the account at any host)', () => {
    expect(
      toDatabaseError({ errno: 1095, message: 'You are not owner of thread 5' }, 'x', { user: 'b' }).message,
    ).toBe("x: baton's MySQL account lacks CONNECTION ADMIN on *.*: GRANT CONNECTION ADMIN ON *.* TO 'b'");
    expect(
      toDatabaseError({ errno: 1095, message: 'You are not owner of thread 5' }, 'x', { flavor: 'mysql' })
        .message,
    ).toContain('lacks CONNECTION_ADMIN on *.*');
  });

  it('a refusal it cannot read keeps the server text', () => {
    expect(
      toDatabaseError({ errno: 1044, message: "Access denied for user 'b'@'%' to database 'x'" }, 'y')
        .message,
    ).toBe("y: missing privilege (Access denied for user 'b'@'%' to database 'x')");
  });
});

describe('a failed TLS upgrade is one line naming the setting', () => {
  it.each([
    [
      { code: 'HANDSHAKE_NO_SSL_SUPPORT', message: 'Server does not support secure connection' },
      /does not offer TLS/,
    ],
    [
      { code: 'HANDSHAKE_SSL_ERROR', message: 'self-signed certificate in certificate chain' },
      /not signed by clusters\[\]\.tls\.caFile/,
    ],
    [
      {
        code: 'HANDSHAKE_SSL_ERROR',
        message:
          "Hostname/IP does not match certificate's altnames: IP: 10.0.0.9 is not in the cert's list: 10.0.0.1",
      },
      /does not name 10\.0\.0\.9 in its subjectAltName/,
    ],
    [
      { code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', message: 'ssl3_read_bytes:tlsv1 alert unknown ca' },
      /refused our client certificate/,
    ],
    [{ code: 'HANDSHAKE_SSL_ERROR', message: 'certificate has expired' }, /outside its validity period/],
  ])('%o', (raw, line) => {
    const converted = toDatabaseError(raw, 'connect 10.0.0.9:3306', { host: '10.0.0.9' });
    expect(converted).toBeInstanceOf(DatabaseTlsError);
    expect(converted.message).toMatch(line);
    expect(isRetryableDatabaseError(converted)).toBe(false);
  });
});
