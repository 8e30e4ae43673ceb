/**
 * Steady-state duties of the leader while the writer is alive and no operation is in flight:
 * reopen a writer its guardian had to fence, fence any other writable node, keep replicas and
 * the standby co-master pointed at a live source.
 */

import type { DecisionDraft } from './draft.js';
import { containsGtidSet, errantTransactions, filterGtidKeys, isEmptyGtidSet, parseGtidSet } from './gtid.js';
import { bestObservation, downByQuorum } from './health.js';
import type { NodeObservation, ReplicationObservation } from './observation.js';
import { guardianOfNode } from './snapshot.js';
import { masterHistoryKeys, mastersHistory } from './survivors.js';

/**
 * The writer's guardian fenced it at this epoch (it lost its session for a moment) but the
 * writer is healthy: commit the same node under a newer epoch so the guardian may reopen it.
 * Returns true when it emitted the promote.
 */
export function reopenFencedWriter(d: DecisionDraft): boolean {
  const writer = d.snapshot.writer;
  if (!writer) return false;
  const { guardian } = guardianOfNode(d.snapshot, writer.node);
  const fenced = [guardian?.fencedWriter, guardian?.fenceIssued, guardian?.holding].find(
    (f) => f !== undefined && f.node === writer.node && f.epoch === writer.epoch,
  );
  if (!guardian?.sessionAlive || !fenced) return false;
  const obs = bestObservation(d.live, writer.node);
  // Only a writer that is actually closed needs the new epoch; a stale hold on an open one does not.
  if (!obs?.reachable || obs.health !== 'up' || obs.readOnly !== true) return false;
  const message = `guardian ${guardian.coordinator} fenced healthy writer ${writer.node} at epoch ${writer.epoch}: recommit at epoch ${writer.epoch + 1}`;
  d.act({
    type: 'promote',
    node: writer.node,
    epoch: writer.epoch + 1,
    previousEpoch: writer.epoch,
    reason: 'writer-reopen',
    message,
  });
  d.note('info', 'writer-reopen', message, writer.node);
  d.history({
    event: 'promote',
    epoch: writer.epoch + 1,
    reason: 'writer-reopen',
    message,
    node: writer.node,
    by: 'auto',
  });
  return true;
}

/**
 * The writer is read-only and nobody guards its colo: nobody will reopen it, and it would be
 * unsafe to open it without a guardian able to self-fence. Such a writer is replaced.
 */
export function writerFencedWithoutGuardian(d: DecisionDraft): string | undefined {
  const writer = d.snapshot.writer;
  if (!writer) return undefined;
  const { colo, guardian } = guardianOfNode(d.snapshot, writer.node);
  if (guardian?.sessionAlive) return undefined;
  const obs = bestObservation(d.live, writer.node);
  if (!obs?.reachable || obs.readOnly !== true) return undefined;
  return `writer ${writer.node} is read-only and colo ${colo ?? '?'} has no live guardian (${guardian?.coordinator ?? 'none'})`;
}

export function fenceStrayWriters(d: DecisionDraft): void {
  const writer = d.snapshot.writer;
  for (const node of d.snapshot.spec.nodes) {
    if (node.name === writer?.node || d.state.quarantine[node.name]) continue;
    const obs = bestObservation(d.live, node.name);
    if (obs?.reachable && obs.readOnly === false) {
      const message = `${node.name} is writable but the writer is ${writer?.node ?? '(none)'}: fencing`;
      d.act({ type: 'fence', node: node.name, reason: 'stale-writable-node', message });
      d.note('alert', 'stale-writable-node', message, node.name);
      d.history({ event: 'fence', reason: 'stale-writable-node', message, node: node.name, by: 'auto' });
    }
  }
}

/** MariaDB's and MySQL's error 1236: the source cannot serve the position the replica asked for. */
const ER_MASTER_FATAL_READING_BINLOG = 1236;

/** Both threads stopped by a STOP SLAVE, not by an error of their own (dialect.ts). */
function stoppedWithoutError(channel: ReplicationObservation): boolean {
  return channel.ioState === 'no' && !channel.sqlRunning && !channel.error;
}

/**
 * Replicas follow their configured source while it is a healthy, non-quarantined node that has
 * executed everything the replica has (GTID auto-positioning refuses a source that is behind
 * its replica), else the writer; the standby co-master follows the writer. Only nodes we can
 * see replicating from something else are repointed: a node with no channel was set up by hand
 * and is left alone.
 */
