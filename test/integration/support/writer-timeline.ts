import { Etcd3 } from 'etcd3';
import { clusterKeys } from '../../../src/coordinator/keys.js';
import type { LabStatus } from '../../../src/lab/lab-status.js';
import { LAB_CLUSTER } from '../../../src/lab/topology.js';
import type { WriterTimeline } from './routed-write-client.js';

/** Records every writer record change as this process sees it (an etcd watch), from now on. */
export async function followWriter(status: LabStatus): Promise<WriterTimeline & { stop(): Promise<void> }> {
  // The witness's member: the scenarios cut colos a and b, never w, and a watch on a member
  // cut off from the quorum would simply see no change.
  const witness = status.etcd.members.find((m) => m.site === 'w')?.endpoint ?? status.etcd.endpoints[0];
  const client = new Etcd3({ hosts: [witness as string], dialTimeout: 2_000 });
  const key = clusterKeys(LAB_CLUSTER).writer;
  const timeline: WriterTimeline = { changes: [] };
  const record = (value: string) => {
    const parsed = JSON.parse(value) as { node: string; epoch: number };
    timeline.changes.push({ node: parsed.node, epoch: parsed.epoch, seenAt: Date.now() });
  };
  const watcher = await client.watch().key(key).create();
  watcher.on('put', (kv) => record(kv.value.toString()));
  const current = await client.get(key).string();
  // Seen since the start of time: acks before the first change belong to it.
  if (current !== null)
    timeline.changes.unshift({ ...(JSON.parse(current) as { node: string; epoch: number }), seenAt: 0 });
  return {
    changes: timeline.changes,
    async stop() {
      await watcher.cancel();
      client.close();
    },
  };
}
