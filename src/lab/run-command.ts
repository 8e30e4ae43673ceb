import { execFile } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a short-lived helper (ip, iptables, mariadb-install-db) with a hard timeout; `input`, if
 * given, is written to its standard input (iptables-restore reads its rules there).
 */
export function runCommand(argv: string[], timeoutMs = 30_000, input?: string): Promise<CommandResult> {
  const [command, ...args] = argv as [string, ...string[]];
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) || (error?.message ?? '') });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

export async function runOrThrow(argv: string[], timeoutMs = 30_000, input?: string): Promise<string> {
  const result = await runCommand(argv, timeoutMs, input);
  if (result.code !== 0) {
    throw new Error(`${argv.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
  }
  return result.stdout;
}
