/**
 * Auth tokens that go stale under a live session (issue 15), against a real single-member etcd
 * with simple tokens of a 2 s TTL: etcd3 renews a token only when a unary call fails with
 * "invalid auth token" — never for lease keepalive streams or watches, never for "revision of
 * auth store is old" after a user or role change (its connection-pool.js). EtcdStore renews it
 * itself (StaleAuthTokenError). Without that, a coordinator whose token expired during an idle
 * spell, or whose operator added a user, lost its lease: its guardian fenced a healthy writer.
 */
import { Etcd3, Range } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock as clock } from '../../src/clock.js';
import type { WatchEvent } from '../../src/coordinator/ports.js';
import { StaleAuthTokenError } from '../../src/etcd/errors.js';
import type { EtcdSession } from '../../src/etcd/session.js';
import { EtcdStore } from '../../src/etcd/store.js';
import { createLogger } from '../../src/log.js';
import { startStandaloneEtcd, type StandaloneEtcd } from './support/standalone-etcd.js';

const soon = (ms = 3000): number => clock.now() + ms;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TOKEN_TTL_S = 2;

let etcd: StandaloneEtcd;
let endpoint: string;
const stores: EtcdStore[] = [];
let admin: Etcd3;

beforeAll(async () => {
  etcd = await startStandaloneEtcd(['--auth-token=simple', `--auth-token-ttl=${TOKEN_TTL_S}`]);
  endpoint = etcd.endpoint;
  admin = new Etcd3({ hosts: endpoint });
  await admin.user('root').create('root-pw');
  await admin.role('root').create();
  await admin.user('root').addRole('root');
  await admin.role('coordinator').create();
  await admin.role('coordinator').grant({ permission: 'Readwrite', range: Range.prefix('/baton/') });
  await admin.user('coordinator').create('coordinator-pw');
  await admin.user('coordinator').addRole('coordinator');
  await admin.auth.authEnable();
  admin.close();
  admin = new Etcd3({ hosts: endpoint, auth: { username: 'root', password: 'root-pw' } });
}, 30_000);

afterAll(async () => {
  for (const store of stores) store.close();
  admin?.close();
  await etcd?.stop();
});

function coordinatorStore(): EtcdStore {
  const store = EtcdStore.connect(
    { endpoints: [endpoint], auth: { username: 'coordinator', password: 'coordinator-pw' } },
    clock,
    process.env.AUTH_DEBUG ? { logger: createLogger({ level: 'debug' }) } : {},
  );
  stores.push(store);
  return store;
}

/** A put, retried once when it reports a stale token (the renewal happens on that error). */
async function putRenewing(store: EtcdStore, key: string, value: string): Promise<'first' | 'renewed'> {
  try {
    await store.put(key, value, soon());
    return 'first';
  } catch (error) {
    expect(error).toBeInstanceOf(StaleAuthTokenError);
    await store.put(key, value, soon());
    return 'renewed';
  }
}

describe('a stale etcd auth token never costs the lease', () => {
  it('keeps a session, its writes and a watch through an etcd restart, which forgets every token', async () => {
    const store = coordinatorStore();
    const session = (await store.createSession(4_000, soon())) as EtcdSession;
    const events: WatchEvent[] = [];
    const { revision } = await store.getPrefix('/baton/restart/', soon());
    const watch = store.watchPrefix('/baton/restart/', revision + 1, (e) => events.push(e));
    try {
      for (let round = 0; round < 2; round++) {
        // Longer than a token lives with nothing but keepalives, then a restart (a rolling
        // upgrade): every token the member issued is gone, the lease is not.
        await sleep((TOKEN_TTL_S + 1) * 1000);
        await etcd.restart();
        await sleep(2_500);
        expect(session.signal.aborted).toBe(false);
        await putRenewing(store, `/baton/restart/k${round}`, String(round));
        await admin.put(`/baton/restart/admin${round}`).value(String(round));
      }
      await sleep(1_000);
      const keys = events.map((e) => e.kv.key);
      for (let round = 0; round < 2; round++) {
        expect(keys).toContain(`/baton/restart/k${round}`);
        expect(keys).toContain(`/baton/restart/admin${round}`);
      }
      expect(session.isValid()).toBe(true);
    } finally {
      watch.close();
      await session.close(soon());
    }
  }, 40_000);

  // etcd 3.4 with simple tokens accepted the old token after these changes (never "revision of
  // auth store is old" here); what is checked is that the lease and the writes carry on.
  it('keeps the session and its writes through user and role changes', async () => {
    const store = coordinatorStore();
    const session = (await store.createSession(4_000, soon())) as EtcdSession;
    try {
      await store.put('/baton/change/before', 'x', soon());
      const outcomes: string[] = [];
      for (let change = 0; change < 3; change++) {
        await admin.user(`operator-${change}`).create(`pw-${change}`);
        await admin.user('coordinator').addRole('coordinator'); // idempotent, bumps the auth revision
        outcomes.push(await putRenewing(store, `/baton/change/after${change}`, 'x'));
        await sleep(600); // keepalives go on meanwhile
        expect(session.signal.aborted).toBe(false);
      }
      console.log(`[auth] writes after an auth change: ${outcomes.join(', ')}`);
      expect(await store.get('/baton/change/after2', soon())).toBeDefined();
      expect(session.isValid()).toBe(true);
    } finally {
      await session.close(soon());
    }
  }, 30_000);
});
