import { SITES, type SiteName } from './topology.js';

/**
 * How far apart the lab's sites are: one-way delays between a, b and the witness w, chosen to
 * look like real distances (US east-west is about 35 ms one way, transatlantic 40-45 ms,
 * transpacific 60-90 ms). Pure data and arithmetic: the WAN proxy applies the result.
 */
export const WAN_PROFILE_NAMES = ['lan', 'metro', 'region', 'continent', 'intercontinental'] as const;
export type WanProfileName = (typeof WAN_PROFILE_NAMES)[number];

/**
 * The profile `baton lab up` uses without `--wan`. The only place that decides it: the CLI help
 * and every caller read it from here, and README says it once ("default: `continent`").
 */
export const DEFAULT_WAN_PROFILE: WanProfileName = 'continent';

/**
 * Jitter: every chunk is held for its link's delay plus a random extra of up to this share of
 * it. Only ever extra, never less: a real path has a floor (the speed of light) and queues on
 * top of it.
 */
export const DEFAULT_JITTER_PERCENT = 10;

export interface WanProfile {
  /** One-way delay between the two colos a and b, ms. */
  colosMs: number;
  /** One-way delay between either colo and the witness w, ms. */
  witnessMs: number;
  /** What distance it stands for, for help texts. */
  resembles: string;
}

export const WAN_PROFILES: Readonly<Record<WanProfileName, WanProfile>> = {
  lan: { colosMs: 0, witnessMs: 0, resembles: 'one building' },
  metro: { colosMs: 2, witnessMs: 2, resembles: 'datacenters in one metro area' },
  region: { colosMs: 15, witnessMs: 15, resembles: 'datacenters a few hundred km apart' },
  continent: { colosMs: 35, witnessMs: 40, resembles: 'US east-west, or across the Atlantic' },
  intercontinental: { colosMs: 80, witnessMs: 80, resembles: 'across the Pacific' },
};

/** One-way latency per directed link in ms, keyed `from>to` (e.g. `a>b`). */
export type LinkDelays = Record<string, number>;

export function linkKey(from: SiteName, to: SiteName): string {
  return `${from}>${to}`;
}

/** Every directed link between two different sites, in a fixed order (a>b, a>w, b>a, …). */
export function directedLinks(): [SiteName, SiteName][] {
  return SITES.flatMap((from) =>
    SITES.filter((to) => to !== from).map((to): [SiteName, SiteName] => [from, to]),
  );
}

/** The profile's one-way delay on every directed link. */
export function profileDelays(profile: WanProfileName): LinkDelays {
  const { colosMs, witnessMs } = WAN_PROFILES[profile];
  const delays: LinkDelays = {};
  for (const [from, to] of directedLinks()) {
    const toWitness = from === 'w' || to === 'w';
    delays[linkKey(from, to)] = toWitness ? witnessMs : colosMs;
  }
  return delays;
}

/**
 * The delays in effect without a spike: the profile's, with each `fault delay` override on top
 * (an override is the link's whole delay, not an addition, so `delay a b 0` makes a>b 0 ms).
 */
export function delaysInEffect(profile: WanProfileName, overrides: LinkDelays): LinkDelays {
  const delays = profileDelays(profile);
  for (const key of Object.keys(delays)) {
    const override = overrides[key];
    if (override !== undefined) delays[key] = override;
  }
  return delays;
}

/**
 * Records `fault delay from to ms` in the overrides. An override equal to the profile's delay is
 * no fault, so it is dropped: on `lan`, `delay a b 0` still removes a delay, as it always did.
 */
export function withOverride(
  profile: WanProfileName,
  overrides: LinkDelays,
  from: SiteName,
  to: SiteName,
  ms: number,
): LinkDelays {
  const key = linkKey(from, to);
  const next = { ...overrides, [key]: ms };
  if (profileDelays(profile)[key] === ms) delete next[key];
  return next;
}

/** Every link times `factor`: a latency spike (congestion, a reroute) on top of what is in effect. */
export function spikedDelays(delays: LinkDelays, factor: number): LinkDelays {
  const spiked: LinkDelays = {};
  for (const [key, ms] of Object.entries(delays)) spiked[key] = ms * factor;
  return spiked;
}

/** One chunk's one-way delay: the link's delay plus `random()` (in [0, 1)) of its jitter. */
export function jitteredDelay(delayMs: number, jitterPercent: number, random: () => number): number {
  if (delayMs <= 0) return 0;
  return delayMs + maxJitterMs(delayMs, jitterPercent) * random();
}

export function maxJitterMs(delayMs: number, jitterPercent: number): number {
  return (delayMs * jitterPercent) / 100;
}

/** The longest round trip between two sites, jitter included: etcd's members talk on every pair. */
export function maxRoundTripMs(delays: LinkDelays, jitterPercent: number): number {
  let longest = 0;
  for (const [from, to] of directedLinks()) {
    const there = delays[linkKey(from, to)] ?? 0;
    const back = delays[linkKey(to, from)] ?? 0;
    const roundTrip = there + back + maxJitterMs(there, jitterPercent) + maxJitterMs(back, jitterPercent);
    longest = Math.max(longest, roundTrip);
  }
  return longest;
}

export interface EtcdTimings {
  heartbeatMs: number;
  electionTimeoutMs: number;
}

/**
 * What the lab used before it had profiles, measured safe on this 2-core machine with both cores
 * saturated (DESIGN.md): no profile gets less.
 */
export const LAN_ETCD_TIMINGS: EtcdTimings = { heartbeatMs: 30, electionTimeoutMs: 300 };

/**
 * etcd's tuning guide: heartbeat about the largest round trip between members, election timeout
 * at least 10 round trips. The round trip is taken with full jitter and rounded up to 10 ms;
 * the election timeout is 10 heartbeats (etcd itself requires at least 5). Reasoning and what
 * it costs a colo cut with the raft leader inside it: DESIGN.md.
 */
export function etcdTimingsFor(profile: WanProfileName, jitterPercent: number): EtcdTimings {
  const roundTrip = maxRoundTripMs(profileDelays(profile), jitterPercent);
  const heartbeatMs = Math.max(LAN_ETCD_TIMINGS.heartbeatMs, Math.ceil(roundTrip / 10) * 10);
  return {
    heartbeatMs,
    electionTimeoutMs: Math.max(LAN_ETCD_TIMINGS.electionTimeoutMs, 10 * heartbeatMs),
  };
}
