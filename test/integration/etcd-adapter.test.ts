/**
 * The etcd adapters against the lab's real 3-member etcd cluster: our own lease deadline, the
 * election in etcd's concurrency layout, guarded txns, and watches that survive a dropped
 * stream plus a compaction. Clients get all three endpoints, as the daemon does.
 */
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { Writable } from 'node:stream';
import { Range } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import type { WatchEvent } from '../../src/coordinator/ports.js';
import {
  LeaseLostError,
  NotLeaderError,
  SessionExpiredError,
  StoreAuthError,
  StorePermissionError,
  StoreUnavailableError,
  isRetryable,
} from '../../src/etcd/errors.js';
import { EtcdStore } from '../../src/etcd/store.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { EtcdSession } from '../../src/etcd/session.js';
import type { ResyncingWatch } from '../../src/etcd/watch.js';
import { startLab, type Lab } from './support/lab.js';
import { stopProcess } from './support/signals.js';

const clock = systemClock;
const soon = (ms = 3000): number => clock.now() + ms;

/** A TCP relay that can cut every connection and refuse new ones, like a dropped link. */
class Relay {
  private readonly sockets = new Set<net.Socket>();
  private cut = false;
  readonly server: net.Server;
  constructor(private readonly target: URL) {
    this.server = net.createServer((inbound) => {
      if (this.cut) return inbound.destroy();
      const outbound = net.connect(Number(this.target.port), this.target.hostname);
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      inbound.pipe(outbound).pipe(inbound);
    });
  }
  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }
  disconnect(): void {
    this.cut = true;
    for (const s of this.sockets) s.destroy();
  }
  reconnect(): void {
    this.cut = false;
  }
  close(): void {
    this.disconnect();
    this.server.close();
  }
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const end = clock.now() + timeoutMs;
  while (!(await check())) {
    if (clock.now() > end) throw new Error(`timed out waiting for ${what}`);
    await clock.sleep(20);
  }
}

let lab: Lab;
let endpoints: string[];
let members: { name: string; pid: number }[];
const stores: EtcdStore[] = [];
function newStore(only?: string[], logger?: Logger): EtcdStore {
  const store = EtcdStore.connect({ endpoints: only ?? endpoints }, clock, logger ? { logger } : {});
  stores.push(store);
  return store;
}

/** SIGSTOP/SIGCONT etcd members directly (not through the CLI) so the stall time is exact. */
async function signalMembers(signal: 'SIGSTOP' | 'SIGCONT', which: { pid: number }[]): Promise<void> {
  if (signal === 'SIGSTOP') await Promise.all(which.map((member) => stopProcess(member.pid)));
  else for (const member of which) process.kill(member.pid, signal);
}

beforeAll(async () => {
  lab = await startLab(); // bare databases and etcd: no coordinators interfering
  const status = await lab.status();
  endpoints = status.etcd.endpoints;
  members = status.etcd.members.map((m) => ({ name: m.name, pid: m.pid }));
});

afterAll(async () => {
  for (const store of stores) store.close();
  await lab?.down();
});

