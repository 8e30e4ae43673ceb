import mysql from 'mysql2/promise';
import type { LabStatus } from '../../../src/lab/lab-status.js';
import { LAB_NODES } from '../../../src/lab/topology.js';
import { withDeadline } from './split-brain-sampler.js';
import { outagesOf, type Ack, type Outage } from './write-client.js';

const WRITE_DEADLINE_MS = 1_000;

/**
 * An application that knows only HAProxy's write port: it writes sequential rows to app.writes
 * and reconnects on any error, as a pooled client would. HAProxy pins a TCP connection to one
 * server, so the server that acknowledged a write is the one the connection reached: each new
 * connection asks @@server_id once.
 */
export class RoutedWriteClient {
  readonly acks: Ack[] = [];
  readonly errors: { at: number; message: string }[] = [];
  reconnects = 0;
  private running = true;
  private loop: Promise<void> | undefined;
  private seq = 0;

  constructor(
    private readonly status: LabStatus,
    readonly clientId = `routed-${process.pid}-${Date.now()}`,
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
    const route = this.status.haproxy?.write;
    if (!route) throw new Error('the lab runs no HAProxy (lab up --haproxy)');
    let conn: { c: mysql.Connection; node: string } | undefined;
    while (this.running) {
      const seq = ++this.seq;
      const sentAt = Date.now();
      try {
        if (!conn) {
          const c = await withDeadline(
            mysql.createConnection({
              host: route.host,
              port: route.port,
              user: this.status.users.app.user,
              password: this.status.users.app.password,
              database: 'app',
              connectTimeout: WRITE_DEADLINE_MS,
            }),
            WRITE_DEADLINE_MS,
          );
          const [[row]] = (await withDeadline(
            c.query('SELECT @@server_id AS id'),
            WRITE_DEADLINE_MS,
          )) as unknown as [[{ id: number }]];
          const node = LAB_NODES.find((n) => n.serverId === Number(row.id))?.name ?? `server-${row.id}`;
          conn = { c, node };
        }
        await withDeadline(
          conn.c.query('INSERT INTO writes (client, seq) VALUES (?, ?)', [this.clientId, seq]),
          WRITE_DEADLINE_MS,
        );
        this.acks.push({ seq, node: conn.node, sentAt, ackedAt: Date.now() });
        if (this.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, this.pauseMs));
      } catch (error) {
        this.errors.push({ at: Date.now(), message: (error as Error).message });
        if (conn) this.reconnects++;
        conn?.c.destroy();
        conn = undefined;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    conn?.c.destroy();
  }

  /** Gaps between consecutive acknowledged writes of at least minMs. */
  outages(minMs: number): Outage[] {
    return outagesOf(this.acks, minMs);
  }
}

/** When each writer record was seen (the test's clock): the writer at a moment. */
export interface WriterTimeline {
  changes: { node: string; epoch: number; seenAt: number }[];
}

/**
 * Acknowledgements from a server that was not the recorded writer at that moment. A watch event
 * reaches the test after the commit, and the new writer's first acknowledgement can arrive before
 * it: an ack counts as the writer's if its node was recorded at the ack or within `eventSlackMs`
 * after it.
 */
export function acksByNonWriter(acks: Ack[], timeline: WriterTimeline, eventSlackMs = 100): Ack[] {
  const writerAt = (t: number): string | undefined =>
    [...timeline.changes].reverse().find((c) => c.seenAt <= t)?.node;
  return acks.filter((a) => a.node !== writerAt(a.ackedAt) && a.node !== writerAt(a.ackedAt + eventSlackMs));
}
