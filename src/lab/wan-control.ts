import { LabError } from './errors.js';
import { labWan, type LabState } from './lab-state.js';
import { signalProcess } from './processes.js';
import {
  readWanApplied,
  readWanConfig,
  wanConfigPath,
  writeWanConfig,
  type SpikeRequest,
  type WanApplied,
} from './wan-config.js';
import { delaysInEffect } from './wan-profile.js';

/** How long the WAN proxy gets to acknowledge a change (it applies one in a few ms). */
const APPLY_DEADLINE_MS = 3_000;

/** What happens to the latency spike with this change. */
export type SpikeChange =
  { kind: 'keep' } | { kind: 'end' } | { kind: 'start'; factor: number; durationMs: number };

/**
 * Tells the WAN proxy the lab's delays (profile plus `fault delay` overrides, as in `state`)
 * and returns its acknowledgement: when the change took effect.
 */
export async function applyWan(state: LabState, spike: SpikeChange): Promise<WanApplied> {
  const file = wanConfigPath(state.dir);
  const config = readWanConfig(file);
  const wan = labWan(state);
  const generation = (config.generation ?? 0) + 1;
  let request: SpikeRequest | null;
  if (spike.kind === 'keep') request = config.spike ?? null;
  else if (spike.kind === 'end') request = null;
  else request = { id: generation, factor: spike.factor, durationMs: spike.durationMs };
  writeWanConfig(file, {
    ...config,
    generation,
    delays: delaysInEffect(wan.profile, state.faults.delays),
    jitterPercent: wan.jitterPercent,
    spike: request,
  });
  const proxy = state.processes['wan-proxy'];
  if (!proxy || !signalProcess(proxy, 'SIGHUP')) throw new LabError('the lab WAN proxy is not running');
  return waitForWanApplied(state.dir, generation, APPLY_DEADLINE_MS);
}

/** Waits until the proxy has applied `generation` (or a later one). */
export async function waitForWanApplied(
  dir: string,
  generation: number,
  timeoutMs: number,
): Promise<WanApplied> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const applied = readApplied(dir);
    if (applied && applied.generation >= generation) return applied;
    if (Date.now() > deadline) {
      throw new LabError(
        `the lab WAN proxy did not apply the change within ${timeoutMs} ms (see ${dir}/logs/wan-proxy.log)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Reads the acknowledgement; a file being replaced at that moment reads as not there yet. */
export function readApplied(dir: string): WanApplied | undefined {
  try {
    return readWanApplied(dir);
  } catch {
    return undefined;
  }
}
