/**
 * Who wrote what: replication skips events carrying the receiving server's own server_id, and
 * baton's GTID arithmetic (catch-up, errant transactions, lost ranges) keys the masters' history
 * by MariaDB domain (MySQL: server_uuid). Two servers sharing either mix their histories.
 */
import { myCnfFix, settingFix } from '../finding.js';
import { clusterCheck, readNodes, type Issue, type ReadNode } from './check.js';

/** Nodes grouped by a key, groups with more than one member only, in the config's order. */
function duplicates(nodes: readonly ReadNode[], key: (n: ReadNode) => string | number | undefined) {
  const groups = new Map<string | number, ReadNode[]>();
  for (const n of nodes) {
    const k = key(n);
    if (k === undefined) continue;
    groups.set(k, [...(groups.get(k) ?? []), n]);
  }
  return [...groups.entries()].filter(([, group]) => group.length > 1);
}

function unusedNumber(used: ReadonlySet<number>, from: number): number {
  let n = from;
  while (used.has(n)) n += 1;
  return n;
}

export const serverIdUnique = clusterCheck(
  'identity.server-id',
  'every server has its own non-zero server_id',
  (cluster) => {
    const nodes = readNodes(cluster);
    const used = new Set(nodes.map((n) => n.server.settings.serverId).filter((id) => id !== undefined));
    const issues: Issue[] = [];
    for (const n of nodes) {
      if (n.server.settings.serverId === 0) {
        const id = unusedNumber(used, 1);
        used.add(id);
        issues.push({
          severity: 'error',
          node: n.spec.name,
          message: 'server_id is 0: the server neither replicates nor logs as a source',
          fix: settingFix(n.server.flavor, `SET GLOBAL server_id = ${id}`, `server_id = ${id}`),
        });
      }
    }
    for (const [id, group] of duplicates(nodes, (n) => n.server.settings.serverId || undefined)) {
      const [owner, ...others] = group;
      for (const n of others) {
        const fresh = unusedNumber(used, Number(id) + 1);
        used.add(fresh);
        issues.push({
          severity: 'error',
          node: n.spec.name,
          message: `server_id ${id} is also ${owner?.spec.name}'s: each skips the other's events as its own`,
          fix: settingFix(n.server.flavor, `SET GLOBAL server_id = ${fresh}`, `server_id = ${fresh}`),
        });
      }
    }
    return issues;
  },
);

export const gtidDomains = clusterCheck(
  'identity.gtid-domain',
  "each master writes under its own GTID domain (MySQL: server_uuid), and no replica under a master's",
  (cluster) => {
    const nodes = readNodes(cluster);
    const issues: Issue[] = [];
    const maria = nodes.filter((n) => n.server.flavor === 'mariadb');
    const usedDomains = new Set(
      maria.map((n) => n.server.settings.gtidDomainId).filter((d) => d !== undefined),
    );
    const mastersByDomain = new Map<number, string>();
    for (const n of maria.filter((x) => x.spec.role === 'candidate')) {
      const domain = n.server.settings.gtidDomainId;
      if (domain === undefined) continue;
      const other = mastersByDomain.get(domain);
      if (other === undefined) {
        mastersByDomain.set(domain, n.spec.name);
        continue;
      }
      const fresh = unusedNumber(usedDomains, domain + 1);
      usedDomains.add(fresh);
      issues.push({
        severity: 'error',
        node: n.spec.name,
        message: `gtid_domain_id ${domain} is also ${other}'s: the masters' histories cannot be told apart (catch-up, errant transactions and lost ranges go wrong)`,
        fix: settingFix('mariadb', `SET GLOBAL gtid_domain_id = ${fresh}`, `gtid_domain_id = ${fresh}`),
      });
    }
    for (const n of maria.filter((x) => x.spec.role === 'replica')) {
      const domain = n.server.settings.gtidDomainId;
      const master = domain === undefined ? undefined : mastersByDomain.get(domain);
      if (master === undefined) continue;
      const fresh = unusedNumber(usedDomains, (domain ?? 0) + 10);
      usedDomains.add(fresh);
      issues.push({
        severity: 'warning',
        node: n.spec.name,
        message: `gtid_domain_id ${domain} is master ${master}'s: a write made on this replica would pass for ${master}'s history and could not be filtered out of a catch-up`,
        fix: settingFix('mariadb', `SET GLOBAL gtid_domain_id = ${fresh}`, `gtid_domain_id = ${fresh}`),
      });
    }
    const mysql = nodes.filter((n) => n.server.flavor === 'mysql');
    for (const [uuid, group] of duplicates(mysql, (n) => n.server.settings.serverUuid)) {
      for (const n of group.slice(1)) {
        issues.push({
          severity: 'error',
          node: n.spec.name,
          message: `server_uuid ${uuid} is also ${group[0]?.spec.name}'s (a copied data directory): their GTIDs are indistinguishable`,
          fix: 'stop the server, delete auto.cnf from its data directory, start it (it generates a new server_uuid)',
        });
      }
    }
    return issues;
  },
);

export const gtidStrictMode = clusterCheck(
  'identity.gtid-strict-mode',
  'gtid_strict_mode is ON (MySQL: gtid_mode and enforce_gtid_consistency ON) everywhere',
  (cluster) =>
    readNodes(cluster).flatMap(({ spec, server }): Issue[] => {
      const s = server.settings;
      if (server.flavor === 'mariadb') {
        if (s.gtidStrictMode !== false) return [];
        return [
          {
            severity: 'error',
            node: spec.name,
            message:
              'gtid_strict_mode is OFF: a server may apply GTIDs out of order or twice, and positions stop meaning "has everything up to"',
            fix: settingFix('mariadb', 'SET GLOBAL gtid_strict_mode = ON', 'gtid_strict_mode = ON'),
          },
        ];
      }
      const issues: Issue[] = [];
      if (s.gtidMode !== undefined && s.gtidMode !== 'ON') {
        issues.push({
          severity: 'error',
          node: spec.name,
          message: `gtid_mode is ${s.gtidMode}: baton positions replicas by GTID`,
          fix: `${myCnfFix('mysql', 'gtid_mode = ON')} (online: step gtid_mode through OFF_PERMISSIVE and ON_PERMISSIVE)`,
        });
      }
      if (s.enforceGtidConsistency !== undefined && s.enforceGtidConsistency !== 'ON') {
        issues.push({
          severity: 'error',
          node: spec.name,
          message: `enforce_gtid_consistency is ${s.enforceGtidConsistency}`,
          fix: settingFix(
            'mysql',
            'SET GLOBAL enforce_gtid_consistency = ON',
            'enforce_gtid_consistency = ON',
          ),
        });
      }
      return issues;
    }),
);
