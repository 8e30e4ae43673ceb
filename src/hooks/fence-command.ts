import { runBoundedCommand, type BoundedCommandResult } from './bounded-command.js';

/**
 * STONITH: the operator's command that makes a node certainly unable to take writes when SQL
 * cannot (a hung mysqld never answers SET read_only, and resumes writable). Typically it kills
 * the mysqld or powers the host off. It runs without a shell, with a hard deadline that kills
 * its whole process group, and gets its target both as {placeholders} in argv and in the
 * environment.
 */
export interface FenceTarget {
  cluster: string;
  node: string;
  host: string;
  port: number;
}

/** `ok`, `outcome` (exit code, signal, "timeout after N ms" or spawn error), `ms`, `stderrTail`. */
export type FenceCommandResult = BoundedCommandResult;

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
  return runBoundedCommand(expandArgv(argv, target), {
    timeoutMs,
    // Deliberately NOT process.env any more (it used to be inherited): baton's environment may
    // hold BATON_MYSQL_PASSWORD or other secrets. The command gets PATH, LANG, LC_ALL, TZ and
    // HOME from it, and its target.
    env: {
      BATON_CLUSTER: target.cluster,
      BATON_NODE: target.node,
      BATON_HOST: target.host,
      BATON_PORT: String(target.port),
    },
  });
}
