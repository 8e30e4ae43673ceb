import { describe, expect, it } from 'vitest';
import {
  detectFlavor,
  dialectFor,
  formatStatement,
  mariadbDialect,
  mariadbPendingGtids,
  parseSemiSync,
  mysqlDialect,
  probeSql,
} from '../../../src/mysql/dialect.js';
import { UnsupportedServerError } from '../../../src/mysql/errors.js';

describe('dialect detection', () => {
  it('tells MariaDB from MySQL by VERSION()', () => {
    expect(detectFlavor('10.11.19-MariaDB-0+deb12u1-log')).toBe('mariadb');
    expect(detectFlavor('8.4.3')).toBe('mysql');
    expect(dialectFor('10.6.18-MariaDB').flavor).toBe('mariadb');
    expect(dialectFor('8.0.36-0ubuntu0.22.04.1').flavor).toBe('mysql');
    expect(dialectFor('8.4.3').flavor).toBe('mysql');
  });

  it('refuses versions we cannot drive', () => {
    expect(() => dialectFor('10.5.9-MariaDB')).toThrow(UnsupportedServerError);
    expect(() => dialectFor('8.0.22')).toThrow(UnsupportedServerError);
    expect(() => dialectFor('5.7.44-log')).toThrow(/8\.0\.23/);
  });
});

describe('MariaDB SQL', () => {
  const d = mariadbDialect;
  it('reads gtid_current_pos and has no super_read_only', () => {
    expect(d.probeVariables()).toContain('@@global.gtid_current_pos');
    expect(d.probeVariables()).toContain('@@global.read_only');
    expect(d.fence()).toEqual(['SET GLOBAL read_only=ON']);
    expect(d.openWrites()).toEqual(['SET GLOBAL read_only=OFF']);
    expect(d.replicaStatus()).toBe('SHOW ALL SLAVES STATUS');
  });

  it('limits a SELECT server-side with max_statement_time in seconds', () => {
    expect(d.limitSelect('SELECT 1', 1500)).toBe('SET STATEMENT max_statement_time=1.500 FOR SELECT 1');
    // 0 would mean "no limit" to the server: never emit it, even when the deadline is spent.
    expect(d.limitSelect('SELECT 1', 0)).toBe('SET STATEMENT max_statement_time=0.001 FOR SELECT 1');
    expect(mysqlDialect.limitSelect('SELECT 1', 0)).toBe('SELECT /*+ MAX_EXECUTION_TIME(1) */ 1');
  });

  it('waits with MASTER_GTID_WAIT (0 = reached, -1 = timeout)', () => {
    const st = d.waitForGtids('1-11-5,2-21-7', 0.9);
    expect(formatStatement(st)).toBe("SELECT MASTER_GTID_WAIT('1-11-5,2-21-7', 0.9) AS waited");
    expect(d.waitSucceeded(0)).toBe(true);
    expect(d.waitSucceeded(-1)).toBe(false);
    expect(d.waitSucceeded('-1')).toBe(false);
  });

  it('repoints with GTID slave_pos, keeping credentials out of the statement text', () => {
    const st = d.changeSource({ host: '10.0.0.2', port: 3306 }, { user: 'repl', password: "s3'cret" });
    expect(st.sql).toBe(
      'CHANGE MASTER TO MASTER_HOST=?, MASTER_PORT=?, MASTER_USER=?, MASTER_PASSWORD=?, ' +
        'MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, DO_DOMAIN_IDS=(), IGNORE_DOMAIN_IDS=()',
    );
    expect(st.sql).not.toContain('s3');
    expect(st.secret).toBe(true);
    expect(formatStatement(st)).toContain("MASTER_PASSWORD='s3\\'cret'");
    expect(d.changeSource({ host: 'h', port: 1 }).sql).not.toContain('MASTER_USER');
    expect(d.stopReplication()).toBe('STOP SLAVE');
  });

  it('filters a catch-up by domain, and clears the filter on every other repoint', () => {
    expect(d.changeSource({ host: 'h', port: 1 }, undefined, ['2', '1']).sql).toContain(
      'DO_DOMAIN_IDS=(2,1), IGNORE_DOMAIN_IDS=()',
    );
    expect(d.changeSource({ host: 'h', port: 1 }).sql).toContain('DO_DOMAIN_IDS=()');
    expect(() =>
      d.changeSource({ host: 'h', port: 1 }, undefined, ['3E11FA47-71CA-11E1-9E33-C80AA9429562']),
    ).toThrow(/not a MariaDB domain id/);
    expect(d.startReplication()).toBe('START SLAVE');
  });

  it('parses SHOW ALL SLAVES STATUS rows (old column names)', () => {
    const status = d.parseReplicaStatus({
      Connection_name: '',
      Master_Host: '127.0.0.1',
      Master_Port: 33106,
      Slave_IO_Running: 'Connecting',
      Slave_SQL_Running: 'Yes',
      Gtid_IO_Pos: '1-11-42',
      Last_IO_Error: "error reconnecting to master 'repl@127.0.0.1:33106'",
      Last_SQL_Error: '',
      Seconds_Behind_Master: null,
    });
    expect(status).toEqual({
      sourceHost: '127.0.0.1',
      sourcePort: 33106,
      ioRunning: 'connecting',
      sqlRunning: true,
      retrievedGtids: '1-11-42',
      lastError: "error reconnecting to master 'repl@127.0.0.1:33106'",
    });
    expect(d.parseReplicaStatus({ Slave_IO_Running: 'Yes', Seconds_Behind_Master: '3' })).toMatchObject({
      ioRunning: 'yes',
      sqlRunning: false,
      secondsBehind: 3,
    });
  });

  it.each([
    {
      name: 'IO thread stopped on 1236 (source lacks our GTIDs): broken',
      row: {
        Slave_IO_Running: 'No',
        Slave_SQL_Running: 'Yes',
        Last_IO_Errno: 1236,
        Last_IO_Error: 'Got fatal error 1236',
      },
      error: { thread: 'io', errno: 1236, message: 'Got fatal error 1236' },
    },
    {
      name: 'SQL thread stopped on a duplicate key: broken',
      row: {
        Slave_IO_Running: 'Yes',
        Slave_SQL_Running: 'No',
        Last_SQL_Errno: '1062',
        Last_SQL_Error: 'Duplicate entry',
      },
      error: { thread: 'sql', errno: 1062, message: 'Duplicate entry' },
    },
    {
      name: 'IO thread reconnecting to a source that is away: not broken',
      row: {
        Slave_IO_Running: 'Connecting',
        Slave_SQL_Running: 'Yes',
        Last_IO_Errno: 2003,
        Last_IO_Error: "Can't connect",
      },
      error: undefined,
    },
    {
      name: 'stopped on purpose while reconnecting (STOP SLAVE keeps the IO error): not broken',
      row: {
        Slave_IO_Running: 'No',
        Slave_SQL_Running: 'No',
        Last_IO_Errno: 2013,
        Last_IO_Error: "error reconnecting to master 'repl@198.18.199.1:33006'",
        Last_SQL_Errno: 0,
      },
      error: undefined,
    },
    {
      name: 'stopped on purpose (STOP SLAVE, no error): not broken',
      row: { Slave_IO_Running: 'No', Slave_SQL_Running: 'No', Last_IO_Errno: 0, Last_SQL_Errno: 0 },
      error: undefined,
    },
  ])('$name', ({ row, error }) => {
    expect(d.parseReplicaStatus(row).error).toEqual(error);
  });
});

