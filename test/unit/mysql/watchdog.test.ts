import { describe, expect, it } from 'vitest';
import { heartbeatStamp } from '../../../src/mysql/heartbeat.js';
import { watchdogInstallScript, watchdogInstallSql, watchdogState } from '../../../src/mysql/watchdog.js';

describe('heartbeat stamp with a watchdog hold', () => {
  it('guarded: writes only on a writable server; the deadline only ever moves later', () => {
    const { sql, values } = heartbeatStamp(7, { holdMs: 1600.4 }, true);
    expect(sql).toContain('WHERE @@global.read_only = 0 ');
    expect(sql).toContain(
      'fence_after = GREATEST(COALESCE(fence_after, UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND), UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND)',
    );
    expect(values).toEqual([7, 1600400, 1600400, 1600400]);
    expect(sql.split('?').length - 1).toBe(values?.length);
  });

  it('unguarded (before opening writes) has no read_only condition', () => {
    expect(heartbeatStamp(7, { holdMs: 500 }, false).sql).not.toContain('read_only');
  });
});

describe('watchdog event', () => {
  it.each([
    ['ON', 'ENABLED', 'armed'],
    ['on', 'ENABLED', 'armed'],
    ['OFF', 'ENABLED', 'scheduler-off'],
    ['DISABLED', 'ENABLED', 'scheduler-off'],
    ['ON', null, 'event-missing'],
    ['ON', 'SLAVESIDE_DISABLED', 'event-disabled'],
    ['ON', 'DISABLED', 'event-disabled'],
  ])('scheduler %s, event %s → %s', (scheduler, status, state) => {
    expect(watchdogState(scheduler, status)).toBe(state);
  });

  it('is installed outside the binlog; MySQL closes with super_read_only', () => {
    const maria = watchdogInstallSql('mariadb', "'baton'@'%'");
    expect(maria[0]).toBe('SET SESSION sql_log_bin = 0');
    const create = maria.find((s) => s.startsWith('CREATE DEFINER'));
    expect(create).toContain(
      "CREATE DEFINER = 'baton'@'%' EVENT IF NOT EXISTS baton.watchdog ON SCHEDULE EVERY 1 SECOND",
    );
    expect(create).toContain('DO BEGIN SET SESSION lock_wait_timeout = 2; IF @@global.read_only = 0');
    expect(create).toContain('THEN SET GLOBAL read_only = ON; END IF; END');
    expect(watchdogInstallSql('mysql', "'baton'@'%'").join('\n')).toContain(
      'SET GLOBAL super_read_only = ON',
    );
  });

  it('keeps baton as the definer when it enables the event (ALTER EVENT makes its runner the definer)', () => {
    expect(watchdogInstallSql('mariadb', "'baton'@'%'")).toContain(
      "ALTER DEFINER = 'baton'@'%' EVENT baton.watchdog ENABLE",
    );
  });

  it('as a script for the command-line client, the event body goes between DELIMITER lines', () => {
    const lines = watchdogInstallScript('mariadb', "'baton'@'%'").split('\n');
    expect(lines[0]).toBe('SET SESSION sql_log_bin = 0;');
    const create = lines.findIndex((l) => l.startsWith('CREATE DEFINER'));
    expect(lines[create - 1]).toBe('DELIMITER //');
    expect(lines[create]).toMatch(/END IF; END \/\/$/);
    expect(lines[create + 1]).toBe('DELIMITER ;');
    expect(lines.at(-1)).toBe('SET GLOBAL event_scheduler = ON;');
  });
});
