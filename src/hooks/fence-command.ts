import { spawn } from 'node:child_process';

/**
 * STONITH: the operator's command that makes a node certainly unable to take writes when SQL
 * cannot (a hung mysqld never answers SET read_only, and resumes writable). Typically it kills
 * the mysqld or powers the host off. It runs without a shell, with a hard deadline, and gets
 * its target both as {placeholders} in argv and in the environment.
 */
export interface FenceTarget {
  cluster: string;
  node: string;
  host: string;
  port: number;
}

export interface FenceCommandResult {
  ok: boolean;
  /** Exit code, or the signal / "timeout" / spawn error that ended it. */
  outcome: string;
  ms: number;
  /** The last lines it printed to stderr, for the log and history. */
  stderrTail: string;
}

export function expandArgv(argv: readonly string[], target: FenceTarget): string[] {
  const values: Record<string, string> = {
    cluster: target.cluster,
    node: target.node,
    host: target.host,
    port: String(target.port),
  };
  return argv.map((arg) =>
    arg.replace(/\{(cluster|node|host|port)\}/g, (_, key: string) => values[key] as string),
  );
}

export function runFenceCommand(
  argv: readonly string[],
  target: FenceTarget,
  timeoutMs: number,
): Promise<FenceCommandResult> {
  const started = Date.now();
  const [command, ...args] = expandArgv(argv, target) as [string, ...string[]];
  return new Promise((resolve) => {
    let stderr = '';
    let settled = false;
    const finish = (ok: boolean, outcome: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        ok,
        outcome,
        ms: Date.now() - started,
        stderrTail: stderr.trim().split('\n').slice(-3).join(' | '),
      });
    };
    const child = spawn(command, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        BATON_CLUSTER: target.cluster,
        BATON_NODE: target.node,
        BATON_HOST: target.host,
        BATON_PORT: String(target.port),
      },
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(false, `timeout after ${timeoutMs} ms`);
    }, timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4_000);
    });
    child.on('error', (error) => finish(false, `could not start: ${error.message}`));
    child.on('exit', (code, signal) => finish(code === 0, signal ? `signal ${signal}` : `exit ${code}`));
  });
}
