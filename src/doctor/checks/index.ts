/** Every check, in the order the report lists them (by area, as AREAS orders them). */
import { AREAS, areaOf, type Finding } from '../finding.js';
import type { DoctorSnapshot } from '../snapshot.js';
import type { Check } from './check.js';
import { etcdClockSkew, etcdSites, raftLeaderPlacement } from './etcd.js';
import { gtidDomains, gtidStrictMode, serverIdUnique } from './identity.js';
import { autoIncrement } from './masters.js';
import { etcdReachable, mysqlReachable } from './reach.js';
import { replicationRunning, replicationTopology, serverClocks, singleWriter } from './replication.js';
import { binaryLog, binlogFormat, netTimeout, readOnlyInConfig, semiSync } from './settings.js';
import { etcdRoundTrip, probeRoundTrip, standInHold } from './timings.js';
import { appCannotBypassReadOnly, batonGrants } from './users.js';
import { eventScheduler, watchdogEvent } from './watchdog.js';

export type { Check } from './check.js';

export const CHECKS: readonly Check[] = [
  mysqlReachable,
  etcdReachable,
  autoIncrement,
  serverIdUnique,
  gtidDomains,
  gtidStrictMode,
  binaryLog,
  binlogFormat,
  readOnlyInConfig,
  netTimeout,
  semiSync,
  appCannotBypassReadOnly,
  batonGrants,
  watchdogEvent,
  eventScheduler,
  replicationRunning,
  replicationTopology,
  singleWriter,
  serverClocks,
  etcdSites,
  raftLeaderPlacement,
  etcdClockSkew,
  etcdRoundTrip,
  standInHold,
  probeRoundTrip,
]
  .slice()
  .sort((a, b) => AREAS.indexOf(areaOf(a.id)) - AREAS.indexOf(areaOf(b.id)));

export interface CheckResult {
  check: Check;
  findings: Finding[];
}

/** Runs every check; a check that throws is a bug, reported as an error finding of its own. */
export function runChecks(snapshot: DoctorSnapshot, checks: readonly Check[] = CHECKS): CheckResult[] {
  return checks.map((check) => {
    try {
      return { check, findings: check.run(snapshot) };
    } catch (error) {
      return {
        check,
        findings: [
          {
            severity: 'error',
            check: check.id,
            message: `the check itself failed: ${(error as Error).message} (a bug in baton doctor)`,
            fix: 'report it with `baton doctor --json` output',
          },
        ],
      };
    }
  });
}