export function repointReplicas(d: DecisionDraft): void {
  const writer = d.snapshot.writer;
  if (!writer) return;
  // A replica already on its source stays there unless the source lacks more than the writer's
  // own newest writes: those are in transit to both, and a replica probed after its source always
  // looks ahead in them under load (sim finding F2: a replica sent back and forth for ever). One
  // away from its source goes back only once the source holds everything it has.
  const writerKey = bestObservation(d.live, writer.node)?.gtidSource;
  const usable = (name: string | undefined, replica: NodeObservation, current: string | undefined): boolean =>
    name !== undefined &&
    d.snapshot.spec.nodes.some((n) => n.name === name) &&
    !d.state.quarantine[name] &&
    !downByQuorum(d.snapshot, d.live, name) &&
    aheadOf(d, name, replica, current === name ? writerKey : undefined);
  for (const node of d.snapshot.spec.nodes) {
    if (node.name === writer.node || d.state.quarantine[node.name]) continue;
    const obs = bestObservation(d.live, node.name);
    const channel = obs?.replication?.[0];
    if (!obs?.reachable || !channel || channel.source === undefined) continue;
    // Its source said it lacks what the replica asked for (1236): the replica is ahead of that
    // source, not diverged. Seen when a returning ex-writer was still catching up from the new
    // writer and its colo's replica, fed by the writer meanwhile, was sent back to it on an
    // older probe of both (secure lab, CI): stopped on the error for good. Back to the writer,
    // which holds everything; it returns to its source once the source holds what it has.
    const refusedBySource = channel.error?.errno === ER_MASTER_FATAL_READING_BINLOG;
    const desired =
      node.role === 'replica' &&
      node.replicatesFrom !== undefined &&
      !(refusedBySource && channel.source === node.replicatesFrom) &&
      usable(node.replicatesFrom, obs, channel.source)
        ? node.replicatesFrom
        : writer.node;
    // A standby master whose channel a failover stopped (its writer was the old one) and that no
    // later change restarted, e.g. a switchover back to that writer (sim seed 3951): nothing
    // else would ever start it again, and a standby that does not replicate cannot take over
    // without loss. Stopped on an error is broken (replica-health.ts), not ours to restart.
    const stoppedByUs = node.role === 'candidate' && stoppedWithoutError(channel);
    // Refused (1236) by the source it should follow, which has since come to hold everything it
    // has: MariaDB never retries after 1236, so it would stay stopped for good. Seen when a
    // replica sent back to a returning master on an older probe of both was refused, and that
    // master then became the writer by a switchover (secure lab, CI): its configured source and
    // the writer one node.
    const retryRefused =
      refusedBySource &&
      channel.source === desired &&
      refusalRetryDue(d, node.name) &&
      aheadOf(d, desired, obs);
    if (channel.source === desired && !stoppedByUs && !retryRefused) continue;
    // Not even to the writer when it lacks what the replica holds: the replica would stop at once
    // (error 1236). Such a server is diverged and goes to quarantine (replica-health.ts).
    if (desired === writer.node && !aheadOf(d, writer.node, obs)) continue;
    const message = retryRefused
      ? `${node.name}'s replication from ${desired} stopped on error 1236, and ${desired} now holds everything ${node.name} has; starting it again`
      : channel.source === desired
        ? `${node.name}'s replication from ${desired} is stopped; starting it again`
        : `${node.name} replicates from ${channel.source}; should follow ${desired}`;
    d.act({ type: 'repoint', replica: node.name, source: desired, reason: 'replica-source-lost', message });
    d.note('info', 'replica-source-lost', message, node.name);
    if (retryRefused) noteRefusalRetry(d, node.name);
  }
}

/**
 * A refused channel (1236) is started again at most once per report window: the first a window
 * after the refusal was recorded, then a window after each try. A source that keeps refusing
 * although it seems to hold everything (purged binlogs) is not hammered every cycle: the error
 * record, with its `since`, stays the same while each try fails the same way.
 */
function refusalRetryDue(d: DecisionDraft, node: string): boolean {
  const record = d.state.replicas?.broken[node];
  return record !== undefined && d.now - (record.retriedAt ?? record.since) >= d.config.reportFreshMs;
}

