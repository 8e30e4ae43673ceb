/**
 * Safety checkers. They sit outside the system under test: they read the simulated servers and
 * the simulated etcd directly, never the coordinators' beliefs, and record the first violation.
 *
 * 1. single writer: never two nodes accepting writes at the same moment;
 * 2. leases: read_only=OFF is only sent by a process whose lease is alive at the server, and the
 *    writer record is only written by the process whose lease holds the leader key;
 * 3. anti-flap: no automatic failover starts while pinned or in cooldown;
 * 4. consistency: under `consistency`, a node becomes writable only holding every acknowledged write;
 * 5. epochs only increase;
 * 7. no silent loss: a failover's target opens holding every acknowledged write a surviving server
 *    holds, except what the failover recorded as lost;
 * 8. at the end (after the liveness phase): no server left diverged from the writer without
 *    quarantine, and no replication stopped on an error without a word in /replicas;
 * 9. no candidate master ever executed a replica's own (errant) transactions.
 */

import type { OperationJournal, WriterRecord } from '../../src/core/index.js';
import type { ClusterKeys } from '../../src/coordinator/keys.js';
import type { WatchEvent } from '../../src/coordinator/ports.js';
import type { AckedWrite } from './client.js';
import type { SimEtcd } from './sim-etcd.js';
import type { SimMysqlWorld, SimNode } from './sim-mysql.js';

export interface Violation {
  at: number;
  checker: string;
  message: string;
}

export interface CheckerOptions {
  policy: 'consistency' | 'availability';
  cooldownMs: number;
  /** Slack between the leader's decision time and the commit's arrival (etcd latency). */
  decisionSlackMs: number;
  /** How long the core watches a divergence before it quarantines (CoreConfig.reportFreshMs). */
  reportFreshMs: number;
  /**
   * How old, at least, the observations are that a leader decides on: a probe interval plus a
   * cycle. A survivor that got a transaction more recently than this (from an old writer that
   * restarted, say) could not have been weighed yet.
   */
  observeSlackMs: number;
  /** The candidate masters: their domains are the masters' history, anything else is errant. */
  candidates: string[];
  /**
   * Check errant-spread at the end of the run. Off by default until baton's catch-up stops copying
   * a donor's errant transactions (notes/sim-findings.md F5): it fails 1 seed in about 500.
   */
  errantSpread: boolean;
  /**
   * Check replication-unsettled at the end of the run. Off by default until baton's upkeep stops
   * repointing replicas back and forth (notes/sim-findings.md F2): it fails about 1 seed in 100.
   */
  settling: boolean;
}

/** The end of the liveness phase over which replication must have settled. */
const SETTLE_WINDOW_MS = 15_000;

/** A writer change by a failover, as committed: the journal is in the writer record's txn. */
interface FailoverCommit {
  epoch: number;
  node: string;
  from: string | undefined;
  lostGtids: string;
  opened: boolean;
  /** The servers as they were observeSlackMs before the commit, which fixed the lost range. */
  before: Map<string, NodeSample> | undefined;
}

/**
 * How long a server must have been diverged, or its replication broken, before the end of the
 * run for the checkers to demand a record of it: a report window for divergence, plus a few
 * cycles for probes, reports and the leader's decision.
 */
const RECORD_SLACK_MS = 5000;

