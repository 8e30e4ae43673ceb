/**
 * A returning ex-writer (invariant 8). After a failover it lost the role without being fenced,
 * so it may hold transactions the new writer never saw. While quarantined: forced read-only;
 * once reachable and read-only, its GTIDs are compared with the writer's. Errant transactions
 * (node.executed − writer.executed − writer.retrieved) keep it out and are reported; a clean
 * node rejoins as standby automatically.
 */

import type { DecisionDraft } from './draft.js';
import { bestObservation } from './health.js';
import { errantTransactions, formatGtidSet, isEmptyGtidSet, parseGtidSet } from './gtid.js';
import type { ReasonCode } from './reasons.js';

export function processQuarantine(d: DecisionDraft): void {
  const writer = d.snapshot.writer;
  if (!writer) return;
  const flavor = d.snapshot.spec.flavor;
  for (const record of Object.values(d.state.quarantine)) {
    if (record.status !== 'awaiting-return') continue;
    const obs = bestObservation(d.live, record.node);
    if (!obs?.reachable || obs.health !== 'up') continue;
    if (obs.readOnly !== true) {
      d.act({
        type: 'quarantine',
        node: record.node,
        reason: 'quarantine-returning-writer',
        message: `ex-writer ${record.node} is back and writable: forcing read-only`,
      });
      d.note(
        'warn',
        'quarantine-returning-writer',
        `ex-writer ${record.node} returned writable`,
        record.node,
      );
      continue;
    }
    const writerObs = bestObservation(d.live, writer.node);
    if (!writerObs?.reachable || obs.executedGtids === undefined || writerObs.executedGtids === undefined)
      continue;
    const errant = errantTransactions(
      { executed: parseGtidSet(obs.executedGtids, flavor) },
      {
        executed: parseGtidSet(writerObs.executedGtids, flavor),
        retrieved: parseGtidSet(writerObs.retrievedGtids ?? '', flavor),
      },
    );
    if (!isEmptyGtidSet(errant)) {
      const errantGtids = formatGtidSet(errant);
      d.state = {
        ...d.state,
        quarantine: { ...d.state.quarantine, [record.node]: { ...record, status: 'errant', errantGtids } },
      };
      d.act({
        type: 'stop-replication',
        on: writer.node,
        from: record.node,
        reason: 'errant-transactions',
        message: `${record.node} has errant transactions ${errantGtids}: nothing replicates from it into ${writer.node}`,
      });
      d.note(
        'alert',
        'errant-transactions',
        `${record.node} has errant transactions ${errantGtids}; operator must rejoin it`,
        record.node,
      );
      d.history({
        event: 'quarantine',
        reason: 'errant-transactions',
        message: `${record.node} kept out: errant ${errantGtids}`,
        node: record.node,
        by: 'auto',
        errantGtids,
      });
      continue;
    }
    const { [record.node]: _gone, ...rest } = d.state.quarantine;
    d.state = { ...d.state, quarantine: rest };
    rejoinActions(d, record.node, 'rejoin-clean');
    d.history({
      event: 'rejoin',
      reason: 'rejoin-clean',
      message: `${record.node} has no errant transactions: rejoins as standby of ${writer.node}`,
      node: record.node,
      by: 'auto',
    });
  }
}

/** Standby replicates from the writer; a candidate co-master also feeds the writer again. */
export function rejoinActions(d: DecisionDraft, node: string, reason: ReasonCode): void {
  const writer = d.snapshot.writer;
  if (!writer) return;
  d.act({
    type: 'repoint',
    replica: node,
    source: writer.node,
    reason,
    message: `${node} replicates from ${writer.node}`,
    // A crash may have truncated a tail the writer holds (src/mysql/truncated-tail.ts).
    ...(reason === 'rejoin-clean' ? { refetchOwnTail: true } : {}),
  });
  const spec = d.snapshot.spec.nodes.find((n) => n.name === node);
  if (spec?.role === 'candidate') {
    d.act({
      type: 'repoint',
      replica: writer.node,
      source: node,
      reason,
      message: `${writer.node} replicates from co-master ${node} again`,
    });
  }
}