describe('MySQL 8.0.23+/8.4 SQL (not run against a server)', () => {
  const d = mysqlDialect;
  it('uses gtid_executed and super_read_only', () => {
    expect(d.probeVariables()).toContain('@@global.gtid_executed');
    expect(d.fence()).toEqual(['SET GLOBAL super_read_only=ON']);
    expect(d.openWrites()).toEqual(['SET GLOBAL super_read_only=OFF', 'SET GLOBAL read_only=OFF']);
  });

  it('avoids the SLAVE/MASTER syntax 8.4 removed', () => {
    const all = [
      d.replicaStatus(),
      d.stopReplication(),
      d.startReplication(),
      d.changeSource({ host: 'h', port: 3306 }, { user: 'u', password: 'p' }).sql,
    ].join(' ');
    expect(all).not.toMatch(/SLAVE|MASTER/);
    expect(d.changeSource({ host: 'h', port: 3306 }).sql).toBe(
      'CHANGE REPLICATION SOURCE TO SOURCE_HOST=?, SOURCE_PORT=?, SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=1',
    );
    expect(() => d.changeSource({ host: 'h', port: 3306 }, undefined, ['uuid'])).toThrow(
      /cannot replicate only/,
    );
  });

  it('limits a SELECT with the MAX_EXECUTION_TIME hint in ms', () => {
    expect(d.limitSelect('SELECT @@global.gtid_executed', 250)).toBe(
      'SELECT /*+ MAX_EXECUTION_TIME(250) */ @@global.gtid_executed',
    );
  });

  it('waits with WAIT_FOR_EXECUTED_GTID_SET (0 = reached, 1 = timeout)', () => {
    const st = d.waitForGtids('3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5', 2);
    expect(formatStatement(st)).toBe(
      "SELECT WAIT_FOR_EXECUTED_GTID_SET('3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5', 2) AS waited",
    );
    expect(d.waitSucceeded(0)).toBe(true);
    expect(d.waitSucceeded(1)).toBe(false);
  });

  it('parses SHOW REPLICA STATUS rows (new column names, multi-line GTID sets)', () => {
    expect(
      d.parseReplicaStatus({
        Source_Host: 'db-b1',
        Source_Port: 3306,
        Replica_IO_Running: 'Yes',
        Replica_SQL_Running: 'Yes',
        Retrieved_Gtid_Set: 'aaa:1-5,\nbbb:1-2',
        Last_IO_Error: '',
        Last_SQL_Error: '',
        Seconds_Behind_Source: 0,
      }),
    ).toEqual({
      sourceHost: 'db-b1',
      sourcePort: 3306,
      ioRunning: 'yes',
      sqlRunning: true,
      retrievedGtids: 'aaa:1-5,bbb:1-2',
      secondsBehind: 0,
    });
  });
});

