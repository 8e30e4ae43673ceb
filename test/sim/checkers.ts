/**
 * Safety checkers. They sit outside the system under test: they read the simulated servers and
 * the simulated etcd directly, never the coordinators' beliefs, and record the first violation.
 *
 * 1. single writer: never two nodes accepting writes at the same moment;
 * 2. leases: read_only=OFF is only sent by a process whose lease is alive at the server, and the
 *    writer record is only written by the process whose lease holds the leader key;
 * 3. anti-flap: no automatic failover starts while pinned or in cooldown;
 * 4. consistency: under `consistency`, a node becomes writable only holding every acknowledged write;
 * 5. epochs only increase.
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
}

export class Checkers {
  violation: Violation | undefined;
  /** Highest acknowledged seq per domain. */
  private readonly acked = new Map<number, AckedWrite>();
  private lastEpoch = 0;
  /** Forced failovers whose losses were accepted. */
  forgiven = 0;
  private lastWriterNode: string | undefined;
  private lastWriterChangeWall: number | undefined;
  private readonly operationsSeen = new Set<string>();
  /** Counters, so a test can tell a checker actually looked at something. */
  readonly checked = {
    singleWriter: 0,
    openWrites: 0,
    writerCommits: 0,
    operationStarts: 0,
    becameWritable: 0,
    shots: 0,
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

  /** Every etcd commit: writer record and operation journal rules. */
  commit(events: WatchEvent[], _revision: number, caller: string | undefined): void {
    for (const e of events) {
      if (e.type !== 'put') continue;
      if (e.kv.key === this.keys.writer) this.writerPut(JSON.parse(e.kv.value) as WriterRecord, caller);
      else if (e.kv.key === this.keys.operation)
        this.operationPut(JSON.parse(e.kv.value) as OperationJournal);
    }
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
    if (record.node !== this.lastWriterNode && caller !== undefined)
      this.lastWriterChangeWall = this.wallNow();
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
    const last = this.lastWriterChangeWall;
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
