import { describe, expect, it } from 'vitest';
import { clusterSchema } from '../../../src/config/schema.js';
import type { StoredHistoryEntry } from '../../../src/coordinator/records.js';
import { hookEvent, hookFor, hookHistoryEntry } from '../../../src/hooks/cluster-hooks.js';

const cluster = clusterSchema.parse({
  name: 'main',
  policy: 'availability',
  nodes: [
    { name: 'a1', colo: 'a', role: 'candidate', host: '10.0.1.10', port: 3306 },
    { name: 'b1', colo: 'b', role: 'candidate', host: '10.0.2.10', port: 3307 },
  ],
});

function entry(over: Partial<StoredHistoryEntry>): StoredHistoryEntry {
  return {
    epoch: 4,
    reason: 'writer-dead-quorum',
    message: 'm',
    event: 'promote',
    by: 'auto',
    at: 1,
    wallAt: 1,
    coordinator: 'w',
    ...over,
  };
}

describe('which hook a history entry this coordinator wrote calls for', () => {
  it.each([
    { name: 'a failover', e: entry({ from: 'a1', node: 'b1' }), hook: 'afterWriterChange' },
    {
      name: 'a switchover',
      e: entry({ reason: 'switchover-requested', from: 'a1', node: 'b1' }),
      hook: 'afterWriterChange',
    },
    {
      name: 'the same writer reopened at a new epoch',
      e: entry({ reason: 'writer-reopen', node: 'a1' }),
      hook: undefined,
    },
    {
      name: 'a fence',
      e: entry({ event: 'fence', reason: 'guardian-session-invalid', node: 'a1' }),
      hook: 'onFence',
    },
    {
      name: 'a skipped failover',
      e: entry({ event: 'skip', reason: 'skipped-cooldown' }),
      hook: 'onFailoverSkipped',
    },
    {
      name: 'a hook run (never a hook for a hook)',
      e: entry({ event: 'hook', reason: 'hook-failed' }),
      hook: undefined,
    },
    { name: 'a pin', e: entry({ event: 'pin', reason: 'pin-requested' }), hook: undefined },
  ])('$name', ({ e, hook }) => {
    expect(hookFor(e)).toBe(hook);
  });
});

describe('what a hook is told', () => {
  it('a writer change: old and new writer with their addresses, the epoch, why, and the lost range', () => {
    expect(hookEvent(cluster, entry({ from: 'a1', node: 'b1', lostGtids: '1-11-5..7' }))).toEqual({
      cluster: 'main',
      epoch: 4,
      reason: 'writer-dead-quorum',
      message: 'm',
      oldWriter: { name: 'a1', host: '10.0.1.10', port: 3306 },
      newWriter: { name: 'b1', host: '10.0.2.10', port: 3307 },
      lostGtids: '1-11-5..7',
    });
  });

  it('a fence: the node', () => {
    expect(hookEvent(cluster, entry({ event: 'fence', node: 'a1' })).node).toEqual({
      name: 'a1',
      host: '10.0.1.10',
      port: 3306,
    });
  });

  it('a run ends in history as hook-ran or hook-failed, with its outcome and stderr tail', () => {
    const run = {
      hook: 'onFence' as const,
      ok: false,
      outcome: 'exit 2',
      ms: 12,
      stderrTail: 'nsupdate: refused',
    };
    expect(hookHistoryEntry(run, { cluster: 'main', epoch: 4 }, 'b')).toEqual({
      event: 'hook',
      epoch: 4,
      reason: 'hook-failed',
      message: 'onFence exit 2 after 12 ms: nsupdate: refused',
      by: 'b',
    });
  });
});
