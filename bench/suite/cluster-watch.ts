/**
 * The writer record and the coordinator leader as this process sees them change (etcd watches on
 * one member), so that a run's times come from outside the coordinators.
 */
import { Etcd3, type IKeyValue } from 'etcd3';
import { clusterKeys } from '../../src/coordinator/keys.js';
import type { LabStatus } from '../../src/lab/lab-status.js';
import type { SiteName } from '../../src/lab/topology.js';
import { LAB_CLUSTER } from '../../src/lab/topology.js';
import type { WriterChange } from './measure-run.js';

export interface LeaderChange {
  /** The coordinator named by the oldest leader key, or undefined when there is none. */
  coordinator: string | undefined;
  seenAt: number;
}

export interface ClusterWatch {
  writerChanges: WriterChange[];
  leaderChanges: LeaderChange[];
  /** First time after `after` that the leader was a coordinator other than `other`. */
  leaderOtherThan(other: string, after: number): LeaderChange | undefined;
  stop(): Promise<void>;
}

/**
 * Watches from one member: the witness's by default, since scenarios cut colos a and b and a
 * member cut off from the quorum would simply see no change. A scenario that kills the witness's
 * member names another site to watch from.
 */
export async function watchCluster(status: LabStatus, fromSite: SiteName = 'w'): Promise<ClusterWatch> {
  const member = status.etcd.members.find((m) => m.site === fromSite) ?? status.etcd.members[0];
  if (!member) throw new Error('the lab has no etcd member to watch from');
  const client = new Etcd3({ hosts: [member.endpoint], dialTimeout: 2_000 });
  const keys = clusterKeys(LAB_CLUSTER);
  const writerChanges: WriterChange[] = [];
  const leaderChanges: LeaderChange[] = [];
  const leaderKeys = new Map<string, { coordinator: string; createRevision: number }>();

  const recordWriter = (value: string, seenAt: number) => {
    const { node, epoch } = JSON.parse(value) as { node: string; epoch: number };
    writerChanges.push({ node, epoch, seenAt });
  };
  // The election's leader is the candidate key created first (etcd's concurrency layout).
  const recordLeader = (seenAt: number) => {
    const oldest = [...leaderKeys.values()].sort((a, b) => a.createRevision - b.createRevision)[0];
    if (leaderChanges.at(-1)?.coordinator !== oldest?.coordinator || leaderChanges.length === 0)
      leaderChanges.push({ coordinator: oldest?.coordinator, seenAt });
  };
  const putLeaderKey = (kv: IKeyValue) =>
    leaderKeys.set(kv.key.toString(), {
      coordinator: kv.value.toString(),
      createRevision: Number(kv.create_revision),
    });

  let stopped = false;
  try {
    const writerWatch = await client.watch().key(keys.writer).create();
    writerWatch.on('put', (kv) => recordWriter(kv.value.toString(), Date.now()));
    const leaderWatch = await client.watch().prefix(`${keys.leaderPrefix}/`).create();
    leaderWatch.on('put', (kv) => {
      putLeaderKey(kv);
      recordLeader(Date.now());
    });
    leaderWatch.on('delete', (kv) => {
      leaderKeys.delete(kv.key.toString());
      recordLeader(Date.now());
    });
    const writer = await client.get(keys.writer).string();
    // Seen since the start of time: acknowledgements before the first change belong to it.
    if (writer !== null) {
      const { node, epoch } = JSON.parse(writer) as { node: string; epoch: number };
      writerChanges.unshift({ node, epoch, seenAt: 0 });
    }
    const candidates = await client.getAll().prefix(`${keys.leaderPrefix}/`).exec();
    for (const kv of candidates.kvs) putLeaderKey(kv);
    const oldest = [...leaderKeys.values()].sort((a, b) => a.createRevision - b.createRevision)[0];
    leaderChanges.unshift({ coordinator: oldest?.coordinator, seenAt: 0 });
    return {
      writerChanges,
      leaderChanges,
      leaderOtherThan: (other, after) =>
        leaderChanges.find((c) => c.seenAt > after && c.coordinator !== undefined && c.coordinator !== other),
      async stop() {
        if (stopped) return;
        stopped = true;
        await Promise.all([writerWatch.cancel(), leaderWatch.cancel()]);
        client.close();
      },
    };
  } catch (error) {
    client.close();
    throw error;
  }
}