describe('session', () => {
  it('keeps validUntil at most one TTL ahead and advances it with each acknowledged keepalive', async () => {
    const store = newStore();
    const session = (await store.createSession(3000, soon())) as EtcdSession;
    const first = session.validUntil();
    expect(first).toBeLessThanOrEqual(clock.now() + 3000);
    expect(first).toBeGreaterThan(clock.now());
    await until('two keepalives', () => session.keepalivesAcknowledged >= 2, 5000);
    expect(session.validUntil()).toBeGreaterThan(first);
    expect(session.validUntil()).toBeLessThanOrEqual(clock.now() + 3000);
    expect(session.signal.aborted).toBe(false);
    await session.close(soon());
    expect(session.signal.aborted).toBe(true);
  });

  it('aborts its signal by its own deadline when etcd stalls, before the server could expire the lease', async () => {
    const store = newStore();
    const ttlMs = 2000;
    const session = (await store.createSession(ttlMs, soon())) as EtcdSession;
    await until('a keepalive', () => session.keepalivesAcknowledged >= 1, 3000);
    await until('a fresh keepalive', () => session.keepalivesAcknowledged >= 2, 3000);
    await signalMembers('SIGSTOP', members);
    const stalledAt = clock.now();
    try {
      const abortedAt = await new Promise<number>((resolve) =>
        session.signal.addEventListener('abort', () => resolve(clock.now()), { once: true }),
      );
      const latency = abortedAt - stalledAt;
      console.log(`session signal fired ${Math.round(latency)} ms after etcd was stopped (TTL ${ttlMs} ms)`);
      // The last acknowledged keepalive was sent before the stall, so the signal must fire
      // before stall + TTL (the earliest the server could expire it), never after.
      expect(latency).toBeLessThan(ttlMs);
      expect(session.signal.reason).toBeInstanceOf(SessionExpiredError);
      expect(session.validUntil()).toBeLessThanOrEqual(abortedAt);
    } finally {
      await signalMembers('SIGCONT', members);
    }
    // The same client recovers promptly once etcd answers again: a new session and a write.
    const resumedAt = clock.now();
    let fresh: EtcdSession | undefined;
    while (!fresh) {
      fresh = (await store.createSession(ttlMs, soon(1000)).catch(() => undefined)) as
        EtcdSession | undefined;
      if (clock.now() - resumedAt > 15_000) throw new Error('no new session within 15 s of etcd resuming');
    }
    await store.put('/baton/stall/after', 'ok', soon(1000), fresh.leaseId);
    const recovery = clock.now() - resumedAt;
    console.log(`new session and write ${Math.round(recovery)} ms after etcd resumed`);
    expect(recovery).toBeLessThan(10_000);
    // The abandoned lease is revoked (or expired) once etcd answers: its keys cannot linger.
    await until(
      'abandoned lease gone',
      async () => Number((await store.client.leaseClient.leaseTimeToLive({ ID: session.leaseId })).TTL) <= 0,
      10_000,
    );
    console.log(`abandoned lease gone ${Math.round(clock.now() - resumedAt)} ms after etcd resumed`);
    await fresh.close(soon());
  });

  it('stays valid while one of three members (a follower) is hung', async () => {
    const store = newStore();
    const ttlMs = 3000;
    // A hung raft leader also stops lease renewal cluster-wide until etcd elects another
    // (~2 s here): that is etcd's unavailability, not our client's. Hang a follower.
    const statuses = await Promise.all(
      endpoints.map(async (endpoint, i) => {
        const one = newStore([endpoint]);
        const res = await one.client.maintenance.status(one.callOptions(soon()));
        return { i, isLeader: res.leader === res.header.member_id };
      }),
    );
    const follower = members[statuses.find((x) => !x.isLeader)!.i]!;
    const session = (await store.createSession(ttlMs, soon())) as EtcdSession;
    await signalMembers('SIGSTOP', [follower]);
    try {
      // Sample how close the session came to expiring while a third of the keepalives hang.
      let closest = Infinity;
      const end = clock.now() + 3 * ttlMs;
      while (clock.now() < end) {
        closest = Math.min(closest, session.validUntil() - clock.now());
        await clock.sleep(25);
      }
      expect(session.signal.aborted).toBe(false);
      expect(session.isValid()).toBe(true);
      console.log(
        `${follower.name} (follower) hung for ${3 * ttlMs} ms: ${session.keepalivesAcknowledged} keepalives acknowledged, ` +
          `${session.keepalivesFailed} failed; validity never below ${Math.round(closest)} ms`,
      );
    } finally {
      await signalMembers('SIGCONT', [follower]);
    }
    await session.close(soon());
  });

  it('aborts when the lease is revoked behind its back', async () => {
    const store = newStore();
    const session = (await store.createSession(3000, soon())) as EtcdSession;
    await store.client.leaseClient.leaseRevoke({ ID: session.leaseId });
    await until('signal', () => session.signal.aborted, 3000);
    expect(session.signal.reason).toBeInstanceOf(LeaseLostError);
    expect(session.isValid()).toBe(false);
  });
});