describe('probe in one round trip', () => {
  it('MariaDB: limited variables (with the heartbeat lag once the table exists), then all channels, then semi-sync', () => {
    expect(probeSql(mariadbDialect, 150, true)).toBe(
      'SET STATEMENT max_statement_time=0.150 FOR SELECT @@global.read_only AS readOnly, ' +
        '@@global.gtid_current_pos AS executedGtids, @@global.gtid_binlog_pos AS binlogGtids, @@global.server_id AS serverId, VERSION() AS version, ' +
        '@@global.event_scheduler AS eventScheduler, @@global.gtid_domain_id AS gtidSource, (SELECT TIMESTAMPDIFF(MICROSECOND, MAX(ts), UTC_TIMESTAMP(6)) FROM baton.heartbeat) AS lagUs; ' +
        `SHOW ALL SLAVES STATUS; ${mariadbDialect.semiSyncStatus()}`,
    );
    expect(probeSql(mariadbDialect, 150, false)).toBe(
      `${mariadbDialect.limitSelect(mariadbDialect.probeVariables(), 150)}; SHOW ALL SLAVES STATUS; ${mariadbDialect.semiSyncStatus()}`,
    );
    // Semi-sync from the tables only: a boolean @@global reads 0 next to an aggregate on 10.11.
    expect(mariadbDialect.semiSyncStatus()).not.toContain('@@');
    expect(mariadbDialect.semiSyncStatus()).toContain('information_schema.GLOBAL_STATUS');
  });

  it('MySQL 8: the hint goes on the SELECT, replica status with the 8.4 syntax, semi-sync from performance_schema', () => {
    const sql = probeSql(mysqlDialect, 150, true);
    expect(sql).toMatch(/^SELECT \/\*\+ MAX_EXECUTION_TIME\(150\) \*\/ @@global\.read_only AS readOnly, /);
    expect(sql).toContain('@@global.gtid_executed AS executedGtids');
    expect(sql).toContain('FROM baton.heartbeat) AS lagUs; SHOW REPLICA STATUS');
    expect(sql).toContain('performance_schema.global_status');
    // No SLAVE/MASTER syntax (8.4 dropped it); variable names in string literals may keep it.
    expect(sql.replace(/'[^']*'/g, "''")).not.toMatch(/SLAVE|MASTER/);
    // Exactly three statements: the variables' result set, the channels', semi-sync's.
    expect(sql.split('; ')).toHaveLength(3);
  });

  it.each([
    {
      name: 'a master on semi-sync with one ACKer',
      row: {
        masterEnabled: 'ON',
        masterStatus: 'ON',
        clients: 1,
        noTx: 3,
        offTimes: 1,
        waitPoint: 'AFTER_SYNC',
        timeoutMs: 1000,
        slaveEnabled: 'ON',
      },
      state: {
        masterEnabled: true,
        masterOn: true,
        clients: 1,
        unackedCommits: 3,
        fallbacks: 1,
        waitPoint: 'AFTER_SYNC',
        timeoutMs: 1000,
        replicaEnabled: true,
      },
    },
    {
      name: 'fallen back to async',
      row: {
        masterEnabled: 'ON',
        masterStatus: 'OFF',
        clients: '0',
        noTx: '9',
        offTimes: '2',
        waitPoint: 'after_sync',
        timeoutMs: '1000',
        slaveEnabled: 'OFF',
      },
      state: {
        masterEnabled: true,
        masterOn: false,
        clients: 0,
        unackedCommits: 9,
        fallbacks: 2,
        waitPoint: 'AFTER_SYNC',
        timeoutMs: 1000,
        replicaEnabled: false,
      },
    },
    {
      name: 'not in use on either side',
      row: { masterEnabled: 'OFF', masterStatus: 'OFF', clients: 0, slaveEnabled: 'OFF' },
      state: undefined,
    },
  ])('reads semi-sync: $name', ({ row, state }) => {
    expect(parseSemiSync(row)).toEqual(state);
  });
});

describe('mariadbPendingGtids', () => {
  it('keeps only domains the current position has not reached', () => {
    expect(mariadbPendingGtids('1-11-10,2-21-5', '1-11-10,2-21-4')).toBe('2-21-5');
    expect(mariadbPendingGtids('1-11-10,2-21-5', '1-11-12,2-21-5,3-31-1')).toBe('');
    expect(mariadbPendingGtids('1-11-10', '')).toBe('1-11-10');
    expect(mariadbPendingGtids('', '1-11-10')).toBe('');
  });
});
