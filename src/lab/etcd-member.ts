import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { SITES, etcdClientPort, etcdPeerPort, type SiteName } from './topology.js';
import { siteAddress, type LabNetwork } from './network.js';
import { LabError } from './errors.js';
import { executable } from './preflight.js';
import { systemClock } from '../clock.js';
import type { EtcdClientSettings } from '../etcd/client.js';
import type { EtcdTimings } from './wan-profile.js';
import { isSecureLab, labTlsFiles } from './lab-security.js';
import type { LabState } from './lab-state.js';

export function etcdClientUrl(net: LabNetwork, basePort: number, site: SiteName, secure = false): string {
  return `${secure ? 'https' : 'http'}://${siteAddress(net, site)}:${etcdClientPort(basePort, site)}`;
}

/** The lab's etcd client URLs, one per site, https in a secure lab. */
export function labEtcdUrls(state: Pick<LabState, 'network' | 'basePort' | 'secure'>): string[] {
  return SITES.map((site) => etcdClientUrl(state.network, state.basePort, site, isSecureLab(state)));
}

/** etcd's own flags for a secure lab: TLS on client and peer traffic, client certificates required. */
export function etcdTlsFlags(labDir: string, site: SiteName): string[] {
  const files = labTlsFiles(labDir);
  return [
    `--cert-file=${files.siteCertFile(site)}`,
    `--key-file=${files.siteKeyFile(site)}`,
    `--trusted-ca-file=${files.caFile}`,
    '--client-cert-auth=true',
    `--peer-cert-file=${files.siteCertFile(site)}`,
    `--peer-key-file=${files.siteKeyFile(site)}`,
    `--peer-trusted-ca-file=${files.caFile}`,
    '--peer-client-cert-auth=true',
  ];
}

function peerUrl(net: LabNetwork, basePort: number, site: SiteName, secure: boolean): string {
  return `${secure ? 'https' : 'http'}://${siteAddress(net, site)}:${etcdPeerPort(basePort, site)}`;
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
  secure = false,
): string[] {
  const cluster = SITES.map((s) => `${s}=${peerUrl(net, basePort, s, secure)}`).join(',');
  const clientUrl = etcdClientUrl(net, basePort, site, secure);
  const ownPeerUrl = peerUrl(net, basePort, site, secure);
  return [
    executable('etcd'),
    `--name=${site}`,
    `--data-dir=${path.join(labDir, `etcd-${site}`)}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${ownPeerUrl}`,
    `--initial-advertise-peer-urls=${ownPeerUrl}`,
    ...(secure ? etcdTlsFlags(labDir, site) : []),
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

/** PEM contents for https: the CA to trust and the client certificate etcd may demand. */
export type HealthTls = EtcdClientSettings['tls'];

function getHealth(url: string, timeoutMs: number, tls: HealthTls): Promise<boolean> {
  return new Promise((resolve) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const options = { timeout: timeoutMs, ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}) };
    const req = get(`${url}/health`, options, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"true"')));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export async function waitForEtcd(urls: string[], timeoutMs: number, tls?: HealthTls): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const healthy = await Promise.all(urls.map((url) => getHealth(url, 500, tls)));
    if (healthy.every(Boolean)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new LabError(`etcd cluster did not become healthy within ${timeoutMs} ms (${urls.join(', ')})`);
}

/**
 * Puts etcd's raft leader on `member` (the witness), where the coordinators' etcd.preferredLeader
 * keeps it, so that a lab's first fault does not depend on where etcd happened to elect.
 */
export async function placeRaftLeader(
  access: string[] | EtcdClientSettings,
  member: SiteName,
  timeoutMs: number,
): Promise<void> {
  // Loaded here: every CLI command imports this module (for etcdClientUrl), and the etcd client
  // (gRPC, and protobuf parsing etcd's .proto at load) is about half a second of CPU.
  const [{ createEtcdClient }, { RaftLeaderKeeper }] = await Promise.all([
    import('../etcd/client.js'),
    import('../etcd/raft-leader.js'),
  ]);
  const settings = Array.isArray(access) ? { endpoints: access } : access;
  const pool = createEtcdClient(settings);
  const keeper = new RaftLeaderKeeper(pool, settings, member, systemClock);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  try {
    while (Date.now() < deadline) {
      const outcome = await keeper
        .ensure(systemClock.now() + 2000)
        .catch((error: unknown) => ({ kind: 'failed' as const, detail: (error as Error).message }));
      if (outcome.kind === 'in-place') return;
      // Asking again will not grant it: the lab's etcd client must log in as root.
      if (outcome.kind === 'not-permitted')
        throw new LabError(`cannot move etcd raft leadership to ${member}: ${outcome.detail}`);
      last = outcome.kind === 'moved' ? `moved from ${outcome.from}` : outcome.detail;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    keeper.close();
    pool.close();
  }
  throw new LabError(`etcd raft leadership did not move to ${member} within ${timeoutMs} ms: ${last}`);
}