describe('election', () => {
  it('uses the etcd concurrency layout, so etcdctl elect -l shows our leader', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(...String(chunk).split('\n').filter(Boolean));
          done();
        },
      }),
    });
    const store = newStore(undefined, logger);
    const session = await store.createSession(5000, soon());
    const leadership = await store
      .election('/baton/layout/leader', session)
      .campaign('coord-a', new AbortController().signal);
    expect(leadership.key).toBe(`/baton/layout/leader/${BigInt(session.leaseId).toString(16)}`);
    const etcdctl = spawnSync(
      'etcdctl',
      [`--endpoints=${endpoints.join(',')}`, 'elect', '-l', '/baton/layout/leader'],
      {
        env: { ...process.env, ETCDCTL_API: '3' },
        timeout: 1500,
        encoding: 'utf8',
      },
    );
    expect(etcdctl.stdout).toContain(leadership.key);
    expect(etcdctl.stdout).toContain('coord-a');
    // Each line names its component once (pino repeats a key a child binds again).
    const campaigning = lines.find((l) => l.includes('"msg":"campaigning"'));
    expect(campaigning?.match(/"component":/g)).toEqual(['"component":']);
    expect(campaigning).toContain('"component":"etcd.election"');
    await session.close(soon());
  });

  it('hands over on resign, and only the leader is elected', async () => {
    const [storeA, storeB] = [newStore(), newStore()];
    const sessionA = await storeA.createSession(5000, soon());
    const sessionB = await storeB.createSession(5000, soon());
    const prefix = '/baton/resign/leader';
    const leaderA = await storeA.election(prefix, sessionA).campaign('a', new AbortController().signal);
    let bElectedAt = 0;
    const pendingB = storeB
      .election(prefix, sessionB)
      .campaign('b', new AbortController().signal)
      .then((l) => {
        bElectedAt = clock.now();
        return l;
      });
    await clock.sleep(300);
    expect(bElectedAt).toBe(0); // B waits while A holds the lowest create-revision
    expect((await storeB.election(prefix, sessionB).leader(soon()))?.value).toBe('a');
    const resignedAt = clock.now();
    await leaderA.resign(soon());
    const leaderB = await pendingB;
    console.log(`election handover on resign: ${Math.round(bElectedAt - resignedAt)} ms`);
    expect(bElectedAt - resignedAt).toBeLessThan(2000);
    expect(leaderB.createRevision).toBeGreaterThan(leaderA.createRevision);
    expect((await storeA.election(prefix, sessionA).leader(soon()))?.value).toBe('b');
    await Promise.all([sessionA.close(soon()), sessionB.close(soon())]);
  });

  it('hands over when the leader stops renewing and its lease expires at the server', async () => {
    const [storeA, storeB] = [newStore(), newStore()];
    const ttlMs = 2000;
    const sessionA = await storeA.createSession(ttlMs, soon());
    const sessionB = await storeB.createSession(5000, soon());
    const prefix = '/baton/expiry/leader';
    await storeA.election(prefix, sessionA).campaign('a', new AbortController().signal);
    const pendingB = storeB.election(prefix, sessionB).campaign('b', new AbortController().signal);
    // A's process "dies": its client goes away without revoking, so etcd must expire the lease.
    const diedAt = clock.now();
    storeA.close();
    const leaderB = await pendingB;
    const handover = clock.now() - diedAt;
    console.log(`election handover after leader death: ${Math.round(handover)} ms (TTL ${ttlMs} ms)`);
    expect(handover).toBeGreaterThan(ttlMs / 2); // not before the lease could have expired
    expect(handover).toBeLessThan(ttlMs + 3000);
    expect(leaderB.key).toContain(BigInt(sessionB.leaseId).toString(16));
    await sessionB.close(soon());
  });

  it('rejects a guarded txn once leadership is lost, and keeps caller compares distinct', async () => {
    const store = newStore();
    const session = await store.createSession(5000, soon());
    const leadership = await store
      .election('/baton/guard/leader', session)
      .campaign('a', new AbortController().signal);
    const ok = await leadership.guardedTxn([], [{ put: '/baton/guard/writer', value: 'a1' }], soon());
    expect(ok.succeeded).toBe(true);
    const stale = await leadership.guardedTxn(
      [{ key: '/baton/guard/writer', target: 'value', equals: 'b1' }],
      [{ put: '/baton/guard/epoch', value: '2' }],
      soon(),
    );
    expect(stale.succeeded).toBe(false);
    // A re-send after the first attempt was applied fails on its compare instead of applying twice.
    const rev = (await store.get('/baton/guard/writer', soon()))!.modRevision;
    const ops = [{ put: '/baton/guard/writer', value: 'a2' }];
    const compares = [{ key: '/baton/guard/writer', target: 'modRevision' as const, equals: rev }];
    expect((await leadership.guardedTxn(compares, ops, soon())).succeeded).toBe(true);
    expect((await leadership.guardedTxn(compares, ops, soon())).succeeded).toBe(false);
    await store.client.leaseClient.leaseRevoke({ ID: session.leaseId });
    await expect(
      leadership.guardedTxn([], [{ put: '/baton/guard/writer', value: 'a3' }], soon()),
    ).rejects.toBeInstanceOf(NotLeaderError);
    expect((await store.get('/baton/guard/writer', soon()))?.value).toBe('a2');
  });

  it('rejects the campaign when the caller aborts, and removes our key', async () => {
    const [storeA, storeB] = [newStore(), newStore()];
    const sessionA = await storeA.createSession(5000, soon());
    const sessionB = await storeB.createSession(5000, soon());
    const prefix = '/baton/abort/leader';
    await storeA.election(prefix, sessionA).campaign('a', new AbortController().signal);
    const abort = new AbortController();
    const pendingB = storeB.election(prefix, sessionB).campaign('b', abort.signal);
    await clock.sleep(200);
    abort.abort(new Error('shutting down'));
    await expect(pendingB).rejects.toThrow('shutting down');
    const { kvs } = await storeA.getPrefix(`${prefix}/`, soon());
    expect(kvs.map((kv) => kv.value)).toEqual(['a']);
    await Promise.all([sessionA.close(soon()), sessionB.close(soon())]);
  });
});

