import { describe, expect, it } from 'vitest';
import {
  doctorDialectFor,
  mariadbDoctorDialect,
  mysqlDoctorDialect,
  quoteIdentifier,
  utcDatetimeMs,
} from '../../../src/mysql/doctor-dialect.js';

describe('MariaDB (verified on 10.11.19)', () => {
  it('reads values and origins from information_schema.SYSTEM_VARIABLES', () => {
    const sql = mariadbDoctorDialect.variablesSql();
    expect(sql).toMatch(
      /^SELECT VARIABLE_NAME AS name, GLOBAL_VALUE AS value, GLOBAL_VALUE_ORIGIN AS origin FROM information_schema\.SYSTEM_VARIABLES WHERE VARIABLE_NAME IN \(/,
    );
    for (const v of [
      'READ_ONLY',
      'GTID_STRICT_MODE',
      'LOG_SLAVE_UPDATES',
      'SLAVE_NET_TIMEOUT',
      'EVENT_SCHEDULER',
    ])
      expect(sql).toContain(`'${v}'`);
  });

  it('parses the rows a lab master answered', () => {
    // As a1 answered after `lab up` (read_only opened with SET GLOBAL; log_bin compiled in).
    const rows = [
      ['BINLOG_FORMAT', 'ROW', 'CONFIG'],
      ['EVENT_SCHEDULER', 'ON', 'SQL'],
      ['LOG_SLAVE_UPDATES', 'ON', 'CONFIG'],
      ['SLAVE_NET_TIMEOUT', '4', 'CONFIG'],
      ['AUTO_INCREMENT_OFFSET', '1', 'CONFIG'],
      ['SERVER_ID', '11', 'CONFIG'],
      ['GTID_DOMAIN_ID', '1', 'CONFIG'],
      ['GTID_STRICT_MODE', 'ON', 'CONFIG'],
      ['AUTO_INCREMENT_INCREMENT', '2', 'CONFIG'],
      ['READ_ONLY', 'OFF', 'SQL'],
      ['LOG_BIN', 'ON', 'COMPILE-TIME'],
    ].map(([name, value, origin]) => ({ name, value, origin }));
    expect(mariadbDoctorDialect.parseVariables(rows)).toEqual({
      serverId: 11,
      gtidDomainId: 1,
      gtidStrictMode: true,
      logBin: true,
      logReplicaUpdates: true,
      binlogFormat: 'ROW',
      readOnly: { value: false, origin: 'runtime' },
      autoIncrementIncrement: 2,
      autoIncrementOffset: 1,
      netTimeoutS: 4,
      eventScheduler: 'ON',
    });
  });

  it('maps every origin MariaDB names', () => {
    const origin = (o: string) =>
      mariadbDoctorDialect.parseVariables([{ name: 'READ_ONLY', value: 'ON', origin: o }]).readOnly?.origin;
    expect(['CONFIG', 'COMMAND-LINE', 'SQL', 'COMPILE-TIME', 'AUTO', 'ENVIRONMENT'].map(origin)).toEqual([
      'config',
      'command-line',
      'runtime',
      'default',
      'default',
      'unknown',
    ]);
  });

  it('reads the replica-status columns baton’s probe does not', () => {
    expect(
      mariadbDoctorDialect.replicaDetails({
        Connection_name: '',
        Using_Gtid: 'Slave_Pos',
        Slave_heartbeat_period: '1.000',
      }),
    ).toEqual({ name: '', usesGtid: true, gtidMode: 'Slave_Pos', heartbeatPeriodS: 1 });
    expect(mariadbDoctorDialect.replicaDetails({ Using_Gtid: 'No' })).toMatchObject({
      usesGtid: false,
      gtidMode: 'No',
    });
  });

  it('enables a role to read its grants, and drops it again', () => {
    expect(mariadbDoctorDialect.grantsWithRoleSql('ro`admin')).toEqual([
      'SET ROLE `ro``admin`',
      'SHOW GRANTS',
      'SET ROLE NONE',
    ]);
  });
});

describe('MySQL 8 (from the manual; not run against a server)', () => {
  it('joins performance_schema values with their sources', () => {
    const sql = mysqlDoctorDialect.variablesSql();
    expect(sql).toContain('FROM performance_schema.global_variables AS g');
    expect(sql).toContain(
      'LEFT JOIN performance_schema.variables_info AS i ON i.VARIABLE_NAME = g.VARIABLE_NAME',
    );
    for (const v of [
      'SUPER_READ_ONLY',
      'LOG_REPLICA_UPDATES',
      'REPLICA_NET_TIMEOUT',
      'GTID_MODE',
      'SERVER_UUID',
    ])
      expect(sql).toContain(`'${v}'`);
  });

  it('parses values, preferring the 8.0.26 names, and maps the sources', () => {
    const settings = mysqlDoctorDialect.parseVariables([
      { name: 'server_uuid', value: '3e11fa47-71ca-11e1-9e33-c80aa9429562', origin: 'COMPILED' },
      { name: 'gtid_mode', value: 'ON', origin: 'GLOBAL' },
      { name: 'enforce_gtid_consistency', value: 'ON', origin: 'GLOBAL' },
      { name: 'log_replica_updates', value: 'ON', origin: 'COMPILED' },
      { name: 'log_slave_updates', value: 'OFF', origin: 'COMPILED' },
      { name: 'read_only', value: 'ON', origin: 'PERSISTED' },
      { name: 'super_read_only', value: 'ON', origin: 'DYNAMIC' },
      { name: 'replica_net_timeout', value: '10', origin: 'COMMAND_LINE' },
    ]);
    expect(settings).toEqual({
      serverUuid: '3e11fa47-71ca-11e1-9e33-c80aa9429562',
      gtidMode: 'ON',
      enforceGtidConsistency: 'ON',
      logReplicaUpdates: true,
      readOnly: { value: true, origin: 'config' },
      superReadOnly: { value: true, origin: 'runtime' },
      netTimeoutS: 10,
    });
  });

  it('expands a role with USING, and reads Auto_Position and Channel_Name', () => {
    expect(mysqlDoctorDialect.grantsWithRoleSql('dba')).toEqual([
      'SHOW GRANTS FOR CURRENT_USER() USING `dba`',
    ]);
    expect(mysqlDoctorDialect.replicaDetails({ Channel_Name: '', Auto_Position: 1 })).toEqual({
      name: '',
      usesGtid: true,
      gtidMode: 'auto-position',
    });
  });

  it('names its own variables in fixes', () => {
    expect(doctorDialectFor('mysql')).toMatchObject({
      netTimeoutVariable: 'replica_net_timeout',
      readOnlyVariable: 'super_read_only',
    });
    expect(doctorDialectFor('mariadb')).toMatchObject({
      netTimeoutVariable: 'slave_net_timeout',
      readOnlyVariable: 'read_only',
    });
  });
});

describe('utcDatetimeMs', () => {
  it('reads DATETIME(6) text as UTC, to the microsecond', () => {
    expect(utcDatetimeMs('2026-12-05 06:21:38.311975')).toBe(Date.UTC(2026, 11, 5, 6, 21, 38) + 311.975);
    expect(utcDatetimeMs('2026-12-05 06:21:38')).toBe(Date.UTC(2026, 11, 5, 6, 21, 38));
    expect(utcDatetimeMs('not a time')).toBeNaN();
    expect(quoteIdentifier('a`b')).toBe('`a``b`');
  });
});
