/**
 * One simulated coordinator process. Every callback into the process (timers, port results,
 * session signals) passes through its gate, so the nemesis can pause the process (callbacks wait,
 * like a long GC or SIGSTOP: the world moves on, the process sees it all at once on resume) or
 * crash it (callbacks are dropped; a restart builds a fresh process with a fresh gate).
 */
export type ProcessState = 'running' | 'paused' | 'crashed';

export class ProcessGate {
  private deferred: (() => void)[] = [];
  private current: ProcessState = 'running';

  get state(): ProcessState {
    return this.current;
  }

  /** Run fn inside the process now, later (paused) or never (crashed). */
  run(fn: () => void): void {
    if (this.current === 'running') fn();
    else if (this.current === 'paused') this.deferred.push(fn);
  }

  /** A promise that settles like `work`, but only while the process runs. */
  pass<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      work.then(
        (value) => this.run(() => resolve(value)),
        (error: unknown) => this.run(() => reject(error)),
      );
    });
  }

  pause(): void {
    if (this.current === 'running') this.current = 'paused';
  }

  resume(): void {
    if (this.current !== 'paused') return;
    this.current = 'running';
    const queued = this.deferred;
    this.deferred = [];
    for (const fn of queued) fn();
  }

  crash(): void {
    this.current = 'crashed';
    this.deferred = [];
  }
}
