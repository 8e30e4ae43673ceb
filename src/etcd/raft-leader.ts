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
import { toStoreError } from './errors.js';

/** A preferred member further behind the leader than this many raft entries is not moved to. */
export const MAX_TRANSFEREE_LAG = 1000;

export type RaftLeaderOutcome =
  { kind: 'in-place' } | { kind: 'moved'; from: string; to: string } | { kind: 'skipped'; detail: string };

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
      throw toStoreError(err, `keep raft leader on ${this.preferred}`);
    }
  }

  private async check(deadline: MonoMs): Promise<RaftLeaderOutcome> {
    const options = { deadline: toWallDeadline(this.clock, deadline) };
    const { members } = await this.pool.cluster.memberList({}, options);
    const target = members.find((m) => m.name === this.preferred);
    if (!target) {
      const names = members
        .map((m) => m.name || '(unstarted)')
        .sort()
        .join(', ');
      return { kind: 'skipped', detail: `no etcd member is named ${this.preferred} (members: ${names})` };
    }
    const targetStatus = await this.member(target.clientURLs).maintenance.status(options);
    if (targetStatus.leader === target.ID) return { kind: 'in-place' };
    const leader = members.find((m) => m.ID === targetStatus.leader);
    if (!leader) return { kind: 'skipped', detail: `${this.preferred} follows no known raft leader` };
    const leaderClient = this.member(leader.clientURLs);
    const leaderStatus = await leaderClient.maintenance.status(options);
    if (leaderStatus.leader !== leader.ID) {
      return { kind: 'skipped', detail: `raft leadership is changing (${leader.name} is not leader)` };
    }
    const lag = Number(leaderStatus.raftIndex) - Number(targetStatus.raftIndex);
    if (lag > MAX_TRANSFEREE_LAG) {
      return { kind: 'skipped', detail: `${this.preferred} is ${lag} raft entries behind ${leader.name}` };
    }
    await leaderClient.maintenance.moveLeader({ targetID: target.ID }, options);
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
