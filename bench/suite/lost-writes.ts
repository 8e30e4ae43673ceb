/**
 * Acknowledged writes the final writer does not hold: what a client was told was stored and is
 * gone. Read from the final writer's own app.writes, by the client's id and sequence numbers.
 */
import mysql from 'mysql2/promise';
import type { LabStatus } from '../../src/lab/lab-status.js';
import { withDeadline } from '../../test/integration/support/split-brain-sampler.js';
import type { Ack } from '../../test/integration/support/write-client.js';
import { measured, notMeasured, type Measure } from './measures.js';

export function missingSeqs(acks: readonly Ack[], held: ReadonlySet<number>): number[] {
  return acks.filter((a) => !held.has(a.seq)).map((a) => a.seq);
}

async function seqsOn(status: LabStatus, node: string, clientId: string): Promise<Set<number>> {
  const spec = status.nodes.find((n) => n.name === node);
  if (!spec) throw new Error(`no node ${node}`);
  const conn = await withDeadline(
    mysql.createConnection({
      host: spec.host,
      port: spec.port,
      user: status.users.app.user,
      password: status.users.app.password,
      connectTimeout: 3_000,
    }),
    3_000,
  );
  try {
    const [rows] = await withDeadline(
      conn.query('SELECT seq FROM app.writes WHERE client = ?', [clientId]),
      10_000,
    );
    return new Set((rows as { seq: number | string }[]).map((r) => Number(r.seq)));
  } finally {
    conn.destroy();
  }
}

export async function lostAckedWrites(
  status: LabStatus,
  finalWriter: string | undefined,
  clientId: string,
  acks: readonly Ack[],
): Promise<Measure> {
  if (finalWriter === undefined)
    return notMeasured('no writer record at the end of the run to read rows from');
  try {
    return measured(missingSeqs(acks, await seqsOn(status, finalWriter, clientId)).length);
  } catch (error) {
    return notMeasured(`the final writer ${finalWriter} could not be read: ${(error as Error).message}`);
  }
}
