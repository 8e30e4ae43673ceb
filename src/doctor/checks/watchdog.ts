/**
 * The watchdog (DESIGN.md "Watchdog"): on every master an event that closes the server once no
 * coordinator vouches for it, run by the event scheduler, as baton's account. Replicas never
 * take writes and need neither.
 */
import { watchdogInstallScript } from '../../mysql/watchdog.js';
import { holds } from '../grants.js';
import { configFix, settingFix, sqlFix } from '../finding.js';
import { clusterCheck, readNodes, sqlAccount, type Issue } from './check.js';

export const watchdogEvent = clusterCheck(
  'watchdog.event',
  "every master has the watchdog event, enabled, defined as baton's account",
  (cluster) => {
    if (!cluster.watchdog) {
      return [
        {
          severity: 'info',
          message:
            'the watchdog is off for this cluster (clusters[].watchdog: false): a writer whose guardian dies keeps taking writes where nobody can reach it',
          fix: configFix(`clusters[${cluster.configIndex}].watchdog`, 'true'),
        },
      ];
    }
    return readNodes(cluster, 'candidate').flatMap(({ spec, server }): Issue[] => {
      const definer = server.baton ? sqlAccount(server.baton.account) : "'baton'@'%'";
      const event = server.watchdogEvent;
      // information_schema.EVENTS shows an account only the events of schemas it holds EVENT on.
      if (!event && server.baton && !holds(server.baton.grants, 'EVENT', 'baton.watchdog')) {
        return [
          {
            severity: 'error',
            node: spec.name,
            message: `${server.baton.account} lacks EVENT on baton.*: it cannot see the watchdog event, and the server refuses to run the event as it`,
            fix: sqlFix(`GRANT EVENT ON \`baton\`.* TO ${definer}`),
          },
        ];
      }
      if (!event) {
        return [
          {
            severity: 'error',
            node: spec.name,
            message:
              'no watchdog event (baton.watchdog): if its guardian dies while it is the writer, nothing closes it',
            fix: `as an administrator:\n${watchdogInstallScript(server.flavor, definer)}`,
          },
        ];
      }
      const issues: Issue[] = [];
      if (event.status.toUpperCase() !== 'ENABLED') {
        issues.push({
          severity: 'error',
          node: spec.name,
          message:
            event.status.toUpperCase() === 'SLAVESIDE_DISABLED'
              ? 'the watchdog event came through replication and is disabled (SLAVESIDE_DISABLED): it never runs here'
              : `the watchdog event is ${event.status}: it never runs`,
          fix: sqlFix(
            'SET SESSION sql_log_bin = 0',
            `ALTER DEFINER = ${definer} EVENT baton.watchdog ENABLE`,
          ),
        });
      }
      if (server.baton && event.definer !== server.baton.account) {
        issues.push({
          severity: 'warning',
          node: spec.name,
          message: `the watchdog event runs as ${event.definer}, not as baton's ${server.baton.account}: if that account goes or loses the right to set read_only, the event fails, and doctor cannot see its grants`,
          fix: sqlFix(
            'SET SESSION sql_log_bin = 0',
            `ALTER DEFINER = ${definer} EVENT baton.watchdog ENABLE`,
          ),
        });
      }
      return issues;
    });
  },
);

export const eventScheduler = clusterCheck(
  'watchdog.scheduler',
  'the event scheduler is ON on every master',
  (cluster) => {
    if (!cluster.watchdog) return [];
    return readNodes(cluster, 'candidate').flatMap(({ spec, server }): Issue[] => {
      const scheduler = server.settings.eventScheduler;
      if (scheduler === undefined || scheduler === 'ON') return [];
      return [
        {
          severity: 'error',
          node: spec.name,
          message: `event_scheduler is ${scheduler}: the watchdog event never runs`,
          fix: settingFix(server.flavor, 'SET GLOBAL event_scheduler = ON', 'event_scheduler = ON'),
        },
      ];
    });
  },
);
