/**
 * Keeps etcd's raft leadership on a preferred member: the witness site's.
 *
 * Why: etcd 3.4 (without lease checkpoints) gives every lease a fresh TTL, plus an election
 * timeout, whenever a new raft leader takes over. If the raft leader sits in the colo that gets
 * cut off, the cut guardian's lease therefore outlives its TTL by the election and the refresh,
 * and the failover must wait for it: in the lab, a colo cut gave the new writer after up to
 * 12.9 s instead of about TTL + 1 s. With the raft leader at the witness, cutting off either colo
 * never moves it, so leases expire on time.
 *
 * A move is only asked for when the preferred member answers, follows the same leader and is
 * caught up: etcd drops proposals while a transfer is pending, so moving to a lagging or dead
 * member would stall every write for an election timeout.
 */
import type { Etcd3 } from 'etcd3';
import type { Clock, MonoMs } from '../coordinator/ports.js';
import { toWallDeadline } from '../deadline.js';
import { createEtcdClient, type EtcdClientSettings } from './client.js';
import { StorePermissionError, toStoreError, type ErrorContext } from './errors.js';

/** A preferred member further behind the leader than this many raft entries is not moved to. */
export const MAX_TRANSFEREE_LAG = 1000;

/** The etcd calls the keeper makes; newer etcd releases refuse each to a user without root. */
export type RaftLeaderCall = 'MemberList' | 'Status' | 'MoveLeader';

export type RaftLeaderOutcome =
  | { kind: 'in-place' }
  | { kind: 'moved'; from: string; to: string }
  | { kind: 'skipped'; detail: string }
  /**
   * etcd refused one of the calls for lack of permission. etcd 3.4.23 checks none of them; 3.6
   * keeps Status and MoveLeader to the root role, 3.5.28 every maintenance call and the member
   * list (DESIGN.md "etcd RBAC"). Nothing else baton does needs root, so this is the one thing a
   * least-privilege coordinator gives up.
   */
  | { kind: 'not-permitted'; call: RaftLeaderCall; detail: string };

class NotPermitted extends Error {
  constructor(
    readonly call: RaftLeaderCall,
    message: string,
  ) {
    super(message);
  }
}

export class RaftLeaderKeeper {
  /** One client per member (MoveLeader must reach the leader itself; the pool picks at random). */
  private readonly memberClients = new Map<string, Etcd3>();

  constructor(
    private readonly pool: Etcd3,
    private readonly settings: EtcdClientSettings,
    readonly preferred: string,
    private readonly clock: Clock,
  ) {}

  async ensure(deadline: MonoMs): Promise<RaftLeaderOutcome> {
    try {
      return await this.check(deadline);
    } catch (err) {
      if (err instanceof NotPermitted) return { kind: 'not-permitted', call: err.call, detail: err.message };
      throw toStoreError(err, `keep raft leader on ${this.preferred}`, this.errorContext());
    }
  }

  /** The etcd user the keeper's calls log in as (config etcd.auth.user), if any. */
  get user(): string | undefined {
    return this.settings.auth?.username;
  }

  private errorContext(): ErrorContext {
    return this.settings.auth ? { user: this.settings.auth.username } : {};
  }

  /** `call`'s answer; a refusal for lack of permission becomes NotPermitted. */
  private async permitted<T>(call: RaftLeaderCall, request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (err) {
      const converted = toStoreError(
        err,
        `keep raft leader on ${this.preferred} (${call})`,
        this.errorContext(),
      );
      if (!(converted instanceof StorePermissionError)) throw converted;
      // Not a key range: etcd's permission error says nothing of what this call needs.
      const who = this.user === undefined ? 'our etcd user' : `etcd user ${this.user}`;
      throw new NotPermitted(call, `etcd refused ${call} to ${who} (this etcd keeps it to the root role)`);
    }
  }

  private async check(deadline: MonoMs): Promise<RaftLeaderOutcome> {
    const options = { deadline: toWallDeadline(this.clock, deadline) };
    const { members } = await this.permitted('MemberList', this.pool.cluster.memberList({}, options));
    const target = members.find((m) => m.name === this.preferred);
    if (!target) {
      const names = members
        .map((m) => m.name || '(unstarted)')
        .sort()
        .join(', ');
      return { kind: 'skipped', detail: `no etcd member is named ${this.preferred} (members: ${names})` };
    }
    const targetStatus = await this.permitted(
      'Status',
      this.member(target.clientURLs).maintenance.status(options),
    );
    if (targetStatus.leader === target.ID) return { kind: 'in-place' };
    const leader = members.find((m) => m.ID === targetStatus.leader);
    if (!leader) return { kind: 'skipped', detail: `${this.preferred} follows no known raft leader` };
    const leaderClient = this.member(leader.clientURLs);
    const leaderStatus = await this.permitted('Status', leaderClient.maintenance.status(options));
    if (leaderStatus.leader !== leader.ID) {
      return { kind: 'skipped', detail: `raft leadership is changing (${leader.name} is not leader)` };
    }
    const lag = Number(leaderStatus.raftIndex) - Number(targetStatus.raftIndex);
    if (lag > MAX_TRANSFEREE_LAG) {
      return { kind: 'skipped', detail: `${this.preferred} is ${lag} raft entries behind ${leader.name}` };
    }
    await this.permitted('MoveLeader', leaderClient.maintenance.moveLeader({ targetID: target.ID }, options));
    return { kind: 'moved', from: leader.name, to: target.name };
  }

  close(): void {
    for (const client of this.memberClients.values()) client.close();
    this.memberClients.clear();
  }

  private member(clientURLs: string[]): Etcd3 {
    const key = clientURLs.join(',');
    let client = this.memberClients.get(key);
    if (!client) {
      client = createEtcdClient({ ...this.settings, endpoints: clientURLs });
      this.memberClients.set(key, client);
    }
    return client;
  }
}
