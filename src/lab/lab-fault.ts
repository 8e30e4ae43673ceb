import { LabError } from './errors.js';
import { labWan, readLabState, writeLabState, type LabState } from './lab-state.js';
import { cutSite, healSites, netnsName, wanRoutes } from './network.js';
import {
  processState,
  signalProcess,
  spawnDetached,
  type ProcessRecord,
  type ProcessState,
} from './processes.js';
import { isSiteName, type SiteName } from './topology.js';
import { applyWan, readApplied } from './wan-control.js';
import {
  delaysInEffect,
  linkKey,
  profileDelays,
  spikedDelays,
  withOverride,
  type WanProfileName,
} from './wan-profile.js';

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

export async function cutFault(dir: string, siteArg: string): Promise<string> {
  const state = loadState(dir);
  const site = parseSite(siteArg);
  requireWan(state);
  const at = await cutSite(state.network, site, wanRoutes(state.network, state.basePort));
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
  const { profile } = labWan(state);
  state.faults.delays = withOverride(profile, state.faults.delays, from, to, ms);
  writeLabState(state);
  const applied = await applyWan(state, { kind: 'keep' });
  const baseline = profileDelays(profile)[linkKey(from, to)];
  return `one-way latency ${from} -> ${to}: ${ms} ms (profile ${profile}: ${baseline} ms) at ${applied.appliedAt}`;
}

export async function healFault(dir: string): Promise<string> {
  const state = loadState(dir);
  requireWan(state);
  const at = new Date();
  await healSites(state.network);
  state.faults = { cut: [], delays: {} };
  writeLabState(state);
  await applyWan(state, { kind: 'end' });
  const { profile } = labWan(state);
  return `all link faults removed at ${at.toISOString()}: links back to profile ${profile} (${describeProfile(profile)})`;
}

/** `a-b 35 ms, a-w 40 ms, b-w 40 ms`: a profile is symmetric, so one figure per site pair. */
function describeProfile(profile: WanProfileName): string {
  const delays = profileDelays(profile);
  return ['a>b', 'a>w', 'b>w'].map((key) => `${key.replace('>', '-')} ${delays[key]} ms`).join(', ');
}

export interface SpikeOptions {
  factor: string;
  seconds: string;
  /** Wait for the spike to end and report it (default); false returns once it has begun. */
  wait: boolean;
}

/**
 * Every link's delay times `factor` for a while, then back to what was in effect: the latency
 * spikes of a congested or rerouted WAN, for soak tests. The WAN proxy ends the spike by its own
 * timer, so it ends on time even if this command is killed. Reports its start (and, waiting, its
 * end) through `report` as they happen.
 */
export async function spikeFault(
  dir: string,
  options: SpikeOptions,
  report: (line: string) => void,
): Promise<void> {
  const state = loadState(dir);
  const factor = Number(options.factor);
  if (!Number.isFinite(factor) || factor < 1 || factor > 100)
    throw new LabError(`--factor must be a number from 1 to 100, got "${options.factor}"`);
  const seconds = Number(options.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3_600)
    throw new LabError(`--for must be a number of seconds above 0, at most 3600, got "${options.seconds}"`);
  requireWan(state);
  const applied = await applyWan(state, { kind: 'start', factor, durationMs: seconds * 1000 });
  const spike = applied.spike;
  if (!spike || spike.id !== applied.generation)
    throw new LabError('the lab WAN proxy did not start the spike');
  const { profile } = labWan(state);
  const spiked = spikedDelays(delaysInEffect(profile, state.faults.delays), factor);
  const links = Object.entries(spiked)
    .map(([key, ms]) => `${key} ${ms} ms`)
    .join(', ');
  const noEffect = Object.values(spiked).every((ms) => ms === 0)
    ? '; every link is at 0 ms, so nothing changes'
    : '';
  report(
    `latency spike x${factor} on every link at ${spike.startedAt} for ${seconds} s, until ${spike.endsAt} (${links}${noEffect})`,
  );
  if (!options.wait) return;

  const deadline = Date.parse(spike.endsAt) + 3_000;
  for (;;) {
    const latest = readApplied(dir)?.spike;
    if (latest && latest.id !== spike.id) {
      report(`latency spike x${factor} replaced by a newer spike at ${latest.startedAt}`);
      return;
    }
    if (latest?.endedAt) {
      report(`latency spike x${factor} ended at ${latest.endedAt}: links back to what was in effect before`);
      return;
    }
    if (Date.now() > deadline)
      throw new LabError(`the lab WAN proxy did not end the spike by ${spike.endsAt}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
