import { describe, expect, it } from 'vitest';
import { DeadlineExceededError, ServerDownError } from '../../../src/coordinator/ports.js';
import {
  DatabaseAuthError,
  DatabasePrivilegeError,
  DatabaseQueryError,
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
