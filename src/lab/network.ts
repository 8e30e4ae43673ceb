import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCommand, runOrThrow } from './run-command.js';
import {
  LAB_NODES,
  SITES,
  etcdClientPort,
  etcdPeerPort,
  mysqlPort,
  wanProxyPort,
  type SiteName,
} from './topology.js';

/**
 * The lab's WAN. In `netns` mode (root) every site is a network namespace joined to a bridge
 * by a veth pair, so `cut` is a real partition (iptables DROP inside the site) that includes
 * etcd peer traffic. Traffic between sites is DNATed inside the sending site to one WAN proxy
 * on the bridge, which adds per-link one-way latency (this kernel has no tc netem).
 * The host (tests, CLI, operator) reaches every site directly through HOST_ADDRESS, which
 * no fault touches, so an observer can still watch a cut site.
 * In `flat` mode (ordinary user) everything listens on 127.0.0.1 and link faults are refused.
 */
export type NetworkMode = 'netns' | 'flat';

export interface LabNetwork {
  mode: NetworkMode;
  /** Third octet of 198.18.<subnet>.0/24 (RFC 2544 benchmark range), derived from the lab dir. */
  subnet: number;
}

const HOST_OCTET = 254;
const PROXY_OCTET = 253;

const SUBNETS = 200;
const RESERVATIONS = '/run/baton-lab';

function reservationFile(subnet: number): string {
  return path.join(RESERVATIONS, String(subnet));
}

/**
 * Reserves a /24 for this lab: starting from one derived from the directory, the first whose
 * reservation file we can create exclusively. Labs started at the same moment (parallel tests)
 * can never share a subnet, and a reservation left by a lab whose directory is gone is reclaimed.
 */
export function reserveSubnet(dir: string): number {
  mkdirSync(RESERVATIONS, { recursive: true });
  const start = createHash('sha256').update(dir).digest().readUInt16BE(0) % SUBNETS;
  for (let i = 0; i < SUBNETS; i++) {
    const subnet = 20 + ((start + i) % SUBNETS);
    const file = reservationFile(subnet);
    try {
      writeFileSync(file, dir, { flag: 'wx' });
    } catch {
      const owner = readFileSync(file, 'utf8');
      const stale = owner !== dir && !existsSync(path.join(owner, 'lab.json'));
      if (!stale && owner !== dir) continue;
      writeFileSync(file, dir);
    }
    const net: LabNetwork = { mode: 'netns', subnet };
    if (
      SITES.some((site) => netnsExists(netnsName(net, site))) ||
      existsSync(`/sys/class/net/${bridgeName(net)}`)
    ) {
      // Made by something that did not reserve it: leave it alone.
      continue;
    }
    return subnet;
  }
  throw new Error(`no free lab subnet in 198.18.20-219.0/24 (reservations in ${RESERVATIONS})`);
}

/** Gives the subnet back, only if this lab holds it. */
export function releaseSubnet(net: LabNetwork, dir: string): void {
  const file = reservationFile(net.subnet);
  try {
    if (readFileSync(file, 'utf8') === dir) unlinkSync(file);
  } catch {
    // already released
  }
}

export function siteAddress(net: LabNetwork, site: SiteName): string {
  return net.mode === 'flat' ? '127.0.0.1' : `198.18.${net.subnet}.${SITES.indexOf(site) + 1}`;
}

export function hostAddress(net: LabNetwork): string {
  return net.mode === 'flat' ? '127.0.0.1' : `198.18.${net.subnet}.${HOST_OCTET}`;
}

export function proxyAddress(net: LabNetwork): string {
  return `198.18.${net.subnet}.${PROXY_OCTET}`;
}

export function netnsName(net: LabNetwork, site: SiteName): string {
  return `baton${net.subnet}-${site}`;
}

function bridgeName(net: LabNetwork): string {
  return `btn${net.subnet}br`;
}

function vethName(net: LabNetwork, site: SiteName): string {
  return `btn${net.subnet}${site}`;
}

/** One proxied path: connections from `from` to a service in site `to`. */
export interface WanRoute {
  from: SiteName;
  to: SiteName;
  service: string;
  listenHost: string;
  listenPort: number;
  targetHost: string;
  targetPort: number;
}

