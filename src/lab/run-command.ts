import { execFile } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a short-lived helper (ip, iptables, mariadb-install-db) with a hard timeout. */
export function runCommand(argv: string[], timeoutMs = 30_000): Promise<CommandResult> {
  const [command, ...args] = argv as [string, ...string[]];
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) || (error?.message ?? '') });
    });
  });
}

export async function runOrThrow(argv: string[], timeoutMs = 30_000): Promise<string> {
  const result = await runCommand(argv, timeoutMs);
  if (result.code !== 0) {
    throw new Error(`${argv.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
  }
  return result.stdout;
}
