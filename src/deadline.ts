import { DeadlineExceededError, type Clock, type MonoMs } from './coordinator/ports.js';

/** Milliseconds left until a monotonic deadline (never negative). */
export function remainingMs(clock: Clock, deadline: MonoMs): number {
  return Math.max(0, deadline - clock.now());
}

/**
 * Translate a monotonic deadline into the wall-clock Date that gRPC expects. The conversion is
 * done at call time, so a wall-clock step can only shift the deadline of calls already in
 * flight, never the lease arithmetic (which stays monotonic).
 */
export function toWallDeadline(clock: Clock, deadline: MonoMs): Date {
  return new Date(Date.now() + remainingMs(clock, deadline));
}

/**
 * Race a promise against a monotonic deadline. When the deadline wins, `onTimeout` runs (to
 * destroy the socket, cancel the stream...) and the result rejects with DeadlineExceededError.
 * The losing promise's later rejection is swallowed so it cannot become an unhandled rejection.
 */
export function withDeadline<T>(
  clock: Clock,
  deadline: MonoMs,
  what: string,
  work: Promise<T>,
  onTimeout?: () => void,
): Promise<T> {
  const left = deadline - clock.now();
  if (left <= 0) {
    work.catch(() => undefined);
    onTimeout?.();
    return Promise.reject(new DeadlineExceededError(`${what}: deadline already passed`));
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      onTimeout?.();
      reject(new DeadlineExceededError(`${what}: no answer within ${Math.round(left)} ms`));
    }, left);
    work.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
