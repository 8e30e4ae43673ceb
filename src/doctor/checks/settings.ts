/**
 * The server settings replication and baton rely on: a binary log that carries what each server
 * applied (circular replication), in ROW format, read_only in every non-writer's option file, a
 * replica timeout that notices a silent source, and semi-sync settings that fit the watchdog.
 */
import { WATCHDOG_TICK_MS, watchdogCloseAfterHoldMs } from '../../core/watchdog.js';
import { doctorDialectFor } from '../../mysql/doctor-dialect.js';
import { myCnfFix, settingFix, sqlFix } from '../finding.js';
import type { TimingFacts } from '../snapshot.js';
import { clusterCheck, effectiveWriter, readNodes, type Issue } from './check.js';

export const binaryLog = clusterCheck(
  'settings.binlog',
  'every server keeps a binary log with log_slave_updates (the masters must; replicas should)',
  (cluster) =>
    readNodes(cluster).flatMap(({ spec, server }): Issue[] => {
      const master = spec.role === 'candidate';
      const severity = master ? 'error' : 'warning';
      const why = master
        ? 'circular replication and every repoint need it'
        : 'without it this replica can neither feed a catch-up nor serve a repointed replica';
      const issues: Issue[] = [];
      if (server.settings.logBin === false) {
        issues.push({
          severity,
          node: spec.name,
          message: `binary logging is off: ${why}`,
          fix: `${myCnfFix(server.flavor, 'log_bin = binlog')}, then restart the server`,
        });
      } else if (server.settings.logReplicaUpdates === false) {
        const variable = server.flavor === 'mariadb' ? 'log_slave_updates' : 'log_replica_updates';
        issues.push({
          severity,
          node: spec.name,
          message: `${variable} is OFF: what this server applies from its source is not in its own binary log; ${why}`,
          fix: `${myCnfFix(server.flavor, `${variable} = ON`)}, then restart the server`,
        });
      }
      return issues;
    }),
);

export const binlogFormat = clusterCheck('settings.binlog-format', 'binlog_format is ROW', (cluster) =>
  readNodes(cluster).flatMap(({ spec, server }): Issue[] => {
    const format = server.settings.binlogFormat;
    if (server.settings.logBin === false || format === undefined || format === 'ROW') return [];
    return [
      {
        severity: 'error',
        node: spec.name,
        message:
          `binlog_format is ${format}: baton's heartbeat (INSERT … WHERE @@global.read_only = 0) would be ` +
          're-evaluated on read-only replicas instead of replicated as written, and lag would read wrong',
        fix: `${settingFix(server.flavor, 'SET GLOBAL binlog_format = ROW', 'binlog_format = ROW')} (running sessions and the replication threads keep the old format until they reconnect)`,
      },
    ];
  }),
);

export const readOnlyInConfig = clusterCheck(
  'settings.read-only-config',
  "every non-writer's option file sets read_only (MySQL: super_read_only), so a restart comes back read-only",
  (cluster) => {
    const writer = effectiveWriter(cluster);
    return readNodes(cluster).flatMap(({ spec, server }): Issue[] => {
      const variable = doctorDialectFor(server.flavor).readOnlyVariable;
      const setting =
        variable === 'super_read_only' ? server.settings.superReadOnly : server.settings.readOnly;
      if (!setting) return [];
      const line = `${variable} = ON`;
      const fromFile = setting.origin === 'config' || setting.origin === 'command-line';
      if (spec.name === writer) {
        if (fromFile && !setting.value) {
          return [
            {
              severity: 'error',
              node: spec.name,
              message: `the writer's ${setting.origin === 'config' ? 'option file' : 'command line'} sets ${variable} OFF: restarted after a crash it takes writes before baton decides anything`,
              fix: myCnfFix(server.flavor, line),
            },
          ];
        }
        return [];
      }
      if (fromFile && setting.value) return [];
      if (fromFile || setting.origin === 'default') {
        const where =
          setting.origin === 'default'
            ? 'nothing sets it'
            : `its ${setting.origin === 'config' ? 'option file' : 'command line'} sets it OFF`;
        return [
          {
            severity: 'error',
            node: spec.name,
            message: `${variable} is not ON at start (${where}): restarted, this server comes back writable beside the writer`,
            fix: setting.value
              ? myCnfFix(server.flavor, line)
              : `${sqlFix(`SET GLOBAL ${variable} = ON`)} and ${myCnfFix(server.flavor, line)}`,
          },
        ];
      }
      return [
        {
          severity: 'info',
          node: spec.name,
          message: `${variable} was set at runtime since the server started (it is ${setting.value ? 'ON' : 'OFF'} now): what a restart brings back is not visible from SQL`,
          fix: `make sure ${myCnfFix(server.flavor, line)} is there`,
        },
      ];
    });
  },
);

