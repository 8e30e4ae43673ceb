import { processState } from '../../../src/lab/processes.js';

/**
 * SIGSTOP, returning once every thread has stopped: the signal reaches a multi-threaded server's
 * threads one by one (src/lab/processes.ts), and a test that acts at once can still be answered.
 */
export async function stopProcess(pid: number, timeoutMs = 5_000): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  const deadline = Date.now() + timeoutMs;
  while (processState({ pid, startTicks: 0 }) !== 'stopped') {
    if (Date.now() > deadline) throw new Error(`pid ${pid} did not stop within ${timeoutMs} ms of SIGSTOP`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
