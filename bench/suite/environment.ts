/**
 * What a result depends on besides the code: the commit, the machine and the versions of what the
 * lab runs. docs/benchmarks.md quotes it with the figures.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface Environment {
  commit: string;
  /** Uncommitted changes in the checkout when the suite started. */
  dirty: boolean;
  node: string;
  cpus: string;
  memoryGiB: number;
  kernel: string;
  versions: Record<string, string>;
}

function firstLine(command: string, args: string[]): string {
  try {
    const out = execFileSync(command, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 5_000,
    });
    return (
      out
        .split('\n')
        .find((l) => l.trim() !== '')
        ?.trim() ?? 'unknown'
    );
  } catch {
    return 'not installed';
  }
}

function hasUncommittedChanges(): boolean {
  try {
    const out = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      timeout: 5_000,
    });
    return out.trim() !== '';
  } catch {
    return false;
  }
}

export function describeEnvironment(): Environment {
  const cpus = os.cpus();
  return {
    commit: firstLine('git', ['rev-parse', '--short', 'HEAD']),
    dirty: hasUncommittedChanges(),
    node: process.version,
    cpus: `${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    versions: {
      etcd: firstLine('etcd', ['--version']),
      mariadb: firstLine('mariadbd', ['--version']),
      haproxy: firstLine('haproxy', ['-v']),
      sysbench: firstLine('sysbench', ['--version']),
    },
  };
}
