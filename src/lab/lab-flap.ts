/**
 * `baton lab fault flap`: a seeded schedule of blips (flap-schedule.ts) applied to the live lab,
 * each one timed like `stop --for` and `cut --for`, for soaks that check baton rides blips out.
 * The writer and its colo are looked up in etcd when each blip starts, so a soak keeps hitting
 * the writer even if baton (wrongly) moved it.
 */
import { randomInt } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { clusterKeys } from '../coordinator/keys.js';
import { createEtcdClient } from '../etcd/client.js';
import { labEtcdAccess } from './lab-etcd-access.js';
import { LabError } from './errors.js';
import { flapSchedule, type Blip, type BlipKind } from './flap-schedule.js';
import { timedCut, timedStop, type TimedFault } from './lab-fault.js';
import { readLabState } from './lab-state.js';
import { findNode, LAB_CLUSTER } from './topology.js';

export interface FlapOptions {
  minutes: string;
  seed?: string;
  /** One JSON object per blip instead of a sentence. */
  json: boolean;
}

/** What a soak report needs of each blip: its plan and what was applied, on the wall clock. */
export interface BlipRecord {
  index: number;
  kind: BlipKind;
  target: string;
  plannedMs: number;
  startedAt: string;
  endedAt: string;
  effectiveMs: number;
  uncertaintyMs: number;
}

const WRITER_READ_DEADLINE_MS = 1_000;

export async function flapFault(
  dir: string,
  options: FlapOptions,
  report: (line: string) => void,
): Promise<void> {
  const minutes = Number(options.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 600)
    throw new LabError(`--for must be a number of minutes above 0, at most 600, got "${options.minutes}"`);
  const seed = options.seed === undefined ? randomInt(1, 2 ** 31) : Number(options.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
    throw new LabError(`--seed must be a whole number from 0 to 4294967295, got "${options.seed}"`);
  const state = readLabState(dir);
  if (!state) throw new LabError(`no lab in ${dir} (start one with \`baton lab up --dir ${dir}\`)`);
  if (state.network.mode !== 'netns')
    throw new LabError('flap cuts links, which needs the netns network (lab started as root)');

  const schedule = flapSchedule(seed, minutes * 60_000);
  const etcd = createEtcdClient({
    ...labEtcdAccess(state, 'viewer'),
    defaultCallTimeoutMs: WRITER_READ_DEADLINE_MS,
  });
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const startedAt = Date.now();
  const say = (text: string, record?: BlipRecord): void =>
    report(options.json ? JSON.stringify(record ?? { message: text }) : text);
  say(`flap for ${minutes} min, seed ${seed}: ${schedule.length} blips planned (replay with --seed ${seed})`);
  let lastWriter = 'a1';
  let applied = 0;
  try {
    for (const blip of schedule) {
      if (await waitUntil(startedAt + blip.atMs, () => interrupted)) break;
      lastWriter = (await recordedWriter(etcd)) ?? lastWriter;
      const record = await applyBlip(dir, blip, lastWriter);
      applied += 1;
      say(
        `blip ${blip.index}/${schedule.length} ${blip.kind} ${record.target}: ${record.effectiveMs} ms (±${record.uncertaintyMs}) from ${record.startedAt} to ${record.endedAt}`,
        record,
      );
      if (interrupted) break;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    etcd.close();
  }
  say(
    interrupted
      ? `flap interrupted after ${applied} of ${schedule.length} blips (seed ${seed})`
      : `flap done: ${applied} blips in ${Math.round((Date.now() - startedAt) / 1000)} s (seed ${seed})`,
  );
}

async function applyBlip(dir: string, blip: Blip, writer: string): Promise<BlipRecord> {
  const seconds = String(blip.durationMs / 1000);
  const quiet = (): void => undefined;
  let fault: TimedFault;
  switch (blip.kind) {
    case 'writer-stall':
      fault = await timedStop(dir, writer, seconds, quiet);
      break;
    case 'writer-colo-cut': {
      const site = findNode(writer)?.site;
      if (!site) throw new LabError(`writer ${writer} is not a lab node`);
      fault = await timedCut(dir, site, seconds, quiet);
      break;
    }
    case 'etcd-member-stall':
      fault = await timedStop(dir, `etcd-${blip.etcdSite ?? 'a'}`, seconds, quiet);
      break;
  }
  return {
    index: blip.index,
    kind: blip.kind,
    target: fault.target,
    plannedMs: blip.durationMs,
    startedAt: new Date(fault.startedAt).toISOString(),
    endedAt: new Date(fault.endedAt).toISOString(),
    effectiveMs: fault.endedAt - fault.startedAt,
    uncertaintyMs: fault.uncertaintyMs,
  };
}

/** The writer record's node, or undefined when etcd cannot say within the deadline. */
async function recordedWriter(etcd: Etcd3): Promise<string | undefined> {
  try {
    const value = await etcd.get(clusterKeys(LAB_CLUSTER).writer).string();
    if (value === null) return undefined;
    const node = (JSON.parse(value) as { node?: unknown }).node;
    return typeof node === 'string' ? node : undefined;
  } catch {
    return undefined;
  }
}

/** True if interrupted before the moment came. */
async function waitUntil(epochMs: number, interrupted: () => boolean): Promise<boolean> {
  while (Date.now() < epochMs) {
    if (interrupted()) return true;
    await new Promise((resolve) => setTimeout(resolve, Math.min(50, epochMs - Date.now())));
  }
  return interrupted();
}