describe('oldestKeys', () => {
  it('lists the first keys of a prefix in key order, without values, and counts them all', async () => {
    const store = newStore();
    for (const k of ['0003', '0001', '0010', '0002'])
      await store.put(`/baton/old/${k}`, 'x'.repeat(100), soon());
    await store.put('/baton/older', 'outside the prefix', soon());
    const { keys, count } = await store.oldestKeys('/baton/old/', 2, soon());
    expect(count).toBe(4);
    expect(keys.map((k) => k.key)).toEqual(['/baton/old/0001', '/baton/old/0002']);
    expect(keys.every((k) => k.modRevision > 0)).toBe(true);
  });
});

describe('watch', () => {
  it('delivers changes after the start revision', async () => {
    const store = newStore();
    const start = await store.put('/baton/w1/a', '1', soon());
    const events: WatchEvent[] = [];
    const watch = store.watchPrefix('/baton/w1/', start, (e) => events.push(e));
    await store.put('/baton/w1/b', '2', soon());
    await store.txn([], [{ delete: '/baton/w1/a' }], soon());
    await until('3 events', () => events.length >= 3);
    expect(events.map((e) => `${e.type} ${e.kv.key}`)).toEqual([
      'put /baton/w1/a',
      'put /baton/w1/b',
      'delete /baton/w1/a',
    ]);
    watch.close();
  });

  it('reports each change exactly once across a dropped stream without compaction', async () => {
    const direct = newStore();
    const relay = new Relay(new URL(endpoints[0]!));
    const relayed = newStore([`http://127.0.0.1:${await relay.listen()}`]);
    try {
      const start = await direct.put('/baton/w3/a', '1', soon());
      const events: WatchEvent[] = [];
      const watch = relayed.watchPrefix('/baton/w3/', start + 1, (e) => events.push(e));
      await direct.put('/baton/w3/b', '1', soon());
      await until('first event', () => events.length === 1);
      relay.disconnect();
      await direct.put('/baton/w3/a', '2', soon());
      await direct.txn([], [{ delete: '/baton/w3/b' }], soon());
      await direct.put('/baton/w3/c', '1', soon());
      relay.reconnect();
      await until('missed changes', () => events.length >= 4, 15_000);
      await direct.put('/baton/w3/d', '1', soon());
      await until('a later change', () => events.some((e) => e.kv.key === '/baton/w3/d'));
      await clock.sleep(300); // time for any duplicate to show up
      const seen = events.map((e) => `${e.type} ${e.kv.key}`);
      // Missed changes come from the resumed stream or from the re-read (whose order is
      // per key, not per revision): compare them as a set, and allow no duplicates.
      expect(seen[0]).toBe('put /baton/w3/b');
      expect(seen.slice(1, 4).sort()).toEqual(['delete /baton/w3/b', 'put /baton/w3/a', 'put /baton/w3/c']);
      expect(seen.slice(4)).toEqual(['put /baton/w3/d']);
      watch.close();
    } finally {
      relay.close();
    }
  });

  it('re-reads and reports what it missed after a dropped stream and a compaction', async () => {
    const direct = newStore();
    const relay = new Relay(new URL(endpoints[0]!));
    const relayed = newStore([`http://127.0.0.1:${await relay.listen()}`]);
    try {
      await direct.put('/baton/w2/keep', 'k', soon());
      const start = await direct.put('/baton/w2/gone', 'g', soon());
      const events: WatchEvent[] = [];
      const watch = relayed.watchPrefix('/baton/w2/', start + 1, (e) => events.push(e));
      await direct.put('/baton/w2/seen', 's', soon());
      await until('first event', () => events.length === 1);

      relay.disconnect();
      await direct.txn([], [{ delete: '/baton/w2/gone' }], soon());
      const rev = await direct.put('/baton/w2/new', 'n', soon());
      await direct.client.kv.compact({ revision: String(rev), physical: true });
      relay.reconnect();

      await until('missed changes', () => events.length >= 3, 15_000);
      const missed = events
        .slice(1)
        .map((e) => `${e.type} ${e.kv.key}`)
        .sort();
      expect(missed).toEqual(['delete /baton/w2/gone', 'put /baton/w2/new']);
      // The new watch continues from the re-read revision.
      await direct.put('/baton/w2/after', 'a', soon());
      await until('event after resync', () => events.some((e) => e.kv.key === '/baton/w2/after'));
      expect(events.filter((e) => e.kv.key === '/baton/w2/new')).toHaveLength(1);
      expect((watch as ResyncingWatch).resyncs).toBeGreaterThanOrEqual(1);
      watch.close();
    } finally {
      relay.close();
    }
  });
});