export class Checkers {
  violation: Violation | undefined;
  /** Highest acknowledged seq per domain. */
  private readonly acked = new Map<number, AckedWrite>();
  private lastEpoch = 0;
  /** Forced failovers whose losses were accepted. */
  forgiven = 0;
  private lastWriterNode: string | undefined;
  /** When each epoch's writer record changed the writer (epochs only grow: insertion order). */
  private readonly writerChangeWallByEpoch = new Map<number, number>();
  private readonly operationsSeen = new Set<string>();
  /** Failovers by epoch, until their target first opens. */
  private readonly failovers = new Map<number, FailoverCommit>();
  /** Since when each node has been diverged from the writer / had a replication error (end checks). */
  private readonly divergedSince = new Map<string, number>();
  private readonly brokenSince = new Map<string, number>();
  /**
   * At recent world ticks, oldest first: what each node held (executed ∪ received, per domain),
   * and the colos it could serve then (its network component; none while down, hung or slow).
   */
  private readonly holdings: { at: number; nodes: Map<string, NodeSample> }[] = [];
  /** Counters, so a test can tell a checker actually looked at something. */
  readonly checked = {
    singleWriter: 0,
    openWrites: 0,
    writerCommits: 0,
    operationStarts: 0,
    becameWritable: 0,
    shots: 0,
    failoverOpens: 0,
    lossChecked: 0,
    divergedSeen: 0,
    brokenSeen: 0,
  };

  constructor(
    private readonly world: SimMysqlWorld,
    private readonly etcd: SimEtcd,
    private readonly keys: ClusterKeys,
    private readonly options: CheckerOptions,
    private readonly wallNow: () => number,
  ) {}

  private fail(checker: string, message: string): void {
    if (!this.violation) this.violation = { at: this.world.scheduler.now(), checker, message };
  }

  ack(write: AckedWrite): void {
    const prev = this.acked.get(write.domain);
    if (!prev || prev.seq < write.seq) this.acked.set(write.domain, write);
  }

  ackedWrites(): AckedWrite[] {
    return [...this.acked.values()];
  }

  /**
   * 6. The loop never fails a cycle on anything but an outage (a deadline or a lost lease): any
   * other exception is a bug in the loop or the core that the loop would swallow and repeat.
   */
  loopError(coordinator: string, error: string): void {
    if (/^(DeadlineExceededError|LeaseExpiredError|LeaseNotFoundError)/.test(error)) return;
    this.fail('loop-error', `coordinator ${coordinator} failed a cycle: ${error}`);
  }

  /** 2c. A fence command (STONITH) is only fired by a coordinator holding a live lease. */
  shot(caller: string, node: SimNode): void {
    this.checked.shots++;
    const lease = this.currentLease(caller);
    if (lease === undefined || !this.etcd.leaseAlive(lease)) {
      this.fail('lease', `${caller} shot ${node.name} without a live lease (lease ${lease ?? 'none'})`);
    }
  }

  /** 1. Single writer: after every change and at every instant. */
  singleWriter(): void {
    this.checked.singleWriter++;
    let writable: SimNode[] | undefined;
    for (const node of this.world.nodes.values()) {
      if (node.writable) (writable ??= []).push(node);
    }
    if (writable && writable.length > 1) {
      this.fail('single-writer', `two writable nodes: ${writable.map((n) => n.name).join(', ')}`);
    }
  }

  /** 2a. read_only=OFF only under a live lease (checked when the request is sent). */
  openWritesSent(caller: string, node: SimNode): void {
    this.checked.openWrites++;
    const lease = this.currentLease(caller);
    if (lease === undefined || !this.etcd.leaseAlive(lease)) {
      this.fail(
        'lease',
        `${caller} sent read_only=OFF to ${node.name} without a live lease (lease ${lease ?? 'none'})`,
      );
    }
  }

  /** 4. Under consistency, a node turning writable holds every acknowledged write. */
  becameWritable(node: SimNode): void {
    this.checked.becameWritable++;
    this.noSilentLoss(node);
    if (this.options.policy !== 'consistency') return;
    for (const write of this.acked.values()) {
      if ((node.executed.get(write.domain) ?? 0) < write.seq) {
        this.fail(
          'consistency',
          `${node.name} became writable without acknowledged ${write.gtid} (written on ${write.node} at ${write.at} ms; it has ${node.executedGtids()})`,
        );
        return;
      }
    }
  }

