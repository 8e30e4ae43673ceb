import { describe, expect, it } from 'vitest';
import { clientConnectionsToKill, type ProcessRow } from '../../../src/mysql/processlist.js';

describe('clientConnectionsToKill', () => {
  const rows: ProcessRow[] = [
    { id: 1, user: 'system user', command: 'Slave_IO' },
    { id: 2, user: 'system user', command: 'Slave_SQL' },
    { id: 3, user: 'repl', command: 'Binlog Dump' },
    { id: 4, user: 'repl', command: 'Binlog Dump GTID' },
    { id: 5, user: 'event_scheduler', command: 'Daemon' },
    { id: 6, user: 'baton', command: 'Query' }, // ourselves
    { id: 7, user: 'baton', command: 'Sleep' }, // another coordinator's probe
    { id: 8, user: 'app', command: 'Sleep' },
    { id: 9, user: 'app', command: 'Query' },
    { id: 10, user: 'report', command: 'Query' },
    { id: 11, user: 'app', command: 'Killed' },
    { id: 12, user: 'system user', command: 'Connect' }, // MySQL applier threads
  ];

  it('kills client connections only', () => {
    expect(clientConnectionsToKill(rows, { protectedThreadIds: [6], protectedUsers: ['baton'] })).toEqual([
      8, 9, 10,
    ]);
  });

  it('never kills our own connections even without a protected user', () => {
    expect(clientConnectionsToKill(rows, { protectedThreadIds: [6], protectedUsers: [] })).toEqual([
      7, 8, 9, 10,
    ]);
    expect(clientConnectionsToKill(rows, { protectedThreadIds: [6, 8], protectedUsers: [] })).toEqual([
      7, 9, 10,
    ]);
  });

  it('honours extra protected users, case-insensitively', () => {
    expect(
      clientConnectionsToKill(rows, { protectedThreadIds: [6], protectedUsers: ['BATON', 'Report'] }),
    ).toEqual([8, 9]);
  });
});
