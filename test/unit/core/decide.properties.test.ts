/**
 * decide() over random snapshots (seeded): whatever the input, the safety rules hold. Complements
 * the table tests, which pin behaviour for chosen situations; failures print the seed.
 */

import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/core/decide.js';
import type { CoreConfig } from '../../../src/core/config.js';
import { inCooldown } from '../../../src/core/antiflap.js';
import { liveReports, writerGuardianAgrees } from '../../../src/core/health.js';
import type { Intent } from '../../../src/core/intent.js';
import type { NodeObservation, ObserverReport } from '../../../src/core/observation.js';
import type { OperationJournal, OperationStep } from '../../../src/core/operation.js';
import { REASON_CODES } from '../../../src/core/reasons.js';
import type { ClusterSnapshot, GuardianStatus } from '../../../src/core/snapshot.js';
import { CONFIG, NOW, snapshot, SPEC } from './fixtures.js';
import { prng, type Prng } from './prng.js';

const NODES = SPEC.nodes.map((n) => n.name);
const CANDIDATES = ['db-a1', 'db-b1'];
const GTIDS = ['1-1-90', '1-1-100', '1-1-100,2-2-5', '1-1-105', '1-1-100,2-2-20'];
const STEPS: OperationStep[] = [
  'fence-old',
  'wait-catchup',
  'commit',
  'open-target',
  'repoint',
  'rolling-back',
  'done',
];

const maybe = <T>(r: Prng, p: number, value: () => T): T | undefined => (r.next() < p ? value() : undefined);

function randomObservation(r: Prng, node: string): NodeObservation {
  const reachable = r.next() < 0.75;
  const obs: NodeObservation = {
    node,
    reachable,
    health: reachable ? (r.next() < 0.9 ? 'up' : 'down') : r.next() < 0.8 ? 'down' : 'up',
    observedAt: NOW,
    executedGtids: r.pick(GTIDS),
  };
  if (reachable) {
    obs.readOnly = r.next() < 0.7;
    obs.retrievedGtids = r.pick(GTIDS);
    obs.lagMs = r.pick([0, 100, 4000, 60_000]);
    const source = r.pick(NODES.filter((n) => n !== node));
    obs.replication = [
      {
        source,
        sourceHost: source,
        sourcePort: 3306,
        ioState: r.pick(['yes', 'no', 'connecting'] as const),
        sqlRunning: true,
        retrievedGtids: r.pick(GTIDS),
      },
    ];
  }
  return obs;
}

function randomGuardian(r: Prng, coordinator: string, epoch: number): GuardianStatus {
  const node = r.pick(CANDIDATES);
  const at = r.pick([epoch - 1, epoch, epoch]);
  const g: GuardianStatus = { coordinator, sessionAlive: r.next() < 0.7 };
  if (r.next() < 0.2) g.fencedWriter = { node, epoch: at, executedGtids: r.pick(GTIDS), at: NOW };
  if (r.next() < 0.2) g.fenceIssued = { node, epoch: at, at: NOW };
  if (r.next() < 0.2)
    g.holding = { node, epoch: at, because: r.pick(['fenced', 'operation', 'dead'] as const) };
  return g;
}

function randomIntent(r: Prng, i: number): Intent {
  const base = {
    id: `i${i}`,
    by: 'fuzz',
    at: i,
    status: r.next() < 0.85 ? ('pending' as const) : ('in-progress' as const),
  };
  switch (r.int(0, 5)) {
    case 0:
      return { ...base, kind: 'pin', ...(r.next() < 0.5 ? { node: r.pick(CANDIDATES) } : {}) };
    case 1:
      return { ...base, kind: 'unpin' };
    case 2:
      return { ...base, kind: 'switchover', ...(r.next() < 0.5 ? { target: r.pick(NODES) } : {}) };
    case 3:
      return { ...base, kind: 'failover', acceptDataLoss: r.next() < 0.7 };
    case 4:
      return { ...base, kind: 'rejoin', node: r.pick(NODES) };
    default:
      return {
        ...base,
        kind: 'invalid',
        problem: 'kind: expected kind pin, unpin, switchover, failover, rejoin',
      };
  }
}

function randomOperation(r: Prng, writerNode: string | undefined, epoch: number): OperationJournal {
  const to = r.pick(CANDIDATES);
  const kind = r.pick(['switchover', 'failover'] as const);
  const automatic = kind === 'failover' && r.next() < 0.6;
  const step = r.pick(STEPS);
  const op: OperationJournal = {
    id: `op-${epoch + 1}`,
    kind,
    reason: automatic
      ? r.pick(['writer-dead-quorum', 'writer-fenced-no-guardian'] as const)
      : kind === 'switchover'
        ? 'switchover-requested'
        : 'forced-failover',
    to,
    previousEpoch: r.next() < 0.85 ? epoch : epoch - 1,
    epoch: epoch + 1,
    step,
    startedAt: NOW - r.int(0, 20_000),
    stepStartedAt: NOW - r.int(0, 20_000),
    acceptDataLoss: !automatic && kind === 'failover',
    automatic,
    requestedBy: automatic ? 'auto' : 'fuzz',
    ...(kind === 'failover' ? { fenceBestEffort: true } : {}),
  };
  if (writerNode !== undefined && writerNode !== to) op.from = writerNode;
  if (r.next() < 0.5) op.fencedGtids = r.pick(GTIDS);
  if (r.next() < 0.5) op.requiredGtids = r.pick(GTIDS);
  if (r.next() < 0.5)
    op.lastOutcome = { operationId: op.id, step, ok: r.next() < 0.6, executedGtids: r.pick(GTIDS) };
  return op;
}

