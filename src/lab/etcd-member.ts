import http from 'node:http';
import path from 'node:path';
import { SITES, etcdClientPort, etcdPeerPort, type SiteName } from './topology.js';
import { siteAddress, type LabNetwork } from './network.js';
import { LabError } from './errors.js';
import { executable } from './preflight.js';
import { systemClock } from '../clock.js';
import { createEtcdClient } from '../etcd/client.js';
import { RaftLeaderKeeper } from '../etcd/raft-leader.js';
import type { EtcdTimings } from './wan-profile.js';

export function etcdClientUrl(net: LabNetwork, basePort: number, site: SiteName): string {
  return `http://${siteAddress(net, site)}:${etcdClientPort(basePort, site)}`;
}

function peerUrl(net: LabNetwork, basePort: number, site: SiteName): string {
  return `http://${siteAddress(net, site)}:${etcdPeerPort(basePort, site)}`;
}

/**
 * One member per site. --pre-vote stops an isolated member from disrupting the cluster when
 * the partition heals. Timings come from the WAN profile (`etcdTimingsFor`): heartbeat about the
 * largest round trip between sites, election timeout 10 heartbeats, never below 30/300 ms. A new
 * raft leader gives every lease its TTL plus one election timeout, and detecting the old leader's
 * loss takes one to two more, so the timeout is paid up to three times when the raft leader is
 * cut off with a colo (DESIGN.md). On `lan` (peer round trip about 1 ms) 300 ms stays far above
 * etcd's 10 x RTT guidance; with both cores busy for 5 minutes no member saw a leader change.
 */
export function etcdArgv(
  net: LabNetwork,
  basePort: number,
  site: SiteName,
  labDir: string,
  token: string,
  timings: EtcdTimings,
): string[] {
  const cluster = SITES.map((s) => `${s}=${peerUrl(net, basePort, s)}`).join(',');
  return [
    executable('etcd'),
    `--name=${site}`,
    `--data-dir=${path.join(labDir, `etcd-${site}`)}`,
    `--listen-client-urls=${etcdClientUrl(net, basePort, site)}`,
    `--advertise-client-urls=${etcdClientUrl(net, basePort, site)}`,
    `--listen-peer-urls=${peerUrl(net, basePort, site)}`,
    `--initial-advertise-peer-urls=${peerUrl(net, basePort, site)}`,
    `--initial-cluster=${cluster}`,
    '--initial-cluster-state=new',
    `--initial-cluster-token=${token}`,
    '--pre-vote=true',
    // Every published report and history entry is a new revision: without compaction the
    // database only grows (issue 13's scale figures). Five minutes is what Kubernetes keeps;
    // baton's watches re-read after a compaction (DESIGN.md "Adapters").
    '--auto-compaction-mode=periodic',
    '--auto-compaction-retention=5m',
    `--heartbeat-interval=${timings.heartbeatMs}`,
    `--election-timeout=${timings.electionTimeoutMs}`,
    '--logger=zap',
    '--log-level=warn',
  ];
}

function getHealth(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/health`, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"true"')));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export async function waitForEtcd(urls: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const healthy = await Promise.all(urls.map((url) => getHealth(url, 500)));
    if (healthy.every(Boolean)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new LabError(`etcd cluster did not become healthy within ${timeoutMs} ms (${urls.join(', ')})`);
}

/**
 * Puts etcd's raft leader on `member` (the witness), where the coordinators' etcd.preferredLeader
 * keeps it, so that a lab's first fault does not depend on where etcd happened to elect.
 */
export async function placeRaftLeader(urls: string[], member: SiteName, timeoutMs: number): Promise<void> {
  const pool = createEtcdClient({ endpoints: urls });
  const keeper = new RaftLeaderKeeper(pool, { endpoints: urls }, member, systemClock);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  try {
    while (Date.now() < deadline) {
      try {
        const outcome = await keeper.ensure(systemClock.now() + 2000);
        if (outcome.kind === 'in-place') return;
        last = outcome.kind === 'skipped' ? outcome.detail : `moved from ${outcome.from}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    keeper.close();
    pool.close();
  }
  throw new LabError(`etcd raft leadership did not move to ${member} within ${timeoutMs} ms: ${last}`);
}
