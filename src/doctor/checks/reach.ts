/** Whether doctor could read what it checks: an unread server or etcd member is itself an error. */
import { clusterCheck, deploymentCheck, type Issue } from './check.js';

export const mysqlReachable = clusterCheck(
  'reach.mysql',
  "every server answers baton's account from this host",
  (cluster) =>
    cluster.nodes.flatMap((node, i) => {
      const server = cluster.servers[node.name];
      if (!server || server.reachable) return [];
      return [
        {
          severity: 'error' as const,
          node: node.name,
          message: `cannot read ${node.name} (${node.host}:${node.port}) as baton's account: ${server.error}; its checks are skipped`,
          fix: `start the server, or correct config clusters[${cluster.configIndex}].nodes[${i}] (host, port) and the mysql user's password source`,
        },
      ];
    }),
);

export const etcdReachable = deploymentCheck(
  'reach.etcd',
  "every etcd endpoint and member answers, and each cluster's state is readable",
  (deployment, clusters) => {
    const etcd = deployment.etcd;
    const issues: Issue[] = etcd.unreachable.map(({ endpoint, error }) => ({
      severity: 'error' as const,
      message: `etcd endpoint ${endpoint} does not answer: ${error}`,
      fix: `start that member, or remove ${endpoint} from config etcd.endpoints`,
    }));
    if (etcd.membersError) {
      issues.push(
        etcd.membersDenied
          ? {
              severity: 'warning',
              message: `cannot list etcd's members: ${etcd.membersError}; the checks of etcd's sites, raft leader and clocks are skipped`,
              fix: 'run doctor once with an etcd account that holds the root role (config etcd.auth), or an etcd release that lets any user list members',
            }
          : {
              severity: 'error',
              message: `cannot list etcd's members: ${etcd.membersError}; the etcd checks are skipped`,
              fix: 'make etcd reachable from this host (config etcd.endpoints, etcd.auth)',
            },
      );
    }
    for (const cluster of clusters) {
      if (cluster.stateError === undefined || etcd.membersError !== undefined) continue;
      issues.push({
        severity: 'error',
        message: `cannot read cluster ${cluster.name}'s state from etcd (writer record, quarantine): ${cluster.stateError}`,
        fix: `let the config's etcd account read /baton/${cluster.name}/ (etcd.auth; its role's prefix)`,
      });
    }
    for (const member of etcd.members) {
      if (member.statusError && !member.statusDenied) {
        issues.push({
          severity: 'error',
          message: `etcd member ${member.name} (${member.clientUrls.join(', ')}) does not answer: ${member.statusError}`,
          fix: `start member ${member.name}, or make its client URL reachable from this host`,
        });
      }
    }
    return issues;
  },
);
