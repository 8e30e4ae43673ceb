/**
 * etcd as baton needs it: members in at least three sites so that losing one keeps a quorum,
 * raft leadership at the witness (a raft leader lost with a colo renews every lease and delays
 * that colo's failover, DESIGN.md), and this host's clock in line with etcd's hosts.
 */
import { configFix } from '../finding.js';
import type { DeploymentFacts, EtcdMemberFacts } from '../snapshot.js';
import { deploymentCheck, ms, type Issue } from './check.js';

/**
 * The site of an etcd member: `etcd.memberSites` says so, or its name is a colo's (`w`) or has
 * one colo as a dash-separated part (`etcd-west`, `west-1`). Undefined when nothing says.
 */
export function memberSite(
  name: string,
  deployment: Pick<DeploymentFacts, 'colos' | 'memberSites'>,
): string | undefined {
  const explicit = deployment.memberSites[name];
  if (explicit !== undefined) return explicit;
  if (deployment.colos.includes(name)) return name;
  const parts = name.split('-');
  const matching = deployment.colos.filter((colo) => parts.includes(colo));
  return matching.length === 1 ? matching[0] : undefined;
}

export const etcdSites = deploymentCheck(
  'etcd.sites',
  'etcd members in at least three sites, none holding half of them',
  (deployment) => {
    const members = deployment.etcd.members;
    if (members.length === 0) return [];
    const issues: Issue[] = [];
    const bySite = new Map<string, string[]>();
    for (const m of members) {
      const site = memberSite(m.name, deployment);
      if (site === undefined) {
        issues.push({
          severity: 'warning',
          message: `cannot tell which site etcd member ${m.name || m.id} is in`,
          fix: configFix(`etcd.memberSites.${m.name || m.id}`, '<its site>'),
        });
        continue;
      }
      bySite.set(site, [...(bySite.get(site) ?? []), m.name]);
    }
    const listing = [...bySite].map(([site, names]) => `${site}: ${names.join(', ')}`).join('; ');
    if (bySite.size < 3) {
      issues.push({
        severity: 'error',
        message: `etcd's ${members.length} member(s) are in ${bySite.size} site(s) (${listing}): losing one site can lose the quorum, and with it every lease`,
        fix: 'run one etcd member in each of three sites (the two colos and the witness)',
      });
      return issues;
    }
    const quorum = Math.floor(members.length / 2) + 1;
    for (const [site, names] of bySite) {
      if (members.length - names.length < quorum) {
        issues.push({
          severity: 'error',
          message: `site ${site} holds ${names.length} of etcd's ${members.length} members (${names.join(', ')}): losing it loses the quorum`,
          fix: 'move members so that no site holds half of them (one per site for three)',
        });
      }
    }
    return issues;
  },
);

/** The raft leader the members report, if a majority of those that answered agree. */
function raftLeader(members: readonly EtcdMemberFacts[]): EtcdMemberFacts | undefined {
  const votes = new Map<string, number>();
  for (const m of members)
    if (m.status) votes.set(m.status.leaderId, (votes.get(m.status.leaderId) ?? 0) + 1);
  const answered = members.filter((m) => m.status).length;
  const [id, count] = [...votes].sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
  if (count * 2 <= answered || id === '0') return undefined;
  return members.find((m) => m.id === id);
}

/** The member at a site with no master: the witness's, where raft leadership belongs. */
function witnessMember(deployment: DeploymentFacts, masterColos: ReadonlySet<string>): string | undefined {
  const candidates = deployment.etcd.members.filter((m) => {
    const site = memberSite(m.name, deployment);
    return site !== undefined && !masterColos.has(site);
  });
  return candidates.length === 1 ? candidates[0]?.name : undefined;
}

/**
 * The coordinators log in as the config's etcd user, as doctor does: what etcd refuses doctor, it
 * refuses them. Placement is the one thing baton does that a prefix role cannot grant.
 */
function placementRefused(deployment: DeploymentFacts, preferred: string, call: string, now: string): Issue {
  const user = deployment.etcd.user;
  const who = user === undefined ? "the config's etcd user" : `etcd user ${user}`;
  return {
    severity: 'warning',
    message:
      `raft leader placement (etcd.preferredLeader: ${preferred}) needs etcd's root role here: etcd refused ${call} to ${who}, ` +
      `so coordinators logging in as it cannot keep raft leadership on ${preferred}${now}; ` +
      'a colo cut that takes the raft leader along then fails over seconds later. Nothing else baton does needs root',
    fix:
      `grant it: etcdctl user grant-role ${user ?? '<user>'} root (the user can then write every key, not only /baton/); ` +
      `or move raft leadership to ${preferred} by hand, as root, after each etcd election (etcdctl move-leader); ` +
      'or accept the delay: remove etcd.preferredLeader',
  };
}