function randomSnapshot(r: Prng): { snap: ClusterSnapshot; config: CoreConfig } {
  const epoch = r.int(1, 9);
  const writerNode = maybe(r, 0.9, () => r.pick(CANDIDATES));
  const reports: ObserverReport[] = [];
  for (const c of ['coord-a', 'coord-b', 'coord-w']) {
    if (r.next() < 0.15) continue;
    reports.push({
      coordinator: c,
      publishedAt: NOW,
      receivedAt: NOW - r.pick([0, 1000, 60_000]),
      sessionAlive: r.next() < 0.9,
      nodes: NODES.map((n) => randomObservation(r, n)),
    });
  }
  const snap = snapshot({
    reports,
    guardians: { a: randomGuardian(r, 'coord-a', epoch), b: randomGuardian(r, 'coord-b', epoch) },
    antiFlap: {
      failoverTimes: r.next() < 0.3 ? [NOW - 3000, NOW - 2000, NOW - 1000] : [],
      ...(r.next() < 0.3 ? { cooldownUntil: NOW + r.int(-1000, 1000) } : {}),
    },
    intents: Array.from({ length: r.int(0, 2) }, (_, i) => randomIntent(r, i)),
    quarantine:
      r.next() < 0.2
        ? {
            [r.pick(NODES)]: {
              node: 'x',
              since: 0,
              epoch,
              status: r.pick(['awaiting-return', 'errant'] as const),
            },
          }
        : {},
  });
  if (writerNode) snap.writer = { node: writerNode, epoch, since: 0, reason: 'bootstrap-writer' };
  else delete snap.writer;
  if (r.next() < 0.2) snap.pin = { node: r.pick(CANDIDATES), by: 'fuzz', at: 0, reason: 'pin-requested' };
  if (r.next() < 0.35) snap.operation = randomOperation(r, writerNode, writerNode ? epoch : 0);
  for (const q of Object.keys(snap.quarantine)) snap.quarantine[q] = { ...snap.quarantine[q]!, node: q };
  return { snap, config: { ...CONFIG, policy: r.pick(['consistency', 'availability'] as const) } };
}

const AUTOMATIC = new Set(['writer-dead-quorum', 'writer-fenced-no-guardian']);
const codes = new Set<string>(REASON_CODES);
const SEEDS = 2500;

describe('decide over random snapshots', () => {
  it(`keeps its safety rules for ${SEEDS} seeds`, () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const { snap, config } = randomSnapshot(prng(seed));
      const frozen = JSON.stringify(snap);
      const d = decide(snap, NOW, config);
      const ctx = `seed ${seed}`;
      expect(JSON.stringify(snap), ctx).toBe(frozen);
      expect(JSON.parse(JSON.stringify(d.state)), ctx).toEqual(d.state);
      for (const x of [...d.actions, ...d.events])
        expect(codes.has(x.reason), `${ctx}: ${x.reason}`).toBe(true);

      const promotes = d.actions.filter((a) => a.type === 'promote');
      expect(promotes.length, ctx).toBeLessThanOrEqual(1);
      const writer = snap.writer;
      for (const p of promotes) {
        // Epochs only increase, by exactly one, from the epoch the txn compares.
        expect(p.previousEpoch, ctx).toBe(writer?.epoch ?? 0);
        expect(p.epoch, ctx).toBe(p.previousEpoch + 1);
        if (writer && p.node !== writer.node) {
          // Invariant 4: away from a writer only with its guardian gone or holding it closed.
          expect(
            writerGuardianAgrees(snap, liveReports(snap, NOW, config), writer.node, writer.epoch).agrees,
            ctx,
          ).toBe(true);
        }
        if (AUTOMATIC.has(p.reason)) {
          // Pinned as of this decision (an unpin intent in the same cycle lifts the pin first).
          expect(d.state.pin, `${ctx}: automatic promotion while pinned`).toBeUndefined();
          expect(inCooldown(snap.antiFlap, NOW), `${ctx}: automatic promotion in cooldown`).toBe(false);
        }
      }
      // Writes are only ever opened on the operation's target at its epoch (committed, or
      // committed by a promote earlier in the same decision: the loop runs it first and opens
      // nothing when it fails), or on the old writer at the old epoch when rolling back a
      // switchover.
      for (const o of d.actions.filter((a) => a.type === 'open-writes')) {
        const op = snap.operation ?? d.state.operation;
        const promote = d.actions.findIndex(
          (a) => a.type === 'promote' && a.node === o.node && a.epoch === o.epoch,
        );
        const committedBefore =
          (writer?.node === o.node && writer.epoch === o.epoch) ||
          (promote >= 0 && promote < d.actions.indexOf(o));
        const ok =
          (op !== undefined && o.node === op.to && o.epoch === op.epoch && committedBefore) ||
          (op !== undefined &&
            o.node === op.from &&
            o.epoch === op.previousEpoch &&
            op.kind === 'switchover');
        expect(ok, `${ctx}: open-writes ${o.node}@${o.epoch}`).toBe(true);
      }
    }
    // 2500 seeds take about 3.5 s alone; a loaded 2-core machine needs more than the default 5 s.
  }, 30_000);
});
