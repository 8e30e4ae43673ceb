import { spawn } from 'node:child_process';
import { openSync, closeSync, readdirSync, readFileSync } from 'node:fs';
import { LabError } from './errors.js';

/**
 * Lab processes are started detached (they outlive the `baton lab up` command) and are
 * identified later by pid plus the kernel's start time, so a recycled pid is never mistaken
 * for one of ours and never killed by `lab down`.
 */
export interface ProcessRecord {
  pid: number;
  /** /proc/<pid>/stat field 22: clock ticks since boot when the process started. */
  startTicks: number;
  argv: string[];
  log: string;
}

export type ProcessState = 'running' | 'stopped' | 'dead';

export interface SpawnRequest {
  argv: string[];
  logFile: string;
  /** Run inside this network namespace (`ip netns exec` execs in place, so the pid is the program's). */
  netns?: string;
  env?: NodeJS.ProcessEnv;
}

export async function spawnDetached(req: SpawnRequest): Promise<ProcessRecord> {
  const argv = req.netns ? ['ip', 'netns', 'exec', req.netns, ...req.argv] : req.argv;
  const [command, ...args] = argv as [string, ...string[]];
  const logFd = openSync(req.logFile, 'a');
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: req.env ?? process.env,
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve(child.pid as number));
    });
    child.unref();
    return { pid, startTicks: readStartTicks(pid) ?? 0, argv: req.argv, log: req.logFile };
  } finally {
    closeSync(logFd);
  }
}

function readStat(pid: number, task?: string): string[] | undefined {
  try {
    const stat = readFileSync(task ? `/proc/${pid}/task/${task}/stat` : `/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: split after the last ')'.
    const afterName = stat.slice(stat.lastIndexOf(')') + 2);
    return afterName.split(' ');
  } catch {
    return undefined;
  }
}

function readStartTicks(pid: number): number | undefined {
  const fields = readStat(pid);
  // afterName starts at field 3 (state); starttime is field 22.
  return fields ? Number(fields[22 - 3]) : undefined;
}

export function processState(record: Pick<ProcessRecord, 'pid' | 'startTicks'>): ProcessState {
  const fields = readStat(record.pid);
  if (!fields) return 'dead';
  if (record.startTicks && Number(fields[22 - 3]) !== record.startTicks) return 'dead';
  const state = fields[0];
  if (state === 'Z' || state === 'X') return 'dead';
  if (isStoppedState(state) && everyThreadStopped(record.pid)) return 'stopped';
  return 'running';
}

function isStoppedState(state: string | undefined): boolean {
  return state === 'T' || state === 't';
}

/**
 * A SIGSTOP stops a multi-threaded process lazily: the thread that takes the signal stops, then
 * tells the others, each stopping when it next runs. Until then a thread of mariadbd can still
 * answer a query (seen on a loaded 2-core machine: a "hung" server answered SELECT 1). So a
 * process is stopped only once every one of its threads is.
 */
function everyThreadStopped(pid: number): boolean {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  return tasks.every((task) => {
    const fields = readStat(pid, task);
    // A thread that exited between the listing and the read stops nothing.
    return fields === undefined || isStoppedState(fields[0]);
  });
}

export function signalProcess(
  record: Pick<ProcessRecord, 'pid' | 'startTicks'>,
  signal: NodeJS.Signals,
): boolean {
  if (processState(record) === 'dead') return false;
  try {
    process.kill(record.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends the signal and waits until the process is in the state it causes (`target` names it in
 * the error); returns when it was sent.
 */
export async function signalUntil(
  record: Pick<ProcessRecord, 'pid' | 'startTicks'>,
  signal: NodeJS.Signals,
  wanted: ProcessState,
  target: string,
): Promise<number> {
  const at = Date.now();
  signalProcess(record, signal);
  const deadline = Date.now() + 5_000;
  while (processState(record) !== wanted) {
    if (Date.now() > deadline) throw new LabError(`${target} did not become ${wanted} within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return at;
}

/** Sends signal, then SIGKILL after graceMs, and resolves once every process is gone. */
export async function stopProcesses(
  records: ProcessRecord[],
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  for (const r of records) {
    // A stopped process cannot act on SIGTERM; wake it so it can exit.
    if (processState(r) === 'stopped') signalProcess(r, 'SIGCONT');
    signalProcess(r, signal);
  }
  const started = Date.now();
  let killed = signal === 'SIGKILL';
  for (;;) {
    const alive = records.filter((r) => processState(r) !== 'dead');
    if (alive.length === 0) return;
    if (!killed && Date.now() - started > graceMs) {
      for (const r of alive) signalProcess(r, 'SIGKILL');
      killed = true;
    }
    if (Date.now() - started > graceMs + 10_000) {
      throw new Error(`processes did not exit: ${alive.map((r) => r.pid).join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
