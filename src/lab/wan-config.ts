import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WanRoute } from './network.js';
import type { LinkDelays } from './wan-profile.js';

/**
 * What the CLI and the WAN proxy process tell each other, through two files in the lab directory.
 * The CLI writes `wan.json` (what the proxy should do) and sends SIGHUP; the proxy applies it and
 * writes `wan-applied.json` (what it did and when). A fault command waits for that answer, so it
 * returns once the change is in effect and can say when it took effect.
 */

/** A latency spike as requested: every link times `factor`, for `durationMs` from when applied. */
export interface SpikeRequest {
  /** The generation that asked for it: the proxy starts each spike once, however often it re-reads. */
  id: number;
  factor: number;
  durationMs: number;
}

export interface WanConfig {
  routes: WanRoute[];
  sourceAddress: string;
  /** Bumped on every change; the proxy echoes the last one it applied. */
  generation: number;
  /** One-way delay per directed link, profile and overrides composed (wan-profile.ts). */
  delays: LinkDelays;
  jitterPercent: number;
  /** The latest spike asked for; null after `heal`, which also ends a running spike. */
  spike: SpikeRequest | null;
}

export interface AppliedSpike {
  id: number;
  factor: number;
  startedAt: string;
  /** When it is due to end on its own. */
  endsAt: string;
  /** When it actually ended (on time, by `heal`, or replaced by a newer spike); null while running. */
  endedAt: string | null;
}

export interface WanApplied {
  generation: number;
  appliedAt: string;
  /** The most recent spike, running or not. */
  spike: AppliedSpike | null;
}

export function wanConfigPath(dir: string): string {
  return path.join(dir, 'wan.json');
}

export function wanAppliedPath(dir: string): string {
  return path.join(dir, 'wan-applied.json');
}

function writeAtomically(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(value, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

export function readWanConfig(file: string): WanConfig {
  return JSON.parse(readFileSync(file, 'utf8')) as WanConfig;
}

export function writeWanConfig(file: string, config: WanConfig): void {
  writeAtomically(file, config);
}

export function readWanApplied(dir: string): WanApplied | undefined {
  const file = wanAppliedPath(dir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as WanApplied;
}

export function writeWanApplied(dir: string, applied: WanApplied): void {
  writeAtomically(wanAppliedPath(dir), applied);
}

/** The spike in effect at `now`, if any. */
export function runningSpike(applied: WanApplied | undefined, now: number): AppliedSpike | null {
  const spike = applied?.spike;
  if (!spike || spike.endedAt !== null || Date.parse(spike.endsAt) <= now) return null;
  return spike;
}
