/**
 * Acknowledged writes the final writer does not hold: what a client was told was stored and is
 * gone. Read from the final writer's own app.writes, by the client's id and sequence numbers.
 */
import type { LabStatus } from '../../src/lab/lab-status.js';
import { withConnection } from '../../test/integration/support/data-check.js';
import type { Ack } from '../../test/integration/support/write-client.js';
import { measured, notMeasured, type Measure } from './measures.js';

export function missingSeqs(acks: readonly Ack[], held: ReadonlySet<number>): number[] {
  return acks.filter((a) => !held.has(a.seq)).map((a) => a.seq);
}

function seqsOn(status: LabStatus, node: string, clientId: string): Promise<Set<number>> {
  return withConnection(status, node, async (conn) => {
    const [rows] = await conn.query('SELECT seq FROM app.writes WHERE client = ?', [clientId]);
    return new Set((rows as { seq: number | string }[]).map((r) => Number(r.seq)));
  });
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