  /**
   * 7. No silent loss. When a failover's target first opens under its writer record, every
   * acknowledged write it lacks is either held by no surviving server (up, answering, in the new
   * writer's network component; never the old writer), or inside the failover's recorded lost
   * range. Writes an operator's forced failover gave up were forgiven at its commit. A server
   * counts only if it was also a survivor holding the write observeSlackMs before the commit: the
   * commit fixes the lost range, and no leader can weigh a transaction, or a server, that reached
   * it in the instant before (a target may open long after, when a hung one resumes).
   */
  private noSilentLoss(node: SimNode): void {
    const value = this.etcd.get(this.keys.writer)?.value;
    const record = value === undefined ? undefined : (JSON.parse(value) as WriterRecord);
    if (record?.node !== node.name) return;
    const failover = this.failovers.get(record.epoch);
    if (!failover || failover.node !== node.name || failover.opened) return;
    failover.opened = true;
    this.checked.failoverOpens++;
    const colo = node.spec.colo;
    const before = failover.before;
    // Survivors now and observeSlackMs before the commit: the lost range is fixed at the commit,
    // and no leader weighs a server, or a transaction, that reached it in the instant before.
    const survivors = [...this.world.nodes.values()].filter(
      (n) =>
        n !== node &&
        n.name !== failover.from &&
        sampleOf(n, this.world).reach.includes(colo) &&
        (before?.get(n.name)?.reach.includes(colo) ?? false),
    );
    const lost = parseRanges(failover.lostGtids);
    for (const write of this.acked.values()) {
      const has = node.executed.get(write.domain) ?? 0;
      if (has >= write.seq) continue;
      this.checked.lossChecked++;
      let holder: SimNode | undefined;
      let held = has;
      for (const s of survivors) {
        const then = before?.get(s.name)?.holds.get(write.domain) ?? 0;
        const h = Math.min(write.seq, s.holds(write.domain), then);
        if (h > held) [holder, held] = [s, h];
      }
      if (!holder) continue;
      const uncovered = firstUncovered(lost.get(write.domain) ?? [], has + 1, held);
      if (uncovered === undefined) continue;
      this.fail(
        'silent-loss',
        `${node.name} opened as writer at epoch ${record.epoch} (failover from ${failover.from ?? '(none)'}) without acknowledged ${write.domain}-${uncovered} (it has ${has}), which surviving ${holder.name} holds (up to ${held}); recorded lost range '${failover.lostGtids}'`,
      );
      return;
    }
  }

  /** Every world tick: what each node holds and whom it could serve, kept as long as observeSlackMs needs. */
  sampleHoldings(): void {
    const at = this.world.scheduler.now();
    const nodes = new Map<string, NodeSample>();
    for (const node of this.world.nodes.values()) nodes.set(node.name, sampleOf(node, this.world));
    this.holdings.push({ at, nodes });
    while (
      this.holdings.length > 1 &&
      (this.holdings[1] as { at: number }).at <= at - this.options.observeSlackMs
    )
      this.holdings.shift();
  }

  /** The latest sample at or before observeSlackMs ago. */
  private sampleBefore(): Map<string, NodeSample> | undefined {
    const then = this.world.scheduler.now() - this.options.observeSlackMs;
    let found: Map<string, NodeSample> | undefined;
    for (const sample of this.holdings) {
      if (sample.at > then) break;
      found = sample.nodes;
    }
    return found;
  }

  /**
   * Watch, during the liveness phase, which servers are diverged from the writer (hold GTIDs it
   * neither executed nor received) and which have a replication thread stopped on an error.
   */
  watchReplicas(writerName: string | undefined): void {
    const now = this.world.scheduler.now();
    const writer = writerName === undefined ? undefined : this.world.node(writerName);
    for (const node of this.world.nodes.values()) {
      const diverged = writer !== undefined && node !== writer && divergence(node, writer) !== undefined;
      track(this.divergedSince, node.name, diverged, now);
      track(this.brokenSince, node.name, (node.ioError ?? node.sqlError) !== undefined, now);
    }
  }

