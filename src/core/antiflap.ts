/**
 * Anti-flap (invariant 6): a cooldown after any writer change, and a budget of automatic
 * failovers per window after which the cluster pins itself. Both are plain data in
 * PersistedState.antiFlap (persisted at /baton/<cluster>/cooldown), so they survive restarts
 * and leader changes.
 */

import type { CoreConfig } from './config.js';
import type { ReasonCode } from './reasons.js';
import type { AntiFlapState } from './snapshot.js';

export const INITIAL_ANTI_FLAP: AntiFlapState = { failoverTimes: [] };

/** Drop failover times that left the budget window. */
export function pruneFailoverTimes(state: AntiFlapState, now: number, config: CoreConfig): AntiFlapState {
  const horizon = now - config.failoverBudget.windowMs;
  const failoverTimes = state.failoverTimes.filter((t) => t > horizon);
  return failoverTimes.length === state.failoverTimes.length ? state : { ...state, failoverTimes };
}

export function inCooldown(state: AntiFlapState, now: number): boolean {
  return state.cooldownUntil !== undefined && now < state.cooldownUntil;
}

export function budgetExhausted(state: AntiFlapState, now: number, config: CoreConfig): boolean {
  return pruneFailoverTimes(state, now, config).failoverTimes.length >= config.failoverBudget.count;
}

/** After any writer change (automatic or not); automatic ones also spend budget. */
export function recordWriterChange(
  state: AntiFlapState,
  now: number,
  config: CoreConfig,
  automatic: boolean,
): AntiFlapState {
  const pruned = pruneFailoverTimes(state, now, config);
  return {
    ...pruned,
    cooldownUntil: now + config.cooldownMs,
    failoverTimes: automatic ? [...pruned.failoverTimes, now] : pruned.failoverTimes,
  };
}

/**
 * May an automatic writer change happen now? Returns the blocking reason, if any. Cooldown is
 * checked before the budget so a refusal names the nearer obstacle.
 */
export function automaticChangeBlocker(
  state: AntiFlapState,
  now: number,
  config: CoreConfig,
): { reason: ReasonCode; message: string } | undefined {
  if (inCooldown(state, now)) {
    return {
      reason: 'skipped-cooldown',
      message: `in cooldown for another ${(state.cooldownUntil ?? now) - now} ms after the last writer change`,
    };
  }
  if (state.vetoedUntil !== undefined && now < state.vetoedUntil) {
    return {
      reason: 'promotion-vetoed',
      message: `the beforePromote hook vetoed the last try; next try in ${state.vetoedUntil - now} ms`,
    };
  }
  if (budgetExhausted(state, now, config)) {
    return {
      reason: 'flap-budget-exhausted',
      message: `${config.failoverBudget.count} automatic failovers within ${config.failoverBudget.windowMs} ms: pinning, operator required`,
    };
  }
  return undefined;
}

/** After a veto, an automatic writer change is tried again no sooner than this. */
export const VETO_RETRY_MS = 10_000;

/** The hook vetoed an automatic change: hold the next try off (VETO_RETRY_MS, or the hook's timeout). */
export function recordVeto(state: AntiFlapState, now: number, config: CoreConfig): AntiFlapState {
  return { ...state, vetoedUntil: now + Math.max(VETO_RETRY_MS, config.beforePromoteTimeoutMs ?? 0) };
}
