/**
 * EtcdSession against a scripted lease service: which keepalive answers, which hangs. Real
 * timers with a 1 s TTL (ticks of 333 ms, hedges after 100 ms), so bounds are generous.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock as clock } from '../../../src/clock.js';
import { LeaseLostError, SessionExpiredError } from '../../../src/etcd/errors.js';
import { EtcdSession } from '../../../src/etcd/session.js';
import type { EtcdStore } from '../../../src/etcd/store.js';
import { fakeLeaseStore, keepaliveStream } from './fake-lease-store.js';

type Reply = 'answer' | 'hang' | 'gone';

class ScriptedLeases {
  sent: { at: number; reply: Reply }[] = [];
  revoked = 0;
  constructor(private readonly script: (attempt: number) => Reply) {}

  store(): EtcdStore {
    const leaseClient = {
      leaseGrant: async () => ({ ID: '4242', TTL: '1' }),
      leaseRevoke: async () => {
        this.revoked += 1;
        return {};
      },
      leaseKeepAlive: async () => {
        const reply = this.script(this.sent.length);
        this.sent.push({ at: clock.now(), reply });
        return keepaliveStream(() => (reply === 'hang' ? 'hang' : reply === 'gone' ? '0' : '1'), 5);
      },
    };
    return fakeLeaseStore(leaseClient);
  }
}

const sessions: EtcdSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close(clock.now() + 100).catch(() => undefined);
});

async function open(leases: ScriptedLeases): Promise<EtcdSession> {
  const session = await EtcdSession.create(leases.store(), 1000, clock.now() + 1000, { marginMs: 100 });
  sessions.push(session);
  return session;
}

describe('EtcdSession', () => {
  it('hedges: a hung keepalive is overtaken by a second attempt within the tick', async () => {
    // Every tick's first attempt hangs; the hedge answers.
    const leases = new ScriptedLeases((n) => (n % 2 === 0 ? 'hang' : 'answer'));
    const session = await open(leases);
    await clock.sleep(1500); // 1.5 TTL: every tick must have been acknowledged by its hedge
    expect(session.signal.aborted).toBe(false);
    expect(session.keepalivesAcknowledged).toBeGreaterThanOrEqual(3);
    // validUntil is based on the send time of the acknowledged (second) attempt, + TTL - margin.
    const answered = leases.sent.filter((s) => s.reply === 'answer').at(-1)!;
    expect(session.validUntil()).toBeCloseTo(answered.at + 1000 - 100, -1);
  });

  it('aborts at its own deadline when no keepalive is acknowledged, and revokes once etcd answers', async () => {
    const leases = new ScriptedLeases(() => 'hang');
    const createdAt = clock.now();
    const session = await open(leases);
    const abortedAt = await new Promise<number>((resolve) =>
      session.signal.addEventListener('abort', () => resolve(clock.now()), { once: true }),
    );
    expect(abortedAt - createdAt).toBeGreaterThan(800); // TTL 1000 - margin 100, from the grant
    expect(abortedAt - createdAt).toBeLessThan(1000); // never after the server could expire it
    expect(session.signal.reason).toBeInstanceOf(SessionExpiredError);
    expect(session.isValid()).toBe(false);
    await clock.sleep(50);
    expect(leases.revoked).toBeGreaterThanOrEqual(1);
  });

  it('aborts at once when etcd says the lease is gone, and reports it invalid', async () => {
    const leases = new ScriptedLeases((n) => (n === 0 ? 'answer' : 'gone'));
    const session = await open(leases);
    await new Promise((resolve) => session.signal.addEventListener('abort', resolve, { once: true }));
    expect(session.signal.reason).toBeInstanceOf(LeaseLostError);
    expect(session.validUntil()).toBeLessThanOrEqual(clock.now());
    expect(session.isValid()).toBe(false);
  });
});