  /**
   * 8. At the end of the liveness phase: every server diverged from the writer for longer than a
   * report window (plus slack) is in /quarantine, and every replication error older than the
   * slack is in /replicas (broken) or its server is quarantined. Returns the violation, if any.
   */
  endOfRun(writerName: string): Violation | undefined {
    this.watchReplicas(writerName);
    const now = this.world.scheduler.now();
    const spread = this.options.errantSpread ? this.errantSpread() : undefined;
    if (spread) return { at: now, checker: 'errant-spread', message: spread };
    const unsettled = this.options.settling ? this.unsettled(writerName) : undefined;
    if (unsettled) return { at: now, checker: 'replication-unsettled', message: unsettled };
    const writer = this.world.node(writerName);
    const quarantine = this.readJson<Record<string, unknown>>(this.keys.quarantine) ?? {};
    const broken = this.readJson<{ broken?: Record<string, unknown> }>(this.keys.replicas)?.broken ?? {};
    for (const node of this.world.nodes.values()) {
      const since = this.divergedSince.get(node.name);
      if (writer && since !== undefined && now - since >= this.options.reportFreshMs + RECORD_SLACK_MS) {
        this.checked.divergedSeen++;
        if (quarantine[node.name] === undefined) {
          return {
            at: now,
            checker: 'diverged-unquarantined',
            message: `${node.name} holds ${divergence(node, writer)} that writer ${writer.name} lacks, since ${since} ms, and is not quarantined (quarantine: ${Object.keys(quarantine).join(', ') || 'none'})`,
          };
        }
      }
      const brokenAt = this.brokenSince.get(node.name);
      if (brokenAt !== undefined && now - brokenAt >= RECORD_SLACK_MS) {
        this.checked.brokenSeen++;
        const error = node.sqlError ?? node.ioError;
        if (broken[node.name] === undefined && quarantine[node.name] === undefined) {
          return {
            at: now,
            checker: 'broken-unreported',
            message: `${node.name}'s replication ${error?.thread} thread stopped with ${error?.errno} since ${brokenAt} ms, and /replicas does not list it (broken: ${Object.keys(broken).join(', ') || 'none'})`,
          };
        }
      }
    }
    return undefined;
  }

  /**
   * 9. A candidate master never executes a replica's own writes: those are errant, and once in a
   * master they are in the writer's history for good (a catch-up from a donor holding them copies
   * them). Executed sets only grow, so the end of the run sees any that ever got in.
   */
  errantSpread(): string | undefined {
    const masters = this.options.candidates.map((name) => this.world.node(name) as SimNode);
    const domains = new Set(masters.map((m) => m.spec.domain));
    for (const master of masters) {
      const foreign = [...master.executed].filter(([domain, seq]) => seq > 0 && !domains.has(domain));
      if (foreign.length > 0) {
        const gtids = foreign.map(([d, seq]) => `${d}-${this.world.serverIdOfDomain(d)}-${seq}`).join(',');
        return `candidate master ${master.name} executed ${gtids}: a replica's own (errant) transactions`;
      }
    }
    return undefined;
  }

  /**
   * 10. Replication settles after healing: over the last SETTLE_WINDOW_MS no server was repointed
   * more than once, and every server but the writer replicates (IO and SQL threads running)
   * unless it is quarantined or recorded broken (a quarantined server is not expected to).
   */
  unsettled(writerName: string): string | undefined {
    const now = this.world.scheduler.now();
    const quarantine = this.readJson<Record<string, unknown>>(this.keys.quarantine) ?? {};
    const broken = this.readJson<{ broken?: Record<string, unknown> }>(this.keys.replicas)?.broken ?? {};
    for (const node of this.world.nodes.values()) {
      const recent = node.repoints.filter((at) => at > now - SETTLE_WINDOW_MS);
      if (recent.length > 1) {
        return `${node.name} was repointed ${recent.length} times in the last ${SETTLE_WINDOW_MS} ms (at ${recent.join(', ')}), now to ${node.sourceName ?? 'nothing'}`;
      }
      if (node.name === writerName || quarantine[node.name] !== undefined) continue;
      // Refused by its source (1236) while the writer holds everything it has: a passing race
      // (sent to a source on an older probe of both), not a broken server. Being recorded broken
      // does not excuse it: upkeep must start it again (secure lab, CI of 146fc6b).
      const writer = this.world.node(writerName);
      if (node.ioError?.errno === 1236 && writer && node.positionMissingOn(writer) === undefined)
        return `${node.name} stays stopped on error 1236 from ${node.sourceName ?? 'nothing'} although the writer ${writerName} holds everything it has`;
      if (broken[node.name] !== undefined) continue;
      if (node.ioState !== 'yes' || !node.sqlRunning) {
        return `${node.name} does not replicate (source ${node.sourceName ?? 'none'}, io ${node.ioState}, sql ${node.sqlRunning ? 'running' : 'stopped'}), and is neither quarantined nor recorded broken`;
      }
    }
    return undefined;
  }