export const raftLeaderPlacement = deploymentCheck(
  'etcd.raft-leader',
  "etcd's raft leader is the member etcd.preferredLeader names (the witness's)",
  (deployment, clusters) => {
    const members = deployment.etcd.members;
    const preferred = deployment.preferredLeader;
    if (deployment.etcd.membersDenied && preferred !== undefined)
      return [placementRefused(deployment, preferred, 'the member list', '')];
    if (members.length === 0) return [];
    const masterColos = new Set(
      clusters.flatMap((c) => c.nodes.filter((n) => n.role === 'candidate').map((n) => n.colo)),
    );
    const witness = witnessMember(deployment, masterColos);
    const names = members.map((m) => m.name).join(', ');
    if (preferred === undefined) {
      return [
        {
          severity: 'info',
          message:
            "no etcd.preferredLeader: raft leadership stays wherever etcd elects it; a raft leader lost with a colo renews every lease and delays that colo's failover by seconds",
          fix: configFix('etcd.preferredLeader', witness ?? "<the witness member's name>"),
        },
      ];
    }
    const target = members.find((m) => m.name === preferred);
    if (!target) {
      return [
        {
          severity: 'error',
          message: `etcd.preferredLeader names ${preferred}, but etcd's members are ${names}: the leader can never be kept there`,
          fix: configFix('etcd.preferredLeader', witness ?? '<one of the member names>'),
        },
      ];
    }
    if (members.every((m) => !m.status)) {
      if (members.some((m) => m.statusDenied))
        return [
          placementRefused(
            deployment,
            preferred,
            "the members' status",
            ' (nor can doctor tell where it is)',
          ),
        ];
      return [
        {
          severity: 'warning',
          message: "cannot tell where etcd's raft leader is: no member's status answered",
          fix: 'see reach.etcd',
        },
      ];
    }
    const leader = raftLeader(members);
    if (!leader) {
      return [
        {
          severity: 'error',
          message:
            'etcd has no raft leader that a majority of its members agree on: etcd cannot commit anything',
          fix: "restore etcd's quorum (start its members, heal the network between them)",
        },
      ];
    }
    const refused = deployment.etcd.moveLeaderPermitted === false;
    if (leader.name === preferred)
      return refused
        ? [
            placementRefused(
              deployment,
              preferred,
              'MoveLeader',
              ' after the next etcd election (it is there now)',
            ),
          ]
        : [];
    const moveBack = `etcdctl${refused ? ' --user root' : ''} --endpoints=${leader.clientUrls[0] ?? '<leader URL>'} move-leader ${BigInt(target.id).toString(16)}`;
    if (refused) {
      const issue = placementRefused(deployment, preferred, 'MoveLeader', ` (it is on ${leader.name} now)`);
      return [{ ...issue, fix: `now: ${moveBack}; for good: ${issue.fix}` }];
    }
    return [
      {
        severity: 'warning',
        message:
          `etcd's raft leader is ${leader.name}, not ${preferred}: losing ${leader.name}'s site renews every lease and delays that failover by seconds. ` +
          'A leading coordinator moves it back within about 5 s when it can; if it stays, none leads, or none is steady',
        fix: moveBack,
      },
    ];
  },
);

/** A clock this far from etcd's hosts is not synchronised (NTP keeps hosts within a few ms). */
export const CLOCK_WARNING_MS = 100;

/**
 * Persisted times (cooldown, the guardian wait of `reportFreshMs`, an operation's steps) are
 * written on one coordinator's clock and read on another's. Two hosts each this far from etcd in
 * opposite directions differ by a fifth of the report window, the shortest of those waits.
 */
export function clockErrorBoundMs(reportFreshMs: number): number {
  return reportFreshMs / 10;
}

export const etcdClockSkew = deploymentCheck(
  'etcd.clock-skew',
  `this host's clock is within ${CLOCK_WARNING_MS} ms of every etcd member's host (run doctor on each coordinator host)`,
  (deployment) => {
    const bound = clockErrorBoundMs(deployment.timings.reportFreshMs);
    return deployment.etcd.members.flatMap((m): Issue[] => {
      if (!m.clock) {
        if (!m.clockError) return [];
        return [
          {
            severity: 'warning',
            message: `could not compare this host's clock with etcd member ${m.name}'s: ${m.clockError}`,
            fix: `make ${m.clientUrls[0] ?? 'its client URL'}/version reachable from this host`,
          },
        ];
      }
      const { offsetMs, uncertaintyMs } = m.clock;
      const size = Math.abs(offsetMs);
      const direction = offsetMs > 0 ? 'ahead of' : 'behind';
      const text = `etcd member ${m.name}'s clock is ${ms(size)} (±${ms(uncertaintyMs)}) ${direction} this host's (${deployment.host})`;
      const fix = `synchronise the clocks of ${deployment.host} and ${m.name}'s host (chrony or ntpd)`;
      if (size - uncertaintyMs > bound) {
        return [
          {
            severity: 'error',
            message: `${text}, over ${ms(bound)} (a tenth of timings.reportFreshMs): coordinators' persisted times (cooldown, the wait for a missing guardian, operation steps) shift by the skew`,
            fix,
          },
        ];
      }
      if (size > CLOCK_WARNING_MS)
        return [{ severity: 'warning', message: `${text}: not synchronised`, fix }];
      return [];
    });
  },
);
