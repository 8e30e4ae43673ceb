import { accessSync, constants } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { runCommand } from './run-command.js';
import { LabError } from './errors.js';

/**
 * Where server binaries are looked up: BATON_LAB_BIN_PATH (a PATH-style list, e.g. for a custom
 * build of etcd or MariaDB) or PATH plus the sbin directories an ordinary user's PATH lacks.
 */
function searchPath(): string[] {
  const override = process.env.BATON_LAB_BIN_PATH;
  if (override !== undefined) return override.split(':').filter(Boolean);
  return (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin']);
}

export function findExecutable(name: string): string | undefined {
  for (const dir of searchPath()) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

const REQUIRED: { binary: string; packages: string }[] = [
  { binary: 'etcd', packages: 'etcd-server etcd-client' },
  { binary: 'mariadbd', packages: 'mariadb-server mariadb-client' },
  { binary: 'mariadb-install-db', packages: 'mariadb-server' },
];

/** Absolute path of a server binary, so children never depend on the caller's PATH. */
export function executable(name: string): string {
  const found = findExecutable(name);
  if (!found) checkBinaries(false);
  return found ?? name;
}

export function checkBinaries(needNetns: boolean, needHaproxy = false): void {
  const required = [
    ...REQUIRED,
    ...(needNetns ? [{ binary: 'iptables', packages: 'iptables' }] : []),
    ...(needHaproxy ? [{ binary: 'haproxy', packages: 'haproxy' }] : []),
  ];
  const missing = required.filter((r) => !findExecutable(r.binary));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((m) => m.packages))].join(' ');
    throw new LabError(
      `${missing.map((m) => m.binary).join(', ')} not found: install with \`sudo apt-get install -y ${packages}\` (or run scripts/setup)`,
    );
  }
}

/** Tries to bind the port, so we find out before starting anything that it is taken. */
function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function describePortOwner(port: number): Promise<string | undefined> {
  const result = await runCommand(['ss', '-Hltnp', `sport = :${port}`], 3_000);
  const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(result.stdout);
  return match ? `${match[1]} (pid ${match[2]})` : undefined;
}

export async function checkPortsFree(
  host: string,
  ports: { port: number; purpose: string }[],
): Promise<void> {
  for (const { port, purpose } of ports) {
    if (!(await portIsFree(host, port))) {
      const owner = await describePortOwner(port);
      throw new LabError(
        `port ${port} on ${host} (needed for ${purpose}) is already in use${owner ? ` by ${owner}` : ''}; ` +
          'stop that process or choose other ports with --base-port',
      );
    }
  }
}
