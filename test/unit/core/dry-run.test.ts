import { describe, expect, it } from 'vitest';
import { dryRunIntent } from '../../../src/core/dry-run.js';
import type { ForcedFailoverIntent, SwitchoverIntent } from '../../../src/core/intent.js';
import { CONFIG, NOW, colaAGone, guardians, snapshot } from './fixtures.js';

const SWITCHOVER: SwitchoverIntent = {
  id: 'dry-1',
  kind: 'switchover',
  target: 'db-b1',
  by: 'ops@host',
  at: NOW,
  status: 'pending',
};
const FORCED: ForcedFailoverIntent = {
  id: 'dry-2',
  kind: 'failover',
  acceptDataLoss: true,
  by: 'ops@host',
  at: NOW,
  status: 'pending',
};

describe('dry run of an operator intent', () => {
  it('a switchover the gates allow: the plan, step by step, and nothing in the snapshot changed', () => {
    const before = snapshot();
    const frozen = JSON.stringify(before);
    const verdict = dryRunIntent(before, NOW, CONFIG, SWITCHOVER);
    expect(JSON.stringify(before)).toBe(frozen);
    if (!verdict.accepted) throw new Error(`refused: ${verdict.reason} ${verdict.message}`);
    expect(verdict.journal).toMatchObject({ kind: 'switchover', from: 'db-a1', to: 'db-b1', epoch: 6 });
    expect(verdict.steps[0]).toMatch(/^fence db-a1: read_only=ON/);
    expect(verdict.steps.join('\n')).toContain('commit: writer db-b1 at epoch 6 (from db-a1 at 5)');
    expect(verdict.steps.at(-1)).toContain('rep-a2 replicate from db-b1');
  });

  it.each([
    {
      name: 'the target is quarantined',
      snap: () =>
        snapshot({ quarantine: { 'db-b1': { node: 'db-b1', since: 0, epoch: 5, status: 'errant' } } }),
      reason: 'intent-invalid',
    },
    {
      name: "the target's colo has no live guardian",
      snap: () => snapshot({ guardians: guardians({ b: { sessionAlive: false } }) }),
      reason: 'skipped-target-unguarded',
    },
    {
      name: 'the writer is unreachable (a switchover needs it)',
      snap: () => colaAGone(),
      reason: 'intent-invalid',
    },
  ])('refused when $name, with the gate that refused it', ({ snap, reason }) => {
    const verdict = dryRunIntent(snap(), NOW, CONFIG, SWITCHOVER);
    expect(verdict.accepted).toBe(false);
    if (!verdict.accepted) expect(verdict.reason).toBe(reason);
  });

  it('a forced failover of a dead writer: the lost range is in the plan', () => {
    const verdict = dryRunIntent(colaAGone(), NOW, CONFIG, FORCED);
    if (!verdict.accepted) throw new Error(`refused: ${verdict.reason} ${verdict.message}`);
    expect(verdict.journal).toMatchObject({ kind: 'failover', to: 'db-b1', fenceBestEffort: true });
    expect(verdict.steps[0]).toMatch(/^fence db-a1 \(best effort/);
    expect(verdict.steps.join('\n')).toMatch(/lost, as planned now: /);
  });
});
