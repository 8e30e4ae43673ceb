import { timingProblems, watchdogTimingProblem } from '../core/timings.js';
import type { BatonConfigFile, TlsFiles } from './schema.js';

export interface ConfigProblem {
  path: string;
  message: string;
}

function duplicates(values: string[]): string[] {
  return [...new Set(values.filter((v, i) => values.indexOf(v) !== i))];
}

/**
 * Rules that span fields. Each keeps a safety or liveness argument true, so a config that
 * breaks one is refused at load rather than discovered during an outage. The timing rules are
 * core/timings.ts's, the same the loop checks its config with.
 */
export function crossCheck(config: BatonConfigFile): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const t = config.timings;
  const add = (path: string, message: string) => problems.push({ path, message });

  for (const p of timingProblems(t, { watchdog: false })) add(`timings.${p.field}`, p.message);

  problems.push(...etcdTransportProblems(config.etcd));

  const coordinatorNames = config.coordinators.map((c) => c.name);
  for (const name of duplicates(coordinatorNames))
    add('coordinators', `duplicate coordinator name "${name}"`);
  const self = config.coordinators.find((c) => c.name === config.coordinator.name);
  if (!self) add('coordinator.name', `"${config.coordinator.name}" is not listed in coordinators`);
  else if (self.colo !== config.coordinator.colo) {
    add('coordinator.colo', `"${config.coordinator.colo}" differs from coordinators entry (${self.colo})`);
  }
  const sites = new Set(config.coordinators.map((c) => c.colo));
  if (config.coordinators.length < 3 || sites.size < 3) {
    add(
      'coordinators',
      'expected coordinators in at least 3 sites (two colos and a witness): with 2, losing either loses quorum',
    );
  }

  for (const name of duplicates(config.clusters.map((c) => c.name)))
    add('clusters', `duplicate cluster name "${name}"`);
  config.clusters.forEach((cluster, ci) => {
    const at = `clusters[${ci}]`;
    const watchdogProblem = cluster.watchdog ? watchdogTimingProblem(t) : undefined;
    if (watchdogProblem) add(`${at}.watchdog`, `${watchdogProblem.message}; or set it to false`);
    if (cluster.tls) problems.push(...clientCertificateProblems(cluster.tls, `${at}.tls`));
    const names = cluster.nodes.map((n) => n.name);
    for (const name of duplicates(names)) add(`${at}.nodes`, `duplicate node name "${name}"`);
    const candidates = cluster.nodes.filter((n) => n.role === 'candidate');
    if (candidates.length !== 2)
      add(`${at}.nodes`, `expected exactly 2 candidate masters, found ${candidates.length}`);
    else if (candidates[0]?.colo === candidates[1]?.colo) {
      add(`${at}.nodes`, 'the two candidate masters must be in different colos');
    }
    const endpoints = duplicates(cluster.nodes.map((n) => `${n.host}:${n.port}`));
    for (const endpoint of endpoints) add(`${at}.nodes`, `two nodes share ${endpoint}`);
    cluster.nodes.forEach((node, ni) => {
      const nodeAt = `${at}.nodes[${ni}]`;
      if (node.role === 'replica') {
        if (!node.replicatesFrom) add(`${nodeAt}.replicatesFrom`, 'required for a replica');
        else if (!candidates.some((c) => c.name === node.replicatesFrom)) {
          add(
            `${nodeAt}.replicatesFrom`,
            `"${node.replicatesFrom}" is not a candidate master of ${cluster.name}`,
          );
        }
      } else if (node.replicatesFrom) {
        add(`${nodeAt}.replicatesFrom`, 'candidates replicate from each other; leave it unset');
      }
      if (!sites.has(node.colo))
        add(`${nodeAt}.colo`, `no coordinator runs in colo "${node.colo}" to guard this node`);
    });
  });
  return problems;
}

/**
 * etcd's transport: one scheme for all endpoints (the client cannot mix them), TLS settings only
 * with https, and a password never over plain http, where anyone on the path reads it.
 */
export function etcdTransportProblems(etcd: BatonConfigFile['etcd']): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const schemes = new Set(etcd.endpoints.map((e) => e.slice(0, e.indexOf(':'))));
  if (schemes.size > 1) {
    problems.push({
      path: 'etcd.endpoints',
      message: 'mixes http:// and https:// endpoints: use https:// for every member (with etcd.tls)',
    });
    return problems;
  }
  const plain = schemes.has('http');
  if (plain && etcd.auth)
    problems.push({
      path: 'etcd.auth',
      message:
        'a password over http:// is readable by anyone on the path: use https:// endpoints and etcd.tls',
    });
  if (plain && etcd.tls) problems.push({ path: 'etcd.tls', message: 'TLS settings need https:// endpoints' });
  if (etcd.tls) problems.push(...clientCertificateProblems(etcd.tls, 'etcd.tls'));
  return problems;
}

/** A client certificate without its key, or a key without its certificate (at `at`). */
function clientCertificateProblems(tls: TlsFiles, at: string): ConfigProblem[] {
  if ((tls.certFile === undefined) === (tls.keyFile === undefined)) return [];
  return [
    {
      path: tls.certFile === undefined ? `${at}.certFile` : `${at}.keyFile`,
      message: 'a client certificate needs its key, and a key its certificate: give both or neither',
    },
  ];
}
