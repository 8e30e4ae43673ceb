import { performance } from 'node:perf_hooks';
import type { Clock, MonoMs } from './coordinator/ports.js';

/**
 * The real clock. Deadlines and lease validity are computed on performance.now(), which is
 * monotonic: a wall-clock step (NTP, an operator fixing the date) must never make a lease look
 * valid for longer than it is.
 */
export const systemClock: Clock = {
  now: (): MonoMs => performance.now(),
  wallNow: (): number => Date.now(),
  sleep: (ms: number, signal?: AbortSignal): Promise<void> => abortableSleep(ms, signal),
};

/** setTimeout as a promise that rejects with the signal's reason as soon as the signal aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