/** Above this a replica keeps a silent source for connected long after baton has moved on. */
export const MAX_NET_TIMEOUT_S = 10;

export const netTimeout = clusterCheck(
  'settings.slave-net-timeout',
  `replicas notice a silent source within ${MAX_NET_TIMEOUT_S} s, and their heartbeat comes more often`,
  (cluster) =>
    readNodes(cluster).flatMap(({ spec, server }): Issue[] => {
      const timeout = server.settings.netTimeoutS;
      if (timeout === undefined || server.replication.length === 0) return [];
      const variable = doctorDialectFor(server.flavor).netTimeoutVariable;
      const issues: Issue[] = [];
      if (timeout > MAX_NET_TIMEOUT_S) {
        issues.push({
          severity: 'warning',
          node: spec.name,
          message:
            `${variable} is ${timeout} s: this replica reports a hung or cut-off source as connected for that long ` +
            '(its IO thread says Yes), and reconnects only after it',
          fix: settingFix(server.flavor, `SET GLOBAL ${variable} = 4`, `${variable} = 4`),
        });
      }
      // Only MariaDB shows the heartbeat period in its replica status, hence its syntax below.
      for (const channel of server.replication) {
        const period = channel.heartbeatPeriodS;
        if (period === undefined || period === 0 || period < timeout) continue;
        const next = Math.max(1, Math.floor(timeout / 2));
        issues.push({
          severity: 'warning',
          node: spec.name,
          message: `the source's heartbeat period (${period} s) is not below ${variable} (${timeout} s): an idle source looks dead and the replica reconnects over and over`,
          fix: sqlFix('STOP SLAVE', `CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD = ${next}`, 'START SLAVE'),
        });
      }
      return issues;
    }),
);

/**
 * The longest semi-sync wait that still lets the watchdog close a writer in time: a commit
 * waiting for an ACK blocks SET GLOBAL read_only=ON, so the wait must end within the guardian's
 * hold (a TTL less what a stamp's statement, one tick and the slack take) less one more tick
 * (DESIGN.md "Semi-synchronous replication": measured, a 6 s timeout acknowledged a write 3.5 s
 * after the hold ran out; the lab runs 1 s).
 */
export function semiSyncTimeoutLimitMs(t: TimingFacts): number {
  return t.sessionTtlMs - watchdogCloseAfterHoldMs(t.probeTimeoutMs) - WATCHDOG_TICK_MS;
}

function semiSyncNames(flavor: 'mariadb' | 'mysql') {
  return flavor === 'mariadb'
    ? {
        enabled: 'rpl_semi_sync_master_enabled',
        waitPoint: 'rpl_semi_sync_master_wait_point',
        timeout: 'rpl_semi_sync_master_timeout',
        ack: 'rpl_semi_sync_slave_enabled',
        restartIo: ['STOP SLAVE IO_THREAD', 'START SLAVE IO_THREAD'],
      }
    : {
        enabled: 'rpl_semi_sync_source_enabled',
        waitPoint: 'rpl_semi_sync_source_wait_point',
        timeout: 'rpl_semi_sync_source_timeout',
        ack: 'rpl_semi_sync_replica_enabled',
        restartIo: ['STOP REPLICA IO_THREAD', 'START REPLICA IO_THREAD'],
      };
}