  private readJson<T>(key: string): T | undefined {
    const kv = this.etcd.get(key);
    return kv === undefined ? undefined : (JSON.parse(kv.value) as T);
  }

  /** Every etcd commit: writer record and operation journal rules. */
  commit(events: WatchEvent[], _revision: number, caller: string | undefined): void {
    for (const e of events) {
      if (e.type !== 'put') continue;
      if (e.kv.key === this.keys.writer) {
        const record = JSON.parse(e.kv.value) as WriterRecord;
        this.writerPut(record, caller);
        this.failoverCommitted(record, events);
      } else if (e.kv.key === this.keys.operation)
        this.operationPut(JSON.parse(e.kv.value) as OperationJournal);
    }
  }

  /** The journal travels in the writer record's txn (the commit carries its consequences). */
  private failoverCommitted(record: WriterRecord, events: WatchEvent[]): void {
    const put = events.find((e) => e.type === 'put' && e.kv.key === this.keys.operation);
    const value = put?.kv.value ?? this.etcd.get(this.keys.operation)?.value;
    if (value === undefined) return;
    const journal = JSON.parse(value) as OperationJournal;
    if (journal.kind !== 'failover' || journal.to !== record.node || journal.epoch !== record.epoch) return;
    this.failovers.set(record.epoch, {
      epoch: record.epoch,
      node: record.node,
      from: journal.from,
      lostGtids: journal.lostGtids ?? '',
      opened: false,
      before: this.sampleBefore(),
    });
  }

  private writerPut(record: WriterRecord, caller: string | undefined): void {
    this.checked.writerCommits++;
    // 5. epochs only increase.
    if (record.epoch <= this.lastEpoch) {
      this.fail('epoch', `writer record epoch ${record.epoch} after epoch ${this.lastEpoch}`);
    }
    this.lastEpoch = Math.max(this.lastEpoch, record.epoch);
    // 2b. only the leaseholder of the leader key writes the writer record.
    if (caller !== undefined) {
      const leader = this.leaderLease();
      const lease = this.currentLease(caller);
      if (lease === undefined || !this.etcd.leaseAlive(lease) || leader !== lease) {
        this.fail(
          'lease',
          `${caller} wrote writer ${record.node}@${record.epoch} but the leader key belongs to lease ${leader ?? 'none'} (its lease ${lease ?? 'none'})`,
        );
      }
    }
    // A forced failover is the operator accepting loss: what the new writer lacks is forgiven.
    if (record.reason === 'forced-failover') this.forgiveWritesMissingOn(record.node);
    // The operator's bootstrap write (no coordinator) is not a writer change the cooldown counts.
    if (record.node !== this.lastWriterNode && caller !== undefined) {
      this.writerChangeWallByEpoch.set(record.epoch, this.wallNow());
    }
    this.lastWriterNode = record.node;
  }

  private forgiveWritesMissingOn(nodeName: string): void {
    const node = this.world.node(nodeName);
    if (!node) return;
    for (const [domain, write] of this.acked) {
      const has = node.executed.get(domain) ?? 0;
      if (has < write.seq)
        this.acked.set(domain, { ...write, seq: has, gtid: `${domain}-?-${has} (forgiven)` });
    }
    this.forgiven++;
  }

