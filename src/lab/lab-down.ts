import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { destroyNetwork, releaseSubnet } from './network.js';
import { stopProcesses } from './processes.js';
import type { LabState } from './lab-state.js';

export interface StopOptions {
  /** Keep data and logs (and stop MariaDB cleanly so the data is usable). */
  keep: boolean;
}

/** Entries `lab up` creates; down removes only these, never anything else in the directory. */
const LAB_ENTRIES = [
  /^lab\.json(\.tmp)?$/,
  /^secrets(\.json)?$/,
  /^wan(-applied)?\.json(\.tmp)?$/,
  /^fence-node$/,
  /^coordinators$/,
  /^logs$/,
  /^[ab][12]$/,
  /^etcd-[abw]$/,
  /^haproxy\.cfg$/,
];

export async function stopLab(state: LabState, options: StopOptions): Promise<void> {
  const processes = Object.values(state.processes);
  const databases = processes.filter((p) => p.kind === 'mariadb');
  const others = processes.filter((p) => p.kind !== 'mariadb');
  // etcd members take 8-14 s on SIGTERM when stopped together, and their data goes anyway.
  await Promise.all([
    stopProcesses(others, options.keep ? 'SIGTERM' : 'SIGKILL', 3_000),
    stopProcesses(databases, options.keep ? 'SIGTERM' : 'SIGKILL', 15_000),
  ]);
  if (state.network.mode === 'netns') {
    await destroyNetwork(state.network);
    releaseSubnet(state.network, state.dir);
  }
  if (!options.keep) await removeLabFiles(state.dir);
}

/**
 * Side by side: a server's datadir, just written, took 0.2-0.6 s to remove on the shared machine,
 * most of it waiting on the disk rather than the CPU, and there are four.
 */
async function removeLabFiles(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const ours = readdirSync(dir).filter((entry) => LAB_ENTRIES.some((pattern) => pattern.test(entry)));
  await Promise.all(ours.map((entry) => rm(path.join(dir, entry), { recursive: true, force: true })));
  if (readdirSync(dir).length === 0) rmdirSync(dir);
}
