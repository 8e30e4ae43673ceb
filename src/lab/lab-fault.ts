import { readFileSync, writeFileSync } from 'node:fs';
import { LabError } from './errors.js';
import { readLabState, writeLabState, type LabState } from './lab-state.js';
import { cutSite, healSites, netnsName } from './network.js';
import {
  processState,
  signalProcess,
  spawnDetached,
  type ProcessRecord,
  type ProcessState,
} from './processes.js';
import { isSiteName, type SiteName } from './topology.js';
import { linkKey } from './wan-proxy.js';
import { wanConfigPath } from './lab-layout.js';

export type ProcessFault = 'kill' | 'stop' | 'cont' | 'start';

function loadState(dir: string): LabState {
  const state = readLabState(dir);
  if (!state) throw new LabError(`no lab in ${dir} (start one with \`baton lab up --dir ${dir}\`)`);
  return state;
}

function targetProcess(state: LabState, target: string) {
  const record = state.processes[target];
  if (!record || record.kind === 'wan-proxy') {
    const known = Object.values(state.processes)
      .filter((p) => p.kind !== 'wan-proxy')
      .map((p) => p.name);
    throw new LabError(`unknown node or member "${target}" (known: ${known.join(', ')})`);
  }
  return record;
}

/** kill = SIGKILL (crash), stop/cont = SIGSTOP/SIGCONT (hang), start = restart a dead process. */
export async function processFault(dir: string, fault: ProcessFault, target: string): Promise<string> {
  const state = loadState(dir);
  const record = targetProcess(state, target);
  const current = processState(record);
  switch (fault) {
    case 'kill': {
      if (current === 'dead') throw new LabError(`${target} is not running`);
      const at = await signalUntil(record, 'SIGKILL', 'dead', target);
      return `killed ${target} (pid ${record.pid}) at ${at.toISOString()}`;
    }
    case 'stop': {
      if (current !== 'running') throw new LabError(`${target} is ${current}, not running`);
      const at = await signalUntil(record, 'SIGSTOP', 'stopped', target);
      return `stopped ${target} (pid ${record.pid}, SIGSTOP) at ${at.toISOString()}`;
    }
    case 'cont':
      if (current !== 'stopped') throw new LabError(`${target} is ${current}, not stopped`);
      await signalUntil(record, 'SIGCONT', 'running', target);
      return `continued ${target} (pid ${record.pid})`;
    case 'start': {
      if (current !== 'dead') throw new LabError(`${target} is already running (pid ${record.pid})`);
      const netns =
        state.network.mode === 'netns' && record.site ? netnsName(state.network, record.site) : undefined;
      const restarted = await spawnDetached({ argv: record.argv, logFile: record.log, netns });
      state.processes[target] = { ...record, ...restarted };
      writeLabState(state);
      return `started ${target} (pid ${restarted.pid})`;
    }
  }
}

/** A fault command returns once the fault is in effect (a killed process is gone, its ports closed). */
/** Sends the signal and waits until the process is in the state it causes; returns when it was sent. */
async function signalUntil(
  record: ProcessRecord,
  signal: NodeJS.Signals,
  wanted: ProcessState,
  target: string,
): Promise<Date> {
  const at = new Date();
  signalProcess(record, signal);
  const deadline = Date.now() + 5_000;
  while (processState(record) !== wanted) {
    if (Date.now() > deadline) throw new LabError(`${target} did not become ${wanted} within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return at;
}

function requireWan(state: LabState): void {
  if (state.network.mode !== 'netns') {
    throw new LabError(
      'link faults need the netns network (lab started as root); this lab runs with --network flat',
    );
  }
}

function parseSite(value: string): SiteName {
  if (!isSiteName(value)) throw new LabError(`unknown site "${value}" (sites: a, b, w)`);
  return value;
}

function reloadProxy(state: LabState): void {
  const configFile = wanConfigPath(state.dir);
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as { delays: Record<string, number> };
  config.delays = state.faults.delays;
  writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
  const proxy = state.processes['wan-proxy'];
  if (!proxy || !signalProcess(proxy, 'SIGHUP')) throw new LabError('the lab WAN proxy is not running');
}

export async function cutFault(dir: string, siteArg: string): Promise<string> {
  const state = loadState(dir);
  const site = parseSite(siteArg);
  requireWan(state);
  const at = await cutSite(state.network, site);
  if (!state.faults.cut.includes(site)) state.faults.cut.push(site);
  writeLabState(state);
  return `site ${site} cut off from the other sites at ${at.toISOString()} (the host still reaches it)`;
}

export async function delayFault(
  dir: string,
  fromArg: string,
  toArg: string,
  msArg: string,
): Promise<string> {
  const state = loadState(dir);
  const from = parseSite(fromArg);
  const to = parseSite(toArg);
  if (from === to) throw new LabError('delay needs two different sites');
  const ms = Number(msArg);
  if (!Number.isInteger(ms) || ms < 0 || ms > 60_000)
    throw new LabError(`delay must be an integer 0-60000 ms, got "${msArg}"`);
  requireWan(state);
  state.faults.delays[linkKey(from, to)] = ms;
  if (ms === 0) delete state.faults.delays[linkKey(from, to)];
  writeLabState(state);
  reloadProxy(state);
  return `one-way latency ${from} -> ${to}: ${ms} ms`;
}

export async function healFault(dir: string): Promise<string> {
  const state = loadState(dir);
  requireWan(state);
  await healSites(state.network);
  state.faults = { cut: [], delays: {} };
  writeLabState(state);
  reloadProxy(state);
  return 'all link faults removed';
}
