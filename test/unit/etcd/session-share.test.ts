/**
 * SessionShare: every cluster loop of a process holds one lease; the last holder revokes it; a
 * lost lease is replaced by one grant for all; a failed grant is not retried before a backoff.
 * Real EtcdSessions against a scripted lease service (grants and revokes counted).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock as clock } from '../../../src/clock.js';
import { StoreUnavailableError } from '../../../src/etcd/errors.js';
import { EtcdSession } from '../../../src/etcd/session.js';
import { GRANT_BACKOFF_MIN_MS, SessionShare } from '../../../src/etcd/session-share.js';
import type { EtcdStore } from '../../../src/etcd/store.js';
import { fakeLeaseStore, keepaliveStream } from './fake-lease-store.js';

class ScriptedLeaseService {
  grants = 0;
  revoked: string[] = [];
  failGrants = false;

  store(): EtcdStore {
    const leaseClient = {
      leaseGrant: async () => {
        this.grants += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (this.failGrants) throw new Error('14 UNAVAILABLE: no connection established');
        return { ID: String(1000 + this.grants), TTL: '4' };
      },
      leaseRevoke: async ({ ID }: { ID: string }) => {
        this.revoked.push(ID);
        return {};
      },
      leaseKeepAlive: async () => keepaliveStream(() => '4', 2),
    };
    return fakeLeaseStore(leaseClient);
  }
}

const opened: EtcdSession[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close(clock.now() + 100).catch(() => undefined);
});

function share(service: ScriptedLeaseService): SessionShare {
  const store = service.store();
  return new SessionShare(clock, async (ttlMs, deadline) => {
    const session = await EtcdSession.create(store, ttlMs, deadline);
    opened.push(session);
    return session;
  });
}

describe('SessionShare', () => {
  it('lets a slow first grant run for half a TTL past an impatient caller, and keeps it', async () => {
    const service = new ScriptedLeaseService();
    const store = service.store();
    const grantDeadlines: number[] = [];
    const s = new SessionShare(clock, async (ttlMs, deadline) => {
      grantDeadlines.push(deadline - clock.now());
      // A first call that logs in over TLS: slower than the caller waits.
      await new Promise((resolve) => setTimeout(resolve, 80));
      const session = await EtcdSession.create(store, ttlMs, deadline);
      opened.push(session);
      return session;
    });
    await expect(s.acquire(4000, clock.now() + 20)).rejects.toThrow(/lease grant/);
    expect(grantDeadlines[0]).toBeGreaterThan(1900);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const session = await s.acquire(4000, clock.now() + 20);
    expect(service.grants).toBe(1);
    expect(session.signal.aborted).toBe(false);
  });

  it('gives 200 concurrent cluster loops one lease from one grant', async () => {
    const service = new ScriptedLeaseService();
    const s = share(service);
    const sessions = await Promise.all(
      Array.from({ length: 200 }, () => s.acquire(4000, clock.now() + 1000)),
    );
    expect(service.grants).toBe(1);
    expect(new Set(sessions.map((s) => s.leaseId)).size).toBe(1);
  });

  it('revokes the lease only when its last holder closes', async () => {
    const service = new ScriptedLeaseService();
    const s = share(service);
    const first = await s.acquire(4000, clock.now() + 1000);
    const second = await s.acquire(4000, clock.now() + 1000);
    expect(second).toBe(first);
    await first.close(clock.now() + 1000);
    expect(service.revoked).toEqual([]);
    expect(second.signal.aborted).toBe(false);
    await second.close(clock.now() + 1000);
    expect(service.revoked).toEqual([first.leaseId]);
    expect(first.signal.aborted).toBe(true);
  });

  it('grants a new lease once the shared one has ended', async () => {
    const service = new ScriptedLeaseService();
    const s = share(service);
    const old = await s.acquire(4000, clock.now() + 1000);
    const other = await s.acquire(4000, clock.now() + 1000);
    await old.close(clock.now() + 1000);
    await other.close(clock.now() + 1000);
    const [a, b] = await Promise.all([
      s.acquire(4000, clock.now() + 1000),
      s.acquire(4000, clock.now() + 1000),
    ]);
    expect(service.grants).toBe(2);
    expect(a).toBe(b);
    expect(a.leaseId).not.toBe(old.leaseId);
  });

  it('keeps leases of different TTLs apart', async () => {
    const service = new ScriptedLeaseService();
    const s = share(service);
    const four = await s.acquire(4000, clock.now() + 1000);
    const six = await s.acquire(6000, clock.now() + 1000);
    expect(four.leaseId).not.toBe(six.leaseId);
    expect(service.grants).toBe(2);
  });

  it('after a failed grant, refuses at once until the backoff has passed', async () => {
    const service = new ScriptedLeaseService();
    const s = share(service);
    service.failGrants = true;
    await expect(s.acquire(4000, clock.now() + 1000)).rejects.toThrow(/UNAVAILABLE|no connection/);
    const refused = s.acquire(4000, clock.now() + 1000);
    await expect(refused).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(refused).rejects.toThrow(/next attempt in \d+ ms/);
    expect(service.grants).toBe(1);
    service.failGrants = false;
    await new Promise((resolve) => setTimeout(resolve, GRANT_BACKOFF_MIN_MS + 20));
    const session = await s.acquire(4000, clock.now() + 1000);
    expect(service.grants).toBe(2);
    expect(session.signal.aborted).toBe(false);
  });
});
