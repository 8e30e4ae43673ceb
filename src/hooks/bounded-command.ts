import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/**
 * One external command, bounded (DESIGN.md invariant 5: every external call has a deadline).
 * It runs without a shell, in a process group of its own and with a clean environment; at its
 * deadline the whole group is SIGKILLed, so a script's `sleep 60` grandchild dies with it, and
 * the result comes at the deadline even when something still holds the stderr pipe open. It
 * never throws: every way a command can end is an `outcome`. (Its own process group also means
 * that a SIGKILL of baton itself does not reach a command in progress: that one ends on its own.)
 */
export interface BoundedCommandOptions {
  timeoutMs: number;
  /** The only variables the child gets besides PASSTHROUGH_VARIABLES (these win over them). */
  env?: Readonly<Record<string, string>>;
  /** Aborting kills the process group at once; the outcome is then `killed: <reason>`. */
  signal?: AbortSignal;
}

export interface BoundedCommandResult {
  /** Exited by itself with status 0. */
  ok: boolean;
  /** `exit 0`, `exit 3`, `signal SIGTERM`, `timeout after 500 ms`, `killed: stopping`, `could not start: …`. */
  outcome: string;
  /** The exit status when it exited by itself. */
  exitCode?: number;
  ms: number;
  /** The last lines it wrote to stderr (at most STDERR_TAIL_LINES, joined with " | "). */
  stderrTail: string;
}

/**
 * What the child inherits from baton's own environment, and nothing else: baton's may hold
 * BATON_MYSQL_PASSWORD (`passwordEnv`) or the etcd credentials.
 */
export const PASSTHROUGH_VARIABLES = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'HOME'] as const;

/** How much stderr is kept while the command runs, and how many of its last lines are reported. */
const STDERR_KEEP_CHARS = 4_096;
const STDERR_TAIL_LINES = 3;
/**
 * After the command exits, how long its stderr may stay open before we stop reading: a
 * background grandchild that inherited the pipe must not hold the result back.
 */
export const EXIT_DRAIN_MS = 100;

/** The child's whole environment: the passthrough variables that are set, then `extra`. */
export function cleanEnvironment(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSTHROUGH_VARIABLES) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) {
    // A NUL cannot be in an environment string; spawn would refuse the whole command for it.
    env[name] = value.replace(/\0/g, '');
  }
  return env;
}

/** The last few non-empty lines of `text`, on one line. */
export function tailLines(text: string, lines = STDERR_TAIL_LINES): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(-lines)
    .join(' | ');
}

export function runBoundedCommand(
  argv: readonly string[],
  options: BoundedCommandOptions,
): Promise<BoundedCommandResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const [command, ...args] = argv;
  if (command === undefined || command === '') {
    return Promise.resolve({ ok: false, outcome: 'could not start: empty argv', ms: 0, stderrTail: '' });
  }
  if (options.signal?.aborted) {
    return Promise.resolve({ ok: false, outcome: killedOutcome(options.signal), ms: 0, stderrTail: '' });
  }

  return new Promise((resolve) => {
    let stderr = '';
    let settled = false;
    let exited: { outcome: string; exitCode?: number } | undefined;
    let child: ChildProcess | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const killGroup = () => {
      const pid = child?.pid;
      if (pid === undefined) return;
      try {
        // detached: the child leads a process group whose id is its pid; -pid is all of it.
        process.kill(-pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is already empty.
      }
    };
    const onAbort = () => {
      killGroup();
      finish(false, killedOutcome(options.signal));
    };
    const finish = (ok: boolean, outcome: string, exitCode?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      options.signal?.removeEventListener('abort', onAbort);
      // Stop reading: a grandchild still holding the pipe must not keep this process busy.
      child?.stderr?.destroy();
      const result: BoundedCommandResult = { ok, outcome, ms: elapsed(), stderrTail: tailLines(stderr) };
      if (exitCode !== undefined) result.exitCode = exitCode;
      resolve(result);
    };
    const finishExited = () => {
      if (!exited) return;
      finish(exited.exitCode === 0, exited.outcome, exited.exitCode);
    };

    const timer = setTimeout(
      () => {
        if (exited) {
          // It exited in time; only its stragglers outlived the deadline.
          killGroup();
          finishExited();
          return;
        }
        killGroup();
        finish(false, `timeout after ${options.timeoutMs} ms`);
      },
      Math.max(0, options.timeoutMs),
    );

    try {
      child = spawn(command, args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: cleanEnvironment(options.env),
        detached: true,
        shell: false,
      });
    } catch (error) {
      // Synchronous refusals (an argument with a NUL byte, say) end like a missing program.
      finish(false, `could not start: ${(error as Error).message}`);
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP_CHARS);
    });
    child.stderr?.on('error', () => {
      // Destroyed by finish(), or a read error: either way what we have is the tail.
    });
    child.on('error', (error) => {
      // Emitted when the program could not be started (no pid), or when a kill failed (ignored).
      if (child?.pid === undefined) finish(false, `could not start: ${error.message}`);
    });
    child.on('exit', (code, signal) => {
      // Already settled (timeout, abort): the group was killed then; its pid may not be ours for long.
      if (settled) return;
      exited = signal ? { outcome: `signal ${signal}` } : { outcome: `exit ${code}`, exitCode: code ?? -1 };
      // 'close' follows once stderr is drained; anything still holding the pipe after
      // EXIT_DRAIN_MS is a straggler of the command's group: killed, and not waited for.
      drainTimer = setTimeout(() => {
        killGroup();
        finishExited();
      }, EXIT_DRAIN_MS);
    });
    child.on('close', finishExited);
  });
}

function killedOutcome(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  const text = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'aborted';
  return `killed: ${text}`;
}
