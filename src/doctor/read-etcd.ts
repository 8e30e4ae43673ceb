/**
 * Reads etcd for doctor: its members (through every configured endpoint, which also tells which
 * member each endpoint is), each member's status (whom it follows), round trips of a
 * linearizable read through it, and its host's clock. Every call has a deadline; nothing is
 * written. With etcd auth, newer etcd releases keep the status call (and moving the leader, and
 * in 3.5.28 the member list) to the root role: a refusal is recorded as such, and whether this
 * user may move the leader is asked of a follower, which refuses before doing anything.
 */
import type { Etcd3, IMember } from 'etcd3';
import type { Clock } from '../coordinator/ports.js';
import { toWallDeadline } from '../deadline.js';
import { createEtcdClient, type EtcdClientSettings } from '../etcd/client.js';
import { StoreAuthError, StorePermissionError, toStoreError } from '../etcd/errors.js';
import { DEFAULT_HTTP_CLOCK, httpClockOffset } from './http-clock.js';
import type { EtcdFacts, EtcdMemberFacts } from './snapshot.js';

export interface EtcdBudget {
  /** Each etcd call. */
  callMs: number;
  /** Timed calls of each kind per member, on connections the reads have warmed. */
  roundTrips: number;
}

export const DEFAULT_ETCD_BUDGET: EtcdBudget = { callMs: 2_000, roundTrips: 3 };

/**
 * A lease id no member grants (ids are 64-bit and drawn from the member id and time): asking its
 * TTL reads nothing and writes nothing, yet travels to the raft leader as a keepalive does.
 */
const ABSENT_LEASE_ID = '1';

function describe(error: unknown): string {
  return ((error as Error).message ?? String(error)).split('\n')[0] as string;
}

interface MemberContext {
  client(url: string): Etcd3;
  tls: EtcdClientSettings['tls'];
  callOptions(): { deadline: Date };
  budget: EtcdBudget;
  clock: Clock;
  probeKey: string;
}

/** etcd read, its clients still open for the timed reads and clocks (`measure`, see ServerRead). */
export interface EtcdRead {
  facts: EtcdFacts;
  measure(): Promise<void>;
  close(): void;
}

export async function readEtcd(
  settings: EtcdClientSettings,
  /** Any key baton's etcd account may read (the cluster's writer record): the timed read. */
  probeKey: string,
  clock: Clock,
  budget: EtcdBudget = DEFAULT_ETCD_BUDGET,
): Promise<EtcdRead> {
  const clients = new Map<string, Etcd3>();
  const ctx: MemberContext = {
    client(url) {
      let client = clients.get(url);
      if (!client) {
        client = createEtcdClient({ ...settings, endpoints: [url] });
        clients.set(url, client);
      }
      return client;
    },
    callOptions: () => ({ deadline: toWallDeadline(clock, clock.now() + budget.callMs) }),
    tls: settings.tls,
    budget,
    clock,
    probeKey,
  };
  const close = () => {
    for (const client of clients.values()) client.close();
    clients.clear();
  };
  const facts: EtcdFacts = {
    endpoints: [...settings.endpoints],
    members: [],
    unreachable: [],
    ...(settings.auth ? { user: settings.auth.username } : {}),
  };
  const context = settings.auth ? { user: settings.auth.username } : {};
  const answers = await Promise.allSettled(
    settings.endpoints.map((endpoint) => ctx.client(endpoint).cluster.memberList({}, ctx.callOptions())),
  );
  // The answering member's id in each header says which member an endpoint is.
  const endpointOf = new Map<string, string>();
  let listed: IMember[] | undefined;
  answers.forEach((answer, i) => {
    const endpoint = settings.endpoints[i] as string;
    if (answer.status === 'rejected') {
      const converted = toStoreError(answer.reason, 'member list', context);
      // It answered: that it refuses this user the list is not an outage.
      if (converted instanceof StorePermissionError) facts.membersDenied = true;
      else facts.unreachable.push({ endpoint, error: describe(converted) });
      return;
    }
    endpointOf.set(answer.value.header.member_id, endpoint);
    listed ??= answer.value.members;
  });
  if (!listed) {
    facts.membersError = facts.membersDenied
      ? `etcd refused the member list to etcd user ${settings.auth?.username ?? '(none)'}: this etcd keeps it to the root role`
      : 'no endpoint answered';
    return { facts, measure: async () => undefined, close };
  }
  delete facts.membersDenied;
  const members = listed.map((member) => memberFacts(member, endpointOf.get(member.ID)));
  facts.members = members.map((m) => m.facts);
  await Promise.all(members.map((m) => readStatus(m, ctx)));
  if (settings.auth) {
    const permitted = await mayMoveLeader(members, ctx);
    if (permitted !== undefined) facts.moveLeaderPermitted = permitted;
  }
  return {
    facts,
    measure: async () => {
      await Promise.all(members.map((m) => measureMember(m, ctx)));
    },
    close,
  };
}

