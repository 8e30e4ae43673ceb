import { describe, expect, it } from 'vitest';
import { LeaseExpiredError } from '../../../src/coordinator/errors.js';
import { LeaseDeadline } from '../../../src/coordinator/lease-deadline.js';
import type { Clock, Session } from '../../../src/coordinator/ports.js';

function fakeClock(): Clock & { t: number } {
  return {
    t: 0,
    now() {
      return this.t;
    },
    wallNow() {
      return this.t;
    },
    sleep: () => Promise.resolve(),
  };
}

function fakeSession(validUntil: number): Session {
  const controller = new AbortController();
  return {
    leaseId: '1',
    ttlMs: 3000,
    marginMs: 300,
    validUntil: () => validUntil,
    signal: controller.signal,
    close: () => Promise.resolve(),
  };
}

describe('LeaseDeadline', () => {
  it('is valid strictly before validUntil and refuses side effects from then on', () => {
    const clock = fakeClock();
    const lease = new LeaseDeadline(clock, () => fakeSession(1000));
    clock.t = 999;
    expect(lease.valid()).toBe(true);
    expect(() => lease.require('open writes')).not.toThrow();
    clock.t = 1000;
    expect(lease.valid()).toBe(false);
    expect(() => lease.require('open writes')).toThrow(LeaseExpiredError);
  });

  it('is never valid without a session, or with an ended one', () => {
    const clock = fakeClock();
    expect(new LeaseDeadline(clock, () => undefined).valid()).toBe(false);
    const ended = new AbortController();
    ended.abort();
    const session: Session = { ...fakeSession(10_000), signal: ended.signal };
    expect(new LeaseDeadline(clock, () => session).valid()).toBe(false);
  });

  it('bounds a call deadline by the lease', () => {
    const clock = fakeClock();
    clock.t = 100;
    const lease = new LeaseDeadline(clock, () => fakeSession(600));
    expect(lease.boundedDeadline(1000)).toBe(600);
    expect(lease.boundedDeadline(200)).toBe(300);
  });
});
