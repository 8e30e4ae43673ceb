import { describe, expect, it } from 'vitest';
import {
  DEFAULT_WAN_PROFILE,
  WAN_PROFILE_NAMES,
  delaysInEffect,
  directedLinks,
  etcdTimingsFor,
  jitteredDelay,
  maxRoundTripMs,
  profileDelays,
  spikedDelays,
  withOverride,
} from '../../../src/lab/wan-profile.js';

describe('WAN profiles', () => {
  it('give every directed link its one-way delay', () => {
    expect(profileDelays('lan')).toEqual({ 'a>b': 0, 'a>w': 0, 'b>a': 0, 'b>w': 0, 'w>a': 0, 'w>b': 0 });
    expect(profileDelays('metro')['b>w']).toBe(2);
    expect(profileDelays('region')['w>a']).toBe(15);
    expect(profileDelays('continent')).toEqual({
      'a>b': 35,
      'b>a': 35,
      'a>w': 40,
      'w>a': 40,
      'b>w': 40,
      'w>b': 40,
    });
    expect(new Set(Object.values(profileDelays('intercontinental')))).toEqual(new Set([80]));
  });

  it('cover the six directed links between three sites', () => {
    expect(directedLinks().map(([from, to]) => `${from}>${to}`)).toEqual([
      'a>b',
      'a>w',
      'b>a',
      'b>w',
      'w>a',
      'w>b',
    ]);
  });

  it('default to a known profile', () => {
    expect(WAN_PROFILE_NAMES).toContain(DEFAULT_WAN_PROFILE);
  });
});

describe('delays in effect', () => {
  it('are the profile with each override in place of its link', () => {
    const delays = delaysInEffect('continent', { 'a>b': 200, 'w>b': 0 });
    expect(delays['a>b']).toBe(200);
    expect(delays['w>b']).toBe(0);
    expect(delays['b>a']).toBe(35);
    expect(delays['a>w']).toBe(40);
  });

  it('keep an override of 0 on a profile with delay, and drop one equal to the profile', () => {
    expect(withOverride('continent', {}, 'a', 'b', 0)).toEqual({ 'a>b': 0 });
    expect(withOverride('continent', { 'a>b': 200 }, 'a', 'b', 35)).toEqual({});
    // On lan, `delay a b 0` removes a delay, as it did before profiles.
    expect(withOverride('lan', { 'a>b': 300 }, 'a', 'b', 0)).toEqual({});
    expect(withOverride('lan', {}, 'b', 'w', 50)).toEqual({ 'b>w': 50 });
  });

  it('are multiplied on every link by a spike, overrides included', () => {
    const spiked = spikedDelays(delaysInEffect('continent', { 'a>w': 100 }), 3);
    expect(spiked).toMatchObject({ 'a>b': 105, 'a>w': 300, 'w>a': 120 });
  });
});

describe('jitter', () => {
  it('only ever adds, up to the percentage of the link delay', () => {
    expect(jitteredDelay(35, 10, () => 0)).toBe(35);
    expect(jitteredDelay(35, 10, () => 0.5)).toBeCloseTo(36.75);
    expect(jitteredDelay(35, 10, () => 0.999999)).toBeLessThan(38.5);
    expect(jitteredDelay(0, 10, () => 0.9)).toBe(0);
    expect(jitteredDelay(35, 0, () => 0.9)).toBe(35);
  });

  it('counts in the longest round trip', () => {
    expect(maxRoundTripMs(profileDelays('continent'), 0)).toBe(80);
    expect(maxRoundTripMs(profileDelays('continent'), 10)).toBeCloseTo(88);
    expect(maxRoundTripMs({ 'a>b': 100 }, 0)).toBe(100);
  });
});

describe('etcd timings per profile', () => {
  it('keep lan at the measured 30/300 ms and follow the largest round trip beyond', () => {
    const timings = Object.fromEntries(WAN_PROFILE_NAMES.map((name) => [name, etcdTimingsFor(name, 10)]));
    expect(timings).toEqual({
      lan: { heartbeatMs: 30, electionTimeoutMs: 300 },
      metro: { heartbeatMs: 30, electionTimeoutMs: 300 },
      region: { heartbeatMs: 40, electionTimeoutMs: 400 },
      continent: { heartbeatMs: 90, electionTimeoutMs: 900 },
      intercontinental: { heartbeatMs: 180, electionTimeoutMs: 1800 },
    });
  });

  it("meet etcd's guidance and its own rule on every profile and jitter", () => {
    for (const name of WAN_PROFILE_NAMES) {
      for (const jitter of [0, 10, 50]) {
        const { heartbeatMs, electionTimeoutMs } = etcdTimingsFor(name, jitter);
        const roundTrip = maxRoundTripMs(profileDelays(name), jitter);
        expect(heartbeatMs).toBeGreaterThanOrEqual(roundTrip);
        expect(electionTimeoutMs).toBeGreaterThanOrEqual(10 * roundTrip);
        // etcd refuses to start with an election timeout under 5 heartbeats.
        expect(electionTimeoutMs).toBeGreaterThanOrEqual(5 * heartbeatMs);
      }
    }
  });
});