// Last in the file: it turns etcd auth on for this lab.
describe('errors from a real server', () => {
  it('says TLS may be the cause when an https endpoint cannot be reached', async () => {
    const tlsStore = newStore([endpoints[0]!.replace('http://', 'https://')]);
    const err = await tlsStore.get('/k', soon(1500)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(/TLS/);
    expect(isRetryable(err)).toBe(true);
  });

  it('reports a wrong password and a key outside the role as distinct, non-retryable errors', async () => {
    const admin = newStore();
    const c = admin.client;
    await c.user('root').create('root-pw');
    await c.role('root').create();
    await c.user('root').addRole('root');
    await c.role('limited').create();
    await c.role('limited').grant({ permission: 'Readwrite', range: Range.prefix('/allowed/') });
    await c.user('limited').create('limited-pw');
    await c.user('limited').addRole('limited');
    await c.auth.authEnable();

    const wrong = EtcdStore.connect({ endpoints, auth: { username: 'limited', password: 'nope' } }, clock);
    stores.push(wrong);
    const authErr = await wrong.get('/allowed/k', soon()).catch((e: unknown) => e);
    expect(authErr).toBeInstanceOf(StoreAuthError);
    expect(isRetryable(authErr)).toBe(false);

    const limited = EtcdStore.connect(
      { endpoints, auth: { username: 'limited', password: 'limited-pw' } },
      clock,
    );
    stores.push(limited);
    await limited.put('/allowed/k', 'v', soon());
    const denied = await limited.put('/baton/k', 'v', soon()).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(StorePermissionError);
    expect((denied as Error).message).toMatch(/^put \/baton\/k: etcd permission denied/);
  });
});
