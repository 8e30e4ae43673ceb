import mysql from 'mysql2/promise';
import { labMysqlSsl } from '../../../src/lab/lab-security.js';
import type { LabStatus } from '../../../src/lab/lab-status.js';
import { systemClock } from '../../../src/clock.js';
import { withDeadline as projectWithDeadline } from '../../../src/deadline.js';

/** One read of a node's read_only: the value held at some instant in [sentAt, receivedAt]. */
export interface Sample {
  node: string;
  sentAt: number;
  receivedAt: number;
  /** null when the node did not answer (dead, hung, or connection lost). */
  writable: boolean | null;
}

export interface SplitBrain {
  nodes: [string, string];
  at: number;
  detail: string;
}

const QUERY_DEADLINE_MS = 200;

/**
 * Watches every node's read_only from outside the system, every `intervalMs`, on its own
 * connections (the host address, which no lab fault cuts). It proves two writers only when it
 * can: node A is writable throughout [A's writable reply, A's next writable send] (read_only
 * does not flip twice within one poll), and that span overlaps a window in which B answered
 * writable.
 */
export class SplitBrainSampler {
  readonly samples: Sample[] = [];
  private running = true;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly status: LabStatus,
    private readonly intervalMs = 25,
  ) {}

  start(): this {
    this.loops = this.status.nodes.map((node) => this.pollNode(node.name, node.host, node.port));
    return this;
  }

  async stop(): Promise<SplitBrain[]> {
    this.running = false;
    await Promise.all(this.loops);
    return this.violations();
  }

  /** First time the node was seen writable after `after` (its reply time), if any. */
  firstWritable(node: string, after = 0): Sample | undefined {
    return this.samples.find((s) => s.node === node && s.writable === true && s.sentAt >= after);
  }

  lastWritable(node: string): Sample | undefined {
    return [...this.samples].reverse().find((s) => s.node === node && s.writable === true);
  }

  private async pollNode(name: string, host: string, port: number): Promise<void> {
    const user = this.status.users.baton;
    let conn: mysql.Connection | undefined;
    while (this.running) {
      const sentAt = Date.now();
      let writable: boolean | null = null;
      try {
        conn ??= await withDeadline(
          mysql.createConnection({
            host,
            port,
            user: user.user,
            password: user.password,
            connectTimeout: QUERY_DEADLINE_MS,
            ...(this.status.secure ? { ssl: labMysqlSsl(this.status) } : {}),
          }),
          QUERY_DEADLINE_MS,
        );
        const [rows] = await withDeadline(conn.query('SELECT @@global.read_only AS ro'), QUERY_DEADLINE_MS);
        writable = (rows as { ro: number }[])[0]?.ro === 0;
      } catch {
        conn?.destroy();
        conn = undefined;
      }
      this.samples.push({ node: name, sentAt, receivedAt: Date.now(), writable });
      const wait = this.intervalMs - (Date.now() - sentAt);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    conn?.destroy();
  }

  violations(): SplitBrain[] {
    const byNode = new Map<string, Sample[]>();
    for (const s of this.samples) byNode.set(s.node, [...(byNode.get(s.node) ?? []), s]);
    const found: SplitBrain[] = [];
    for (const [a, samplesA] of byNode) {
      for (let k = 0; k + 1 < samplesA.length; k++) {
        const first = samplesA[k] as Sample;
        const next = samplesA[k + 1] as Sample;
        if (first.writable !== true || next.writable !== true) continue;
        const [from, to] = [first.receivedAt, next.sentAt];
        for (const [b, samplesB] of byNode) {
          if (b === a) continue;
          const overlap = samplesB.find((s) => s.writable === true && s.sentAt <= to && s.receivedAt >= from);
          if (overlap) {
            found.push({
              nodes: [a, b],
              at: overlap.receivedAt,
              detail: `${a} writable throughout [${from}, ${to}] while ${b} answered writable in [${overlap.sentAt}, ${overlap.receivedAt}]`,
            });
          }
        }
      }
    }
    return found;
  }
}

/** The project's own deadline helper, in the wall-clock milliseconds the harness thinks in. */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return projectWithDeadline(systemClock, systemClock.now() + ms, 'harness call', promise);
}