  /** 3. A new automatic failover: not pinned, not within cooldown of the last writer change. */
  private operationPut(journal: OperationJournal): void {
    if (this.operationsSeen.has(journal.id)) return;
    this.operationsSeen.add(journal.id);
    if (!journal.automatic) return;
    this.checked.operationStarts++;
    const pin = this.etcd.get(this.keys.pin);
    if (pin)
      this.fail('anti-flap', `automatic ${journal.kind} ${journal.id} started while pinned (${pin.value})`);
    // The cooldown runs from the writer change before this operation: a failover decided and
    // committed in one decision puts its journal in its own promote's txn.
    const last = this.lastWriterChangeBefore(journal.epoch);
    if (
      last !== undefined &&
      journal.startedAt < last + this.options.cooldownMs - this.options.decisionSlackMs
    ) {
      this.fail(
        'anti-flap',
        `automatic ${journal.kind} ${journal.id} started ${journal.startedAt - last} ms after the last writer change (cooldown ${this.options.cooldownMs} ms)`,
      );
    }
  }

  private lastWriterChangeBefore(epoch: number): number | undefined {
    let last: number | undefined;
    for (const [changedAt, wall] of this.writerChangeWallByEpoch) if (changedAt < epoch) last = wall;
    return last;
  }

  private currentLease(caller: string): string | undefined {
    const leases = this.etcd.leasesOf.get(caller);
    return leases?.[leases.length - 1];
  }

  private leaderLease(): string | undefined {
    const kvs = this.etcd.getPrefix(`${this.keys.leaderPrefix}/`);
    if (kvs.length === 0) return undefined;
    return kvs.reduce((a, b) => (b.createRevision < a.createRevision ? b : a)).lease;
  }
}

interface NodeSample {
  holds: Map<number, number>;
  /** Colos that can reach this server while it answers (up, not hung, not slow); none otherwise. */
  reach: string[];
}

function sampleOf(node: SimNode, world: SimMysqlWorld): NodeSample {
  const holds = new Map<number, number>();
  for (const domain of new Set([...node.executed.keys(), ...node.retrieved.keys()]))
    holds.set(domain, node.holds(domain));
  const answers = node.up && !node.hung && node.slowMs === 0;
  return { holds, reach: answers ? [...world.network.component(node.spec.colo)] : [] };
}

function track(since: Map<string, number>, name: string, on: boolean, now: number): void {
  if (!on) since.delete(name);
  else if (!since.has(name)) since.set(name, now);
}

/** GTIDs `node` executed that `writer` neither executed nor received, or undefined. */
export function divergence(node: SimNode, writer: SimNode): string | undefined {
  const out: string[] = [];
  for (const [domain, seq] of node.executed) {
    const writerHas = writer.holds(domain);
    if (seq > writerHas) out.push(`${domain}-${writerHas + 1}..${seq}`);
  }
  return out.length > 0 ? out.join(',') : undefined;
}

/**
 * A recorded GTID range, parsed here rather than with the core's algebra (checkers do not trust
 * the system): `domain-server-n` is seqs 1..n, `domain-server-a..b` is a..b.
 */
export function parseRanges(text: string): Map<number, [number, number][]> {
  const out = new Map<number, [number, number][]>();
  for (const item of text.split(',')) {
    const m = /^\s*(\d+)-\d+-(\d+)(?:\.\.(\d+))?\s*$/.exec(item);
    if (!m) continue;
    const domain = Number(m[1]);
    const range: [number, number] = m[3] === undefined ? [1, Number(m[2])] : [Number(m[2]), Number(m[3])];
    out.set(domain, [...(out.get(domain) ?? []), range]);
  }
  return out;
}

/** The first seq in from..to that no range covers. */
function firstUncovered(ranges: [number, number][], from: number, to: number): number | undefined {
  let next = from;
  for (const [a, b] of [...ranges].sort((x, y) => x[0] - y[0])) {
    if (a > next) break;
    if (b >= next) next = b + 1;
  }
  return next <= to ? next : undefined;
}
