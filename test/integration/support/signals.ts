import { signalUntil } from '../../../src/lab/processes.js';

/**
 * SIGSTOP, returning once every thread has stopped: the signal reaches a multi-threaded server's
 * threads one by one (src/lab/processes.ts), and a test that acts at once can still be answered.
 */
export async function stopProcess(pid: number): Promise<void> {
  await signalUntil({ pid, startTicks: 0 }, 'SIGSTOP', 'stopped', `pid ${pid}`);
}