function noteRefusalRetry(d: DecisionDraft, node: string): void {
  const health = d.state.replicas;
  const record = health?.broken[node];
  if (!health || !record) return;
  d.setReplicas({ ...health, broken: { ...health.broken, [node]: { ...record, retriedAt: d.now } } });
}

/**
 * Can `source` serve everything of the masters' history `replica` has (leaving out `ignoreKey`,
 * when given)? GTID auto-positioning refuses a source whose binlog is behind its replica (what it
 * only received is not in its binlog yet), so the source's binlog counts, not its executed set:
 * a returning master with a truncated tail claims its lost tail as executed (data-safety 10.2,
 * where a2 was sent to a1 and back until a1 fetched its tail again). Unknown sets count as no.
 */
function aheadOf(d: DecisionDraft, source: string, replica: NodeObservation, ignoreKey?: string): boolean {
  const sourceObs = bestObservation(d.live, source);
  const served = sourceObs?.binlogGtids ?? sourceObs?.executedGtids;
  if (!sourceObs?.reachable || served === undefined || replica.executedGtids === undefined) return false;
  const flavor = d.snapshot.spec.flavor;
  const keys = masterHistoryKeys(d.snapshot);
  const held = mastersHistory(parseGtidSet(replica.executedGtids, flavor), keys);
  return containsGtidSet(
    parseGtidSet(served, flavor),
    ignoreKey === undefined ? held : filterGtidKeys(held, (key) => key !== ignoreKey),
  );
}

/**
 * The writer replicates from its standby co-master again once that co-master is back in the
 * topology, if its channel was stopped (not broken) and nothing brought it back: a rejoin's
 * second repoint is dropped when its first fails (executor: a failed step stops the steps after
 * it; seen in the secure lab, where the returning a1's repoint ran out of time), and nothing
 * else restarts the writer's own channel; nor, after a refusal (1236), does MariaDB. Only from a
 * co-master that is not quarantined, not down, and holds nothing the writer lacks: restarting
 * the feed from a diverged one would copy its errant transactions into the writer (such a one
 * goes to quarantine, replica-health.ts).
 */
export function restoreWriterFeed(d: DecisionDraft): void {
  const writer = d.snapshot.writer;
  if (!writer) return;
  const writerObs = bestObservation(d.live, writer.node);
  const channel = writerObs?.replication?.[0];
  const source = channel?.source;
  if (!writerObs?.reachable || !channel || source === undefined || source === writer.node) return;
  const stopped = stoppedWithoutError(channel);
  // Refused (1236) by a co-master that lacked what the writer asked for, a crash-truncated tail
  // it had not fetched back yet (truncated-tail.ts): retried as a refused replica is
  // (repointReplicas), once its binlog holds the writer's history outside the writer's own
  // domain (the writer asks from its slave position, which leaves its own writes out).
  const refused =
    channel.error?.errno === ER_MASTER_FATAL_READING_BINLOG &&
    refusalRetryDue(d, writer.node) &&
    aheadOf(d, source, writerObs, writerObs.gtidSource);
  const spec = d.snapshot.spec.nodes.find((n) => n.name === source);
  if (!(stopped || refused) || spec?.role !== 'candidate' || d.state.quarantine[source]) return;
  if (d.actions.some((a) => a.type === 'repoint' && a.replica === writer.node)) return;
  const sourceObs = bestObservation(d.live, source);
  if (!sourceObs?.reachable || sourceObs.health !== 'up' || downByQuorum(d.snapshot, d.live, source)) return;
  if (sourceObs.executedGtids === undefined || writerObs.executedGtids === undefined) return;
  const flavor = d.snapshot.spec.flavor;
  const errant = errantTransactions(
    { executed: parseGtidSet(sourceObs.executedGtids, flavor) },
    {
      executed: parseGtidSet(writerObs.executedGtids, flavor),
      retrieved: parseGtidSet(writerObs.retrievedGtids ?? '', flavor),
    },
  );
  if (!isEmptyGtidSet(errant)) return;
  const message = refused
    ? `${writer.node}'s replication from co-master ${source} stopped on error 1236, and ${source} now holds what ${writer.node} asks for; starting it again`
    : `${writer.node}'s replication from co-master ${source} is stopped; starting it again`;
  d.act({ type: 'repoint', replica: writer.node, source, reason: 'replica-source-lost', message });
  d.note('info', 'replica-source-lost', message, writer.node);
  if (refused) noteRefusalRetry(d, writer.node);
}
