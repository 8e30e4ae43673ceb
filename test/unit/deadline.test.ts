import { describe, expect, it } from 'vitest';
import { abortableSleep, systemClock } from '../../src/clock.js';
import { DeadlineExceededError } from '../../src/coordinator/ports.js';
import { remainingMs, toWallDeadline, withDeadline } from '../../src/deadline.js';

const clock = systemClock;

describe('withDeadline', () => {
  it('resolves with the work when it finishes first', async () => {
    await expect(withDeadline(clock, clock.now() + 1000, 'x', Promise.resolve(7))).resolves.toBe(7);
  });

  it('rejects with DeadlineExceededError and runs onTimeout when the deadline wins', async () => {
    let cancelled = false;
    const never = new Promise<never>(() => undefined);
    const result = withDeadline(clock, clock.now() + 20, 'probe a1', never, () => {
      cancelled = true;
    });
    await expect(result).rejects.toBeInstanceOf(DeadlineExceededError);
    await expect(result).rejects.toThrow(/^probe a1: /);
    expect(cancelled).toBe(true);
  });

  it('fails at once for a deadline already passed, and swallows the late rejection', async () => {
    let cancelled = false;
    const late = Promise.reject(new Error('late'));
    await expect(
      withDeadline(clock, clock.now() - 1, 'x', late, () => (cancelled = true)),
    ).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(cancelled).toBe(true);
  });

  it('passes the work error through when it fails first', async () => {
    await expect(
      withDeadline(clock, clock.now() + 1000, 'x', Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
  });
});

describe('clock helpers', () => {
  it('converts a monotonic deadline to a wall-clock Date for gRPC', () => {
    const wall = toWallDeadline(clock, clock.now() + 5000).getTime();
    expect(wall - Date.now()).toBeGreaterThan(4000);
    expect(wall - Date.now()).toBeLessThanOrEqual(5000);
    expect(remainingMs(clock, clock.now() - 10)).toBe(0);
  });

  it('sleeps, and stops sleeping with the signal reason when aborted', async () => {
    const started = clock.now();
    await abortableSleep(20);
    expect(clock.now() - started).toBeGreaterThanOrEqual(15);
    const controller = new AbortController();
    const sleeping = abortableSleep(10_000, controller.signal);
    controller.abort(new Error('shutdown'));
    await expect(sleeping).rejects.toThrow('shutdown');
    await expect(abortableSleep(10, controller.signal)).rejects.toThrow('shutdown');
  });
});
