import { LabError } from './errors.js';
import { labWan, readLabState, writeLabState, type LabState } from './lab-state.js';
import { netnsName, setCutSites, wanRoutes } from './network.js';
import { processState, signalUntil, spawnDetached } from './processes.js';
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
      return `killed ${target} (pid ${record.pid}) at ${iso(at)}`;
    }
    case 'stop': {
      if (current !== 'running') throw new LabError(`${target} is ${current}, not running`);
      const at = await signalUntil(record, 'SIGSTOP', 'stopped', target);
      return `stopped ${target} (pid ${record.pid}, SIGSTOP) at ${iso(at)}`;
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

/**
 * `stop <target> --for S`: SIGSTOP, then SIGCONT S seconds after the stop was sent. Reports the
 * stop at once and the continue when it happens, both on the wall clock the benchmark uses.
 */
export async function timedStop(
  dir: string,
  target: string,
  secondsArg: string,
  report: (line: string) => void,
): Promise<TimedFault> {
  const seconds = parseBlipSeconds(secondsArg);
  const state = loadState(dir);
  const record = targetProcess(state, target);
  const current = processState(record);
  if (current !== 'running') throw new LabError(`${target} is ${current}, not running`);
  const stoppedAt = await signalUntil(record, 'SIGSTOP', 'stopped', target);
  report(`stopped ${target} (pid ${record.pid}, SIGSTOP) at ${iso(stoppedAt)} for ${seconds} s`);
  const interrupted = await sleepUntil(stoppedAt + seconds * 1000);
  const continuedAt = await signalUntil(record, 'SIGCONT', 'running', target);
  const fault = { target, startedAt: stoppedAt, endedAt: continuedAt, uncertaintyMs: 1 };
  report(
    `continued ${target} at ${iso(continuedAt)}: stopped for ${continuedAt - stoppedAt} ms` +
      (interrupted ? ' (interrupted: ended early)' : ''),
  );
  return fault;
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** A fault that was applied and removed: when, on the wall clock, and how exactly that is known. */
export interface TimedFault {
  target: string;
  /** Epoch ms when it took effect (a cut: when its rule change began). */
  startedAt: number;
  /** Epoch ms when it was removed. */
  endedAt: number;
  /** The effective length is endedAt - startedAt within this many ms (rule changes take time). */
  uncertaintyMs: number;
}

/** A timed fault's length (`--for`): above 0, at most an hour (longer is an outage, not a blip). */
function parseBlipSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3_600)
    throw new LabError(`--for must be a number of seconds above 0, at most 3600, got "${value}"`);
  return seconds;
}

/**
 * Waits until the epoch-ms moment, or until SIGINT/SIGTERM: a timed fault interrupted by Ctrl-C
 * still removes itself instead of leaving a cut or a stopped server behind. True if interrupted.
 */
function sleepUntil(epochMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (interrupted: boolean): void => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(interrupted);
    };
    const onSignal = (): void => finish(true);
    const timer = setTimeout(() => finish(false), Math.max(0, epochMs - Date.now()));
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
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

/**
 * When a cut change took effect: inside the window of the namespace whose cut changed (`first`),
 * or, for a heal of every cut, inside the span of all of them.
 */
async function applyCuts(
  state: LabState,
  sites: SiteName[],
  first?: SiteName,
): Promise<{ startedAt: number; endedAt: number }> {
  const windows = await setCutSites(state.network, sites, wanRoutes(state.network, state.basePort), first);
  state.faults.cut = sites;
  writeLabState(state);
  const timing = first === undefined ? windows : windows.slice(0, 1);
  return {
    startedAt: Math.min(...timing.map((w) => w.startedAt)),
    endedAt: Math.max(...timing.map((w) => w.endedAt)),
  };
}

export async function cutFault(dir: string, siteArg: string): Promise<string> {
  const state = loadState(dir);
  const site = parseSite(siteArg);
  requireWan(state);
  const span = await applyCuts(state, [...new Set([...state.faults.cut, site])], site);
  return `site ${site} cut off from the other sites at ${iso(span.startedAt)} (in effect within ${span.endedAt - span.startedAt} ms; the host still reaches it)`;
}

/**
 * `cut <site> --for S`: cut, then lift this site's cut S seconds after the cut began (other
 * sites' cuts stay). The effective length is known to the two rule changes' durations (about
 * 10 ms each), which the report states.
 */
export async function timedCut(
  dir: string,
  siteArg: string,
  secondsArg: string,
  report: (line: string) => void,
): Promise<TimedFault> {
  const seconds = parseBlipSeconds(secondsArg);
  const state = loadState(dir);
  const site = parseSite(siteArg);
  requireWan(state);
  if (state.faults.cut.includes(site)) throw new LabError(`site ${site} is already cut off`);
  const cut = await applyCuts(state, [...state.faults.cut, site], site);
  report(
    `site ${site} cut off from the other sites at ${iso(cut.startedAt)} (in effect within ${cut.endedAt - cut.startedAt} ms) for ${seconds} s`,
  );
  const interrupted = await sleepUntil(cut.startedAt + seconds * 1000);
  const now = loadState(dir);
  const lift = await applyCuts(
    now,
    now.faults.cut.filter((s) => s !== site),
    site,
  );
  const uncertaintyMs = Math.max(cut.endedAt - cut.startedAt, lift.endedAt - lift.startedAt);
  report(
    `site ${site} cut lifted at ${iso(lift.startedAt)}: cut for ${lift.startedAt - cut.startedAt} ms (±${uncertaintyMs} ms)` +
      (interrupted ? ' (interrupted: ended early)' : ''),
  );
  return { target: site, startedAt: cut.startedAt, endedAt: lift.startedAt, uncertaintyMs };
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
  const span = await applyCuts(state, []);
  state.faults = { cut: [], delays: {} };
  writeLabState(state);
  await applyWan(state, { kind: 'end' });
  const { profile } = labWan(state);
  return `all link faults removed at ${iso(span.startedAt)}: links back to profile ${profile} (${describeProfile(profile)})`;
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
  const seconds = parseBlipSeconds(options.seconds);
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
