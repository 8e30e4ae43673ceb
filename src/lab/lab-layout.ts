import path from 'node:path';
import {
  LAB_NODES,
  SITES,
  coordinatorHttpPort,
  etcdClientPort,
  etcdPeerPort,
  haproxyPort,
  mysqlPort,
  type SiteName,
} from './topology.js';

export const DEFAULT_LAB_DIR = '.baton-lab';

export function resolveLabDir(dir: string | undefined): string {
  return path.resolve(dir ?? DEFAULT_LAB_DIR);
}

/** The config `lab up` writes for the coordinator of a site (what `baton run` reads). */
export function coordinatorConfigPath(dir: string, site: SiteName): string {
  return path.join(dir, 'coordinators', `${site}.yaml`);
}

export function logPath(dir: string, name: string): string {
  return path.join(dir, 'logs', `${name}.log`);
}

/** Every port the lab listens on, with what it is for (for clear "port taken" errors). */
export function labPorts(
  basePort: number,
  runs: { coordinators?: boolean; haproxy?: boolean } = {},
): { port: number; purpose: string }[] {
  return [
    ...SITES.flatMap((site) => [
      { port: etcdClientPort(basePort, site), purpose: `etcd-${site} client` },
      { port: etcdPeerPort(basePort, site), purpose: `etcd-${site} peer` },
    ]),
    ...LAB_NODES.map((node) => ({ port: mysqlPort(basePort, node), purpose: `MariaDB ${node.name}` })),
    ...(runs.coordinators
      ? SITES.map((site) => ({
          port: coordinatorHttpPort(basePort, site),
          purpose: `coordinator-${site} http`,
        }))
      : []),
    ...(runs.haproxy
      ? [
          { port: haproxyPort(basePort, 'write'), purpose: 'haproxy write' },
          { port: haproxyPort(basePort, 'read'), purpose: 'haproxy read' },
        ]
      : []),
  ];
}
