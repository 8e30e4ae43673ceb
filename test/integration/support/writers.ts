import mysql from 'mysql2/promise';
import type { LabStatus } from '../../../src/lab/lab-status.js';
import { withDeadline } from './split-brain-sampler.js';

/** A row the server acknowledged: its AUTO_INCREMENT id, where, and when. */
export interface AckedRow {
  id: number;
  client: string;
  seq: number;
  node: string;
  ackedAt: number;
}

const WRITE_DEADLINE_MS = 2_000;

/**
 * The application of issue 10's tests: `count` clients inserting concurrently into app.writes,
 * each on a persistent connection, each finding the writer as a client of read_only masters
 * does (a node answering 1290, or not at all, is skipped for the next candidate). Only rows whose
 * OK arrived are acknowledged; a write that timed out may or may not have committed and is never
 * counted.
 */
export class ConcurrentWriters {
  readonly acked: AckedRow[] = [];
  readonly errors: { client: string; node: string; at: number; message: string }[] = [];
  private running = true;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly status: LabStatus,
    private readonly count = 8,
    readonly prefix = `writers-${process.pid}-${Date.now()}`,
    private readonly candidates = ['a1', 'b1'],
  ) {}

  start(): this {
    this.loops = Array.from({ length: this.count }, (_, i) => this.run(`${this.prefix}-${i}`));
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Acknowledged ids, as a set. */
  ids(): Set<number> {
    return new Set(this.acked.map((r) => r.id));
  }

  private async run(client: string): Promise<void> {
    let index = 0;
    let seq = 0;
    let conn: mysql.Connection | undefined;
    while (this.running) {
      const name = this.candidates[index % this.candidates.length] as string;
      const node = this.status.nodes.find((n) => n.name === name);
      if (!node) throw new Error(`no node ${name}`);
      seq++;
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
        const [result] = await withDeadline(
          conn.query('INSERT INTO writes (client, seq) VALUES (?, ?)', [client, seq]),
          WRITE_DEADLINE_MS,
        );
        const id = Number((result as { insertId: number | string }).insertId);
        this.acked.push({ id, client, seq, node: name, ackedAt: Date.now() });
      } catch (error) {
        this.errors.push({ client, node: name, at: Date.now(), message: (error as Error).message });
        conn?.destroy();
        conn = undefined;
        index++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    conn?.destroy();
  }
}
