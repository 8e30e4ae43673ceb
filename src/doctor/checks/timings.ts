/**
 * The config's timings against what this host measured: etcd's round trips through the first
 * endpoint that answers (as the coordinators call etcd) and each server's query round trip.
 * Deadlines stretch with the measured link (DESIGN.md "Across a WAN"), so a round trip longer
 * than a configured timeout is not by itself a failure; what does not stretch is the cap on an
 * etcd call (TTL/3), the keepalive hedge (TTL/20) and the stand-in guardian's watchdog hold.
 * etcd's round trips are judged by the best sample: load on this host only adds to it, the path
 * never takes less. Measured from this host: run doctor on each coordinator host.
 */
import { standInMaxHoldMs } from '../../core/timings.js';
import { watchdogCloseAfterHoldMs } from '../../core/watchdog.js';
import { LinkRtt } from '../../link-rtt.js';
import { configFix } from '../finding.js';
import type { DeploymentFacts, EtcdMemberFacts } from '../snapshot.js';
import { clusterCheck, deploymentCheck, median, ms, readNodes, type Issue } from './check.js';

/** The member the coordinators would call: the first configured endpoint that answered. */
export function nearestMember(deployment: DeploymentFacts): EtcdMemberFacts | undefined {
  for (const endpoint of deployment.etcd.endpoints) {
    const member = deployment.etcd.members.find(
      (m) => m.clientUrls.includes(endpoint) && m.roundTripsMs.length + m.keepaliveRoundTripsMs.length > 0,
    );
    if (member) return member;
  }
  return deployment.etcd.members.find((m) => m.roundTripsMs.length + m.keepaliveRoundTripsMs.length > 0);
}

/** A session's keepalive attempt is hedged when unanswered this long (src/etcd/session.ts). */
export function keepaliveHedgeMs(sessionTtlMs: number): number {
  return Math.max(100, sessionTtlMs / 20);
}

function roundUp(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}

export const etcdRoundTrip = deploymentCheck(
  'timings.etcd-round-trip',
  "etcd's round trips fit the session: a state read within TTL/3, a keepalive within its hedge (TTL/20)",
  (deployment) => {
    const member = nearestMember(deployment);
    if (!member) return [];
    const ttl = deployment.timings.sessionTtlMs;
    const through = `through ${member.name} (the first endpoint that answers)`;
    const read = member.roundTripsMs.length > 0 ? Math.min(...member.roundTripsMs) : undefined;
    if (read !== undefined && read >= ttl / 3) {
      return [
        {
          severity: 'error',
          message:
            `a linearizable read ${through} takes ${ms(read)} at best, not less than a third of ` +
            `timings.sessionTtlMs (${ttl} ms), the cap on every etcd call of a coordinator: its state reads cannot complete`,
          fix: configFix('timings.sessionTtlMs', String(roundUp(4 * read, 1000))),
        },
      ];
    }
    const keepalive =
      member.keepaliveRoundTripsMs.length > 0 ? Math.min(...member.keepaliveRoundTripsMs) : undefined;
    const hedge = keepaliveHedgeMs(ttl);
    if (keepalive !== undefined && keepalive >= hedge) {
      return [
        {
          severity: 'warning',
          message:
            `a keepalive's round trip ${through} to the raft leader takes ${ms(keepalive)} at best, not less than its hedge ` +
            `(max(100 ms, TTL/20) = ${ms(hedge)}): every keepalive sends a second attempt, ` +
            'and the etcd outage a session rides out shrinks by the round trip',
          fix: `${configFix('timings.sessionTtlMs', String(roundUp(20 * keepalive, 1000)))}, or list a nearer etcd member first in etcd.endpoints`,
        },
      ];
    }
    return [];
  },
);

/** What a stamp's deadline is over a warm connection to a server this far away. */
export function stampDeadlineMs(probeTimeoutMs: number, roundTripsMs: readonly number[]): number {
  const link = new LinkRtt();
  for (const sample of roundTripsMs) link.sample(sample);
  return probeTimeoutMs + link.allowanceMs();
}

export const standInHold = clusterCheck(
  'timings.stand-in-hold',
  'a leader on this host could keep every master open as stand-in guardian (a hold of two cycles)',
  (cluster, deployment) => {
    if (!cluster.watchdog) return [];
    const t = deployment.timings;
    const needed = 2 * t.cycleIntervalMs;
    return readNodes(cluster, 'candidate').flatMap(({ spec, server }): Issue[] => {
      if (server.roundTripsMs.length === 0) return [];
      const deadline = stampDeadlineMs(t.probeTimeoutMs, server.roundTripsMs);
      const hold = standInMaxHoldMs(t.sessionTtlMs, deadline);
      if (hold >= needed) return [];
      const ttl = roundUp(1.5 * (needed + watchdogCloseAfterHoldMs(deadline)) + 1, 500);
      return [
        {
          severity: 'warning',
          node: spec.name,
          message:
            `from here a stamp on ${spec.name} may take ${ms(deadline)} (probe timeout plus the link's round-trip allowance), ` +
            `which leaves a stand-in hold of ${ms(hold)}, under two cycles (${needed} ms): a leader on this host cannot keep ${spec.name} open when its guardian dies`,
          fix: configFix('timings.sessionTtlMs', String(ttl)),
        },
      ];
    });
  },
);

export const probeRoundTrip = clusterCheck(
  'timings.probe-round-trip',
  'every server answers a query from here within timings.probeTimeoutMs',
  (cluster, deployment) => {
    const probe = deployment.timings.probeTimeoutMs;
    return readNodes(cluster).flatMap(({ spec, server }): Issue[] => {
      const rtt = median(server.roundTripsMs);
      if (rtt === undefined || rtt <= probe) return [];
      return [
        {
          severity: 'info',
          node: spec.name,
          message:
            `a query round trip to ${spec.name} takes ${ms(rtt)} from here, more than timings.probeTimeoutMs (${probe} ms). ` +
            "Probe deadlines add the link's measured round trip, so probes still succeed; a hung server there is found out a round trip later",
          fix: `none needed; ${configFix('timings.probeTimeoutMs', String(roundUp(rtt, 50)))} only if the server itself needs more time`,
        },
      ];
    });
  },
);
