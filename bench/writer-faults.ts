/**
 * The faults the benchmark and the trace put on the lab's writer a1 (or its site a), so both
 * measure exactly the same thing.
 */
import type { Lab } from '../test/integration/support/lab.js';

export const WRITER_FAULTS = ['kill', 'hang', 'cut'] as const;
export type WriterFault = (typeof WRITER_FAULTS)[number];

export async function applyWriterFault(lab: Lab, fault: WriterFault): Promise<void> {
  if (fault === 'kill') await lab.fault('kill', 'a1');
  if (fault === 'hang') await lab.fault('stop', 'a1');
  if (fault === 'cut') await lab.fault('cut', 'a');
}

/** Lets a stopped a1 run again, so the lab can be taken down; other faults need nothing. */
export async function undoWriterFault(lab: Lab, fault: WriterFault): Promise<void> {
  if (fault === 'hang') await lab.fault('cont', 'a1').catch(() => undefined);
}
