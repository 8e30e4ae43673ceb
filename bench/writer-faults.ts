/**
 * The faults the benchmark and the trace put on the lab's writer a1 (or its site a), so both
 * measure exactly the same thing.
 */
import { placeRaftLeader } from '../src/lab/etcd-member.js';
import { faultEffectiveAt, type Lab } from '../test/integration/support/lab.js';

/**
 * cut-raft-a is the colo cut's worst case: etcd's raft leader is moved into site a just before
 * the cut (as if the witness member had been down), so etcd renews every lease on re-election.
 */
export const WRITER_FAULTS = ['kill', 'hang', 'cut', 'cut-raft-a'] as const;
export type WriterFault = (typeof WRITER_FAULTS)[number];

/**
 * Applies the fault; returns when it took effect (epoch ms), as the fault command reports it: the
 * signal sent, or the first DROP rule of a cut. Starting a clock before the command would add its
 * own start-up (half a second of Node) to every figure.
 */
export async function applyWriterFault(lab: Lab, fault: WriterFault): Promise<number> {
  if (fault === 'cut-raft-a') await placeRaftLeader((await lab.status()).etcd.endpoints, 'a', 10_000);
  const args = {
    kill: ['kill', 'a1'],
    hang: ['stop', 'a1'],
    cut: ['cut', 'a'],
    'cut-raft-a': ['cut', 'a'],
  }[fault];
  const output = await lab.fault(...args);
  const at = faultEffectiveAt(output);
  if (Number.isNaN(at)) throw new Error(`fault command did not say when it took effect: ${output}`);
  return at;
}

/** Lets a stopped a1 run again, so the lab can be taken down; other faults need nothing. */
export async function undoWriterFault(lab: Lab, fault: WriterFault): Promise<void> {
  if (fault === 'hang') await lab.fault('cont', 'a1').catch(() => undefined);
}

/** What happened at time zero, for the report and the timeline. */
export function describeWriterFault(fault: WriterFault): string {
  return {
    kill: 'kill -9 of a1',
    hang: 'SIGSTOP of a1',
    cut: 'site a cut off',
    'cut-raft-a': 'site a cut off (raft leader in a)',
  }[fault];
}

/**
 * Removes the fault as an operator would: a cut is healed, so that the cut-off colo's coordinator
 * can write the history it kept while it had no session (its fences).
 */
export async function healWriterFault(lab: Lab, fault: WriterFault): Promise<void> {
  if (fault === 'cut' || fault === 'cut-raft-a') await lab.fault('heal');
  else await undoWriterFault(lab, fault);
}