interface Member {
  facts: EtcdMemberFacts;
  /** Where doctor reaches it: the URL the config names for it, else the one it advertises. */
  url: string | undefined;
}

function memberFacts(member: IMember, configured: string | undefined): Member {
  const clientUrls =
    configured !== undefined && !member.clientURLs.includes(configured)
      ? [configured, ...member.clientURLs]
      : member.clientURLs;
  const facts: EtcdMemberFacts = {
    name: member.name,
    id: member.ID,
    clientUrls,
    roundTripsMs: [],
    keepaliveRoundTripsMs: [],
  };
  if (clientUrls.length === 0) facts.statusError = 'the member advertises no client URL';
  return { facts, url: configured ?? member.clientURLs[0] };
}

async function readStatus({ facts, url }: Member, ctx: MemberContext): Promise<void> {
  if (!url) return;
  try {
    const s = await ctx.client(url).maintenance.status(ctx.callOptions());
    facts.status = { leaderId: s.leader };
  } catch (error) {
    const converted = toStoreError(error, `status of ${facts.name}`);
    facts.statusError = describe(converted);
    if (converted instanceof StorePermissionError || converted instanceof StoreAuthError)
      facts.statusDenied = true;
  }
}

/**
 * Whether etcd lets this user move raft leadership, without moving it: MoveLeader, to itself, on
 * a member whose status says it follows another. etcd checks the permission first (where it
 * checks one) and then answers "not leader" before doing anything; a member that became leader
 * meanwhile finds the transfer to itself a no-op. Undefined when no follower is known or the
 * answer says neither.
 */
async function mayMoveLeader(members: readonly Member[], ctx: MemberContext): Promise<boolean | undefined> {
  const follower = members.find((m) => m.url && m.facts.status && m.facts.status.leaderId !== m.facts.id);
  if (!follower?.url) return undefined;
  try {
    await ctx.client(follower.url).maintenance.moveLeader({ targetID: follower.facts.id }, ctx.callOptions());
    return true;
  } catch (error) {
    const converted = toStoreError(error, `MoveLeader on ${follower.facts.name}`);
    if (converted instanceof StorePermissionError) return false;
    return /not leader/.test(converted.message) ? true : undefined;
  }
}

async function measureMember({ facts, url }: Member, ctx: MemberContext): Promise<void> {
  if (!url) return;
  const client = ctx.client(url);
  const timed = async (samples: number[], call: () => Promise<unknown>): Promise<void> => {
    try {
      for (let i = 0; i < ctx.budget.roundTrips; i++) {
        const started = ctx.clock.now();
        await call();
        samples.push(ctx.clock.now() - started);
      }
    } catch {
      // Unreachable or not permitted: reach.etcd says which; what was timed so far stays.
    }
  };
  const roundTrips = (async () => {
    await timed(facts.roundTripsMs, () =>
      client.kv.range({ key: Buffer.from(ctx.probeKey) }, ctx.callOptions()),
    );
    await timed(facts.keepaliveRoundTripsMs, () =>
      client.leaseClient.leaseTimeToLive({ ID: ABSENT_LEASE_ID }, ctx.callOptions()),
    );
  })();
  const clock = (async () => {
    try {
      facts.clock = await httpClockOffset(url, DEFAULT_HTTP_CLOCK, ctx.tls);
    } catch (error) {
      facts.clockError = describe(error);
    }
  })();
  await Promise.all([roundTrips, clock]);
}