export function wanRoutes(net: LabNetwork, basePort: number): WanRoute[] {
  const services: { name: string; site: SiteName; port: number }[] = [];
  for (const site of SITES) {
    services.push({ name: `etcd-${site}-client`, site, port: etcdClientPort(basePort, site) });
    services.push({ name: `etcd-${site}-peer`, site, port: etcdPeerPort(basePort, site) });
  }
  for (const node of LAB_NODES) {
    services.push({ name: node.name, site: node.site, port: mysqlPort(basePort, node) });
  }
  const routes: WanRoute[] = [];
  for (const from of SITES) {
    services.forEach((service, index) => {
      if (service.site === from) return;
      routes.push({
        from,
        to: service.site,
        service: service.name,
        listenHost: proxyAddress(net),
        listenPort: wanProxyPort(basePort, from, index),
        targetHost: siteAddress(net, service.site),
        targetPort: service.port,
      });
    });
  }
  return routes;
}

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`) || existsSync(`/var/run/netns/${name}`);
}

async function ns(net: LabNetwork, site: SiteName, argv: string[]): Promise<string> {
  return runOrThrow(['ip', 'netns', 'exec', netnsName(net, site), ...argv]);
}

/** The bridge joining the sites, with the host's and the WAN proxy's addresses on it. */
export async function createBridge(net: LabNetwork): Promise<void> {
  const bridge = bridgeName(net);
  await runOrThrow(
    ['ip', '-batch', '-'],
    30_000,
    ipBatch([
      `link add ${bridge} type bridge`,
      `addr add ${hostAddress(net)}/24 dev ${bridge}`,
      `addr add ${proxyAddress(net)}/24 dev ${bridge}`,
      `link set ${bridge} up`,
    ]),
  );
}

/**
 * Each site's namespace, joined to the bridge (createBridge first). `listenPorts`: the lab
 * servers' ports, reserved from ephemeral use inside every site's namespace. The reservation
 * scripts/setup makes is per namespace and does not reach them: an outgoing connection in site b
 * once took 33106, and b1 could not bind it ("Address already in use", one `lab up` in 15 at
 * intercontinental).
 */
export async function createSites(net: LabNetwork, listenPorts: readonly number[]): Promise<void> {
  // One at a time: the first `ip netns add` on a machine sets up /run/netns, and two doing that
  // at once could stack its mounts. Each is a few milliseconds.
  for (const site of SITES) await runOrThrow(['ip', 'netns', 'add', netnsName(net, site)]);
  // The rest of each site is its own, and a command costs about 20 ms of process start-up: the
  // sites are wired side by side, each in a few batched commands.
  await Promise.all(SITES.map((site) => wireSite(net, site, listenPorts)));
}

function ipBatch(commands: string[]): string {
  return `${commands.join('\n')}\n`;
}

async function wireSite(net: LabNetwork, site: SiteName, listenPorts: readonly number[]): Promise<void> {
  const name = netnsName(net, site);
  // Our subnet is reserved for us, so a leftover link by this name is an earlier lab's remains.
  await runCommand(['ip', 'link', 'del', vethName(net, site)]);
  await runOrThrow(
    ['ip', '-batch', '-'],
    30_000,
    ipBatch([
      `link add ${vethName(net, site)} type veth peer name wan0 netns ${name}`,
      `link set ${vethName(net, site)} master ${bridgeName(net)} up`,
    ]),
  );
  await runOrThrow(
    ['ip', '-n', name, '-batch', '-'],
    30_000,
    ipBatch([`addr add ${siteAddress(net, site)}/24 dev wan0`, 'link set wan0 up', 'link set lo up']),
  );
  await ns(net, site, ['sysctl', '-q', '-w', `net.ipv4.ip_local_reserved_ports=${listenPorts.join(',')}`]);
  // Cut rules live in their own chains so `heal` is a flush, never a guess at rule numbers.
  await runOrThrow(
    ['ip', 'netns', 'exec', name, 'iptables-restore', '--noflush'],
    10_000,
    [
      '*filter',
      ':BATON_CUT_IN - [0:0]',
      ':BATON_CUT_OUT - [0:0]',
      '-A INPUT -i wan0 -j BATON_CUT_IN',
      '-A OUTPUT -o wan0 -j BATON_CUT_OUT',
      'COMMIT',
      '',
    ].join('\n'),
  );
}

/** Sends every cross-site TCP connection through the WAN proxy (see wan-proxy.ts). */
export async function installRedirects(net: LabNetwork, routes: WanRoute[]): Promise<void> {
  await Promise.all(
    SITES.map((site) => {
      const rules = routes
        .filter((route) => route.from === site)
        .map(
          (route) =>
            `-A OUTPUT -p tcp -d ${route.targetHost} --dport ${route.targetPort} ` +
            `-j DNAT --to-destination ${route.listenHost}:${route.listenPort}`,
        );
      return runOrThrow(
        ['ip', 'netns', 'exec', netnsName(net, site), 'iptables-restore', '--noflush'],
        10_000,
        ['*nat', ...rules, 'COMMIT', ''].join('\n'),
      );
    }),
  );
}

export async function destroyNetwork(net: LabNetwork): Promise<void> {
  // Deleting a veth end removes the pair at once; a netns delete leaves its interfaces to a
  // kernel work queue, and the next lab to take this subnet then met "btnNa: File exists".
  // One batch (-force: go on past what is already gone), not a process per command.
  const commands = SITES.flatMap((site) => [
    `link del ${vethName(net, site)}`,
    ...(netnsExists(netnsName(net, site)) ? [`netns del ${netnsName(net, site)}`] : []),
  ]);
  await runCommand(
    ['ip', '-force', '-batch', '-'],
    30_000,
    ipBatch([...commands, `link del ${bridgeName(net)}`]),
  );
}

/** When one namespace's rule change ran: it took effect at one instant inside this window. */
export interface RuleChangeWindow {
  site: SiteName;
  /** Epoch ms just before iptables-restore started. */
  startedAt: number;
  /** Epoch ms just after it returned. */
  endedAt: number;
}

/**
 * The rules that keep `cutSites` cut off, per namespace, as iptables-restore input. A cut site
 * drops everything on its WAN link except traffic with the host (the observer). The other sites
 * also drop what they send towards a cut site's services through the WAN proxy: the proxy would
 * otherwise accept their connects at once (it is on the bridge, not in the cut site), and a
 * client would see a cut-off server accept a TCP connection. Declaring a chain flushes it, so a
 * namespace's whole cut state changes in one atomic table commit.
 */
export function cutRules(
  net: LabNetwork,
  cutSites: readonly SiteName[],
  routes: readonly WanRoute[],
): Map<SiteName, string> {
  const host = hostAddress(net);
  const rules = new Map<SiteName, string>();
  for (const site of SITES) {
    const lines = ['*filter', ':BATON_CUT_IN - [0:0]', ':BATON_CUT_OUT - [0:0]'];
    if (cutSites.includes(site)) {
      lines.push(`-A BATON_CUT_IN ! -s ${host} -j DROP`, `-A BATON_CUT_OUT ! -d ${host} -j DROP`);
    }
    for (const cut of cutSites.filter((s) => s !== site)) {
      const ports = routes.filter((r) => r.from === site && r.to === cut).map((r) => r.listenPort);
      // Matched after DNAT (filter OUTPUT sees the rewritten destination): the proxy's ports for
      // this path. multiport takes at most 15 ports per rule.
      for (let i = 0; i < ports.length; i += 15) {
        const chunk = ports.slice(i, i + 15).join(',');
        lines.push(`-A BATON_CUT_OUT -d ${proxyAddress(net)} -p tcp -m multiport --dports ${chunk} -j DROP`);
      }
    }
    lines.push('COMMIT', '');
    rules.set(site, lines.join('\n'));
  }
  return rules;
}

/**
 * Puts the lab in the state where exactly `cutSites` are cut off (none: healed), each namespace
 * in one atomic commit. `first` (the site whose cut changes) goes alone and first: its own
 * rules are what cut or reconnect it, and one namespace's change is timed to about 10 ms, where
 * three in parallel on two cores took up to 100 ms. The other namespaces follow together (their
 * rules only stop connects to the cut site through the WAN proxy). Returns each namespace's
 * window, the first one first, so a fault is timed by when it took effect, not by when a command
 * began (half a second of Node start-up).
 */
export async function setCutSites(
  net: LabNetwork,
  cutSites: readonly SiteName[],
  routes: readonly WanRoute[],
  first?: SiteName,
): Promise<RuleChangeWindow[]> {
  const rules = cutRules(net, cutSites, routes);
  const change = async (site: SiteName): Promise<RuleChangeWindow> => {
    const startedAt = Date.now();
    await runOrThrow(
      ['ip', 'netns', 'exec', netnsName(net, site), 'iptables-restore', '--noflush'],
      10_000,
      rules.get(site),
    );
    return { site, startedAt, endedAt: Date.now() };
  };
  const leading = first === undefined ? [] : [await change(first)];
  const rest = await Promise.all(SITES.filter((site) => site !== first).map(change));
  return [...leading, ...rest];
}