export const semiSync = clusterCheck(
  'settings.semi-sync',
  'semi-sync, where used: on both masters, AFTER_SYNC, a replica to ACK, a timeout the watchdog can wait out',
  (cluster, deployment) => {
    const masters = readNodes(cluster, 'candidate');
    const waiting = masters.filter((m) => m.server.semiSync?.masterEnabled === true);
    const issues: Issue[] = [];
    if (waiting.length === 0) {
      if (cluster.policy === 'consistency' && masters.length > 0) {
        const flavor = masters[0]?.server.flavor ?? 'mariadb';
        issues.push({
          severity: 'info',
          message:
            'no master uses semi-sync: under the consistency policy a crashed writer is never failed over ' +
            'automatically (nothing proves its acknowledged writes reached a survivor); an operator must decide',
          fix: `${myCnfFix(flavor, `${semiSyncNames(flavor).enabled} = ON`)} on the masters and ${myCnfFix(flavor, `${semiSyncNames(flavor).ack} = ON`)} on their replicas (README "The lab": --semi-sync)`,
        });
      }
      return issues;
    }
    const limit = semiSyncTimeoutLimitMs(deployment.timings);
    for (const m of masters) {
      const names = semiSyncNames(m.server.flavor);
      const state = m.server.semiSync;
      if (!state?.masterEnabled) {
        issues.push({
          severity: 'warning',
          node: m.spec.name,
          message: `semi-sync is on for ${waiting.map((w) => w.spec.name).join(', ')} but not here: once this master takes over, writes are no longer acknowledged by a replica`,
          fix: settingFix(m.server.flavor, `SET GLOBAL ${names.enabled} = ON`, `${names.enabled} = ON`),
        });
        continue;
      }
      if (state.waitPoint !== 'AFTER_SYNC') {
        issues.push({
          severity: 'warning',
          node: m.spec.name,
          message: `semi-sync waits ${state.waitPoint || 'at an unknown point'}: clients hear OK before a replica has the transaction, so its evidence proves nothing about acknowledged writes`,
          fix: settingFix(
            m.server.flavor,
            `SET GLOBAL ${names.waitPoint} = AFTER_SYNC`,
            `${names.waitPoint} = AFTER_SYNC`,
          ),
        });
      }
      if (state.timeoutMs >= limit) {
        const fitting = Math.min(1000, Math.max(100, Math.floor(limit / 2)));
        issues.push({
          severity: 'error',
          node: m.spec.name,
          message:
            `${names.timeout} is ${state.timeoutMs} ms, not below ${limit} ms (session TTL less the watchdog's ` +
            `close-after-hold and one tick): a commit waiting for an ACK blocks read_only=ON, so the writer can stay open after its watchdog hold ran out`,
          fix: settingFix(
            m.server.flavor,
            `SET GLOBAL ${names.timeout} = ${fitting}`,
            `${names.timeout} = ${fitting}`,
          ),
        });
      }
      const ackers = readNodes(cluster, 'replica').filter((r) => r.spec.replicatesFrom === m.spec.name);
      if (ackers.length > 0 && !ackers.some((r) => r.server.semiSync?.replicaEnabled === true)) {
        const replica = ackers[0] as (typeof ackers)[number];
        issues.push({
          severity: 'warning',
          node: replica.spec.name,
          message: `no replica of ${m.spec.name} ACKs (${ackers.map((r) => r.spec.name).join(', ')}): every commit there waits out the timeout, then falls back to async`,
          fix: `${sqlFix(`SET GLOBAL ${names.ack} = ON`, ...names.restartIo)} and ${myCnfFix(replica.server.flavor, `${names.ack} = ON`)}`,
        });
      } else if (state.masterOn === false && m.spec.name === effectiveWriter(cluster)) {
        issues.push({
          severity: 'warning',
          node: m.spec.name,
          message: `the writer's semi-sync has fallen back to async (${state.clients} ACKing replica(s) connected)`,
          fix: `reconnect an ACKing replica: ${sqlFix(...names.restartIo)} on it`,
        });
      }
    }
    return issues;
  },
);
