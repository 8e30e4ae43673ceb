import mysql from 'mysql2/promise';
import type { LabStatus } from '../../../src/lab/lab-status.js';
import { withDeadline } from './split-brain-sampler.js';

/** An INSERT the server acknowledged: sent at sentAt, OK received at ackedAt, on node. */
export interface Ack {
  seq: number;
  node: string;
  sentAt: number;
  ackedAt: number;
}

export interface Outage {
  /** Last acknowledged write before the gap, and the first one after it. */
  lastAckBefore: number;
  firstAckAfter: number;
  ms: number;
  fromNode: string;
  toNode: string;
}

const WRITE_DEADLINE_MS = 1_000;

/**
 * An application writing sequential rows to app.writes as the `app` user. It finds the writer
 * the way a client of read_only masters does: a node answering 1290 (read-only) or not at all
 * is skipped for the next candidate. Only writes whose OK arrived count as acknowledged; a
 * write that timed out may or may not have committed and is never counted.
 */
export class WriteClient {
  readonly acks: Ack[] = [];
  readonly errors: { node: string; at: number; message: string }[] = [];
  private running = true;
  private loop: Promise<void> | undefined;
  private seq = 0;

  constructor(
    private readonly status: LabStatus,
    readonly clientId = `client-${process.pid}-${Date.now()}`,
    private readonly candidates = ['a1', 'b1'],
    private readonly pauseMs = 5,
  ) {}

  start(): this {
    this.loop = this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    let index = 0;
    let conn: mysql.Connection | undefined;
    while (this.running) {
      const name = this.candidates[index % this.candidates.length] as string;
      const node = this.status.nodes.find((n) => n.name === name);
      if (!node) throw new Error(`no node ${name}`);
      const seq = ++this.seq;
      const sentAt = Date.now();
      try {
        conn ??= await withDeadline(
          mysql.createConnection({
            host: node.host,
            port: node.port,
            user: this.status.users.app.user,
            password: this.status.users.app.password,
            database: 'app',
            connectTimeout: WRITE_DEADLINE_MS,
          }),
          WRITE_DEADLINE_MS,
        );
        await withDeadline(
          conn.query('INSERT INTO writes (client, seq) VALUES (?, ?)', [this.clientId, seq]),
          WRITE_DEADLINE_MS,
        );
        this.acks.push({ seq, node: name, sentAt, ackedAt: Date.now() });
        if (this.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, this.pauseMs));
      } catch (error) {
        this.errors.push({ node: name, at: Date.now(), message: (error as Error).message });
        conn?.destroy();
        conn = undefined;
        index++;
        // Do not spin on a dead pair of nodes.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    conn?.destroy();
  }

  /** Gaps between consecutive acknowledged writes longer than minMs (the write outages). */
  outages(minMs = 200): Outage[] {
    return outagesOf(this.acks, minMs);
  }
}

/** Gaps of at least minMs between consecutive acknowledged writes: what a client saw as outages. */
export function outagesOf(acks: readonly Ack[], minMs: number): Outage[] {
  const found: Outage[] = [];
  for (let i = 1; i < acks.length; i++) {
    const before = acks[i - 1] as Ack;
    const after = acks[i] as Ack;
    const gap = after.ackedAt - before.ackedAt;
    if (gap >= minMs) {
      found.push({
        lastAckBefore: before.ackedAt,
        firstAckAfter: after.ackedAt,
        ms: gap,
        fromNode: before.node,
        toNode: after.node,
      });
    }
  }
  return found;
}
