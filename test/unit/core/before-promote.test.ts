import { describe, expect, it } from 'vitest';
import { decide, type Decision, type OperationJournal, type StepOutcome } from '../../../src/core/index.js';
import { recordStepOutcome } from '../../../src/core/operation-steps.js';
import { VETO_RETRY_MS } from '../../../src/core/antiflap.js';
import { CONFIG, NOW, colaAGone, reasons, summary } from './fixtures.js';

/** A cluster whose beforePromote hook must approve every writer change. */
const HOOKED = { ...CONFIG, beforePromoteTimeoutMs: 6_000 };

/** An automatic failover of the dead db-a1 up to the point where it asks the hook. */
function askingTheHook(): { decision: Decision; op: OperationJournal } {
  const first = decide(colaAGone(), NOW, HOOKED);
  expect(summary(first)).toEqual(['fence db-a1']);
  const op = first.state.operation as OperationJournal;
  const fenced = recordStepOutcome(op, {
    operationId: op.id,
    step: 'fence-old',
    ok: false,
    error: 'timeout',
  });
  const decision = decide({ ...colaAGone(), ...first.state, operation: fenced }, NOW, HOOKED);
  return { decision, op: decision.state.operation as OperationJournal };
}

function after(op: OperationJournal, outcome: Partial<StepOutcome> | undefined, now = NOW): Decision {
  const journal = outcome
    ? recordStepOutcome(op, { operationId: op.id, step: op.step, ok: false, ...outcome })
    : op;
  return decide({ ...colaAGone(), operation: journal }, now, HOOKED);
}

describe('decide: the beforePromote hook stands between the checks and the commit', () => {
  it('asks the hook about the target and epoch once every check of its own passed, and commits nothing yet', () => {
    const { decision, op } = askingTheHook();
    expect(op.step).toBe('approve');
    expect(summary(decision)).toEqual(['approve-promotion db-b1']);
    expect(decision.actions[0]).toMatchObject({ epoch: 6, from: 'db-a1', why: 'writer-dead-quorum' });
  });

  it('while the hook runs (no outcome), asks again and still commits nothing', () => {
    const { op } = askingTheHook();
    expect(summary(after(op, undefined, NOW + 1_000))).toEqual(['approve-promotion db-b1']);
  });

  it('approved: commits and opens the target', () => {
    const { op } = askingTheHook();
    const d = after(op, { ok: true });
    expect(summary(d)).toEqual(['promote db-b1@6', 'open-writes db-b1@6']);
  });

  it('vetoed (non-zero exit): no promote, and the history says why with the hook’s words', () => {
    const { op } = askingTheHook();
    const d = after(op, { error: 'exit 3 after 12 ms: maintenance window, not now' });
    expect(d.actions.some((a) => a.type === 'promote')).toBe(false);
    expect(reasons(d)).toContain('promotion-vetoed');
    const history = d.actions.filter((a) => a.type === 'record-history');
    expect(JSON.stringify(history)).toContain('maintenance window, not now');
  });

  it('no answer within its timeout: vetoed', () => {
    const { op } = askingTheHook();
    const d = after(op, undefined, NOW + 6_001);
    expect(d.actions.some((a) => a.type === 'promote')).toBe(false);
    expect(reasons(d)).toContain('promotion-vetoed');
  });

  it('without a hook configured, the commit follows the checks directly', () => {
    const first = decide(colaAGone(), NOW, CONFIG);
    const op = first.state.operation as OperationJournal;
    const fenced = recordStepOutcome(op, {
      operationId: op.id,
      step: 'fence-old',
      ok: false,
      error: 'timeout',
    });
    expect(summary(decide({ ...colaAGone(), ...first.state, operation: fenced }, NOW, CONFIG))).toEqual([
      'promote db-b1@6',
      'open-writes db-b1@6',
    ]);
  });
});

describe('decide: after a veto', () => {
  it('an automatic failover is not tried again (nor the hook run again) for VETO_RETRY_MS; then it is', () => {
    const { op } = askingTheHook();
    let d = after(op, { error: 'exit 3' });
    expect(d.state.antiFlap.vetoedUntil).toBe(NOW + VETO_RETRY_MS);
    for (const at of [NOW, NOW + 100]) {
      d = decide({ ...colaAGone(), ...d.state }, at, HOOKED);
      expect(summary(d), `at +${at - NOW} ms`).toEqual([]);
      expect(reasons(d)).toContain('promotion-vetoed');
    }
    const retry = decide(
      { ...colaAGone(), ...d.state, antiFlap: { ...d.state.antiFlap, vetoedUntil: NOW - 1 } },
      NOW,
      HOOKED,
    );
    expect(summary(retry)).toEqual(['fence db-a1']);
  });
});
