/**
 * No server left diverged or broken without a word (issue 10). Two duties of the leader, every
 * decision:
 * - a replication thread that stopped on an error is recorded (status shows it, history has
 *   its error number and text, candidates with it rank last) until it replicates again;
 * - a writer whose semi-sync fell back to async is a warning, once, and its return once: its
 *   acknowledged writes may be on it alone until then, so a consistency failover cannot rely on
 *   semi-sync (policy.ts);
 * - a server holding transactions the writer lacks is diverged: it would fail the moment it is
 *   pointed at the writer (error 1236), and serves reads from data the writer never had. Once
 *   that has lasted a report window, it is quarantined with its errant GTIDs, as a returning
 *   ex-writer is; an operator rejoins it after dealing with them.
 */

import type { DecisionDraft } from './draft.js';
import { errantTransactions, filterGtidKeys, formatGtidSet, isEmptyGtidSet, parseGtidSet } from './gtid.js';
import { bestObservation } from './health.js';
import type { ReplicaHealth } from './snapshot.js';

function health(d: DecisionDraft): ReplicaHealth {
  return d.state.replicas ?? { broken: {}, diverging: {} };
}

/** Record replication threads that stopped on an error, and their recovery, once each. */
export function trackBrokenReplication(d: DecisionDraft): void {
  const current = health(d);
  const broken = { ...current.broken };
  for (const node of d.snapshot.spec.nodes) {
    const obs = bestObservation(d.live, node.name);
    if (!obs?.reachable) continue; // unknown now: keep what we knew
    const error = obs.replication?.find((ch) => ch.error !== undefined)?.error;
    const known = broken[node.name];
    if (error) {
      const text = `${node.name}: replication ${error.thread} thread stopped with error ${error.errno}: ${error.message}`;
      d.note('alert', 'replication-broken', text, node.name);
      if (known?.errno === error.errno && known.thread === error.thread) continue;
      broken[node.name] = { ...error, since: d.now };
      d.history({
        event: 'replication-broken',
        reason: 'replication-broken',
        message: text,
        node: node.name,
        by: 'auto',
      });
    } else if (known) {
      delete broken[node.name];
      const text = `${node.name} replicates again (was: ${known.thread} error ${known.errno})`;
      d.note('info', 'replication-restored', text, node.name);
      d.history({
        event: 'replication-restored',
        reason: 'replication-restored',
        message: text,
        node: node.name,
        by: 'auto',
      });
    }
  }
  d.setReplicas({ ...current, broken });
}

/** A writer that has semi-sync enabled but is not on it (no ACKer, or a timeout), once per change. */
export function trackSemiSync(d: DecisionDraft): void {
  const writer = d.snapshot.writer;
  const current = health(d);
  const off = { ...(current.semiSyncOff ?? {}) };
  const obs = writer ? bestObservation(d.live, writer.node) : undefined;
  for (const node of Object.keys(off)) if (node !== writer?.node) delete off[node];
  if (writer && obs?.reachable && obs.semiSync?.masterEnabled) {
    const ss = obs.semiSync;
    const down = !ss.masterOn || ss.clients < 1;
    if (down) {
      const text = `${writer.node}: semi-sync is enabled but not on (${ss.clients} ACKer(s)): commits are acknowledged without any replica holding them`;
      d.note('warn', 'semi-sync-fallback', text, writer.node);
      if (!off[writer.node]) {
        off[writer.node] = { since: d.now, clients: ss.clients };
        d.history({
          event: 'semi-sync-fallback',
          reason: 'semi-sync-fallback',
          message: text,
          node: writer.node,
          by: 'auto',
        });
      }
    } else if (off[writer.node]) {
      delete off[writer.node];
      const text = `${writer.node}: semi-sync on again with ${ss.clients} ACKer(s)`;
      d.note('info', 'semi-sync-restored', text, writer.node);
      d.history({
        event: 'semi-sync-restored',
        reason: 'semi-sync-restored',
        message: text,
        node: writer.node,
        by: 'auto',
      });
    }
  }
  d.setReplicas({ ...health(d), semiSyncOff: off });
}

/**
 * Servers (replicas and the standby master) holding transactions the writer neither executed nor
 * received. GTIDs under the writer's own key are left out: a server seen just after the writer's
 * last probe may hold its newest writes, which is lag in reverse, not divergence.
 */
export function trackDivergence(d: DecisionDraft): void {
  const writer = d.snapshot.writer;
  if (!writer) return;
  const flavor = d.snapshot.spec.flavor;
  const writerObs = bestObservation(d.live, writer.node);
  if (!writerObs?.reachable || writerObs.executedGtids === undefined) return;
  const writerSet = {
    executed: parseGtidSet(writerObs.executedGtids, flavor),
    retrieved: parseGtidSet(writerObs.retrievedGtids ?? '', flavor),
  };
  const current = health(d);
  const diverging = { ...current.diverging };
  for (const node of d.snapshot.spec.nodes) {
    if (node.name === writer.node || d.state.quarantine[node.name]) {
      delete diverging[node.name];
      continue;
    }
    const obs = bestObservation(d.live, node.name);
    if (!obs?.reachable || obs.executedGtids === undefined) continue;
    let errant = errantTransactions({ executed: parseGtidSet(obs.executedGtids, flavor) }, writerSet);
    const own = writerObs.gtidSource;
    if (own !== undefined) errant = filterGtidKeys(errant, (key) => key !== own);
    if (isEmptyGtidSet(errant)) {
      delete diverging[node.name];
      continue;
    }
    const errantGtids = formatGtidSet(errant);
    const since = diverging[node.name]?.since ?? d.now;
    if (d.now - since < d.config.reportFreshMs) {
      diverging[node.name] = { errantGtids, since };
      d.note(
        'warn',
        'replica-diverged',
        `${node.name} holds ${errantGtids} that ${writer.node} lacks (checking)`,
        node.name,
      );
      continue;
    }
    delete diverging[node.name];
    quarantineDiverged(d, node.name, errantGtids);
  }
  d.setReplicas({ ...health(d), diverging });
}

function quarantineDiverged(d: DecisionDraft, node: string, errantGtids: string): void {
  const writer = d.snapshot.writer;
  if (!writer) return;
  d.state = {
    ...d.state,
    quarantine: {
      ...d.state.quarantine,
      [node]: { node, since: d.now, epoch: writer.epoch, status: 'errant', errantGtids },
    },
  };
  // A diverged co-master must not feed the writer; a replica feeds nothing (it stays as it is,
  // its replication most likely stopped already, for an operator to examine).
  if (d.snapshot.spec.nodes.find((n) => n.name === node)?.role === 'candidate') {
    d.act({
      type: 'stop-replication',
      on: writer.node,
      from: node,
      reason: 'replica-diverged',
      message: `${node} has transactions ${writer.node} lacks (${errantGtids}): nothing replicates from it into ${writer.node}`,
    });
  }
  const message = `${node} quarantined: it holds ${errantGtids}, which ${writer.node} lacks; rejoin it after dealing with them`;
  d.note('alert', 'replica-diverged', message, node);
  d.history({ event: 'quarantine', reason: 'replica-diverged', message, node, by: 'auto', errantGtids });
}
