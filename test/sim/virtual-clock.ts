import type { Clock, MonoMs } from '../../src/coordinator/ports.js';
import type { ProcessGate } from './process-gate.js';
import type { Scheduler } from './scheduler.js';

/** Wall-clock origin of every simulated run (2026-01-01T00:00:00Z), so history `at` fields read well. */
export const SIM_WALL_ORIGIN = 1_767_225_600_000;

/** The Clock port as one simulated process sees it: virtual time, timers gated by its process. */
export class VirtualClock implements Clock {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly gate: ProcessGate,
    /** This host's wall-clock error: persisted times (cooldown) cross hosts, leases never do. */
    private readonly wallSkewMs = 0,
  ) {}

  now(): MonoMs {
    return this.scheduler.now();
  }

  wallNow(): number {
    return SIM_WALL_ORIGIN + this.scheduler.now() + this.wallSkewMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        this.scheduler.cancel(timer);
        reject(signal?.reason);
      };
      const timer = this.scheduler.after(ms, () =>
        this.gate.run(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
