import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Etcd3 } from 'etcd3';
import { performance } from 'node:perf_hooks';
import {
  baton,
  eventually,
  faultEffectiveAt,
  isRoot,
  median,
  probeFromSite,
  startLab,
  type Lab,
} from './support/lab.js';
import type { ProbeResult, ProbeSample } from './support/site-probe.js';
import { readLabState } from '../../src/lab/lab-state.js';

/**
 * The lab on `--wan continent` (35 ms one way a-b, 40 ms to w, up to +10 % jitter per chunk),
 * measured from inside the sites. Lower bounds are exact: the WAN proxy never delivers early.
 * Upper bounds leave room for jitter and a busy 2-core machine.
 */
const AB_ROUND_TRIP = 70;
const AW_ROUND_TRIP = 80;
/** Jitter (+10 % of 70 ms) plus scheduling on a loaded machine, for medians. */
const MEDIAN_SLACK = 25;

function samplesOf(result: ProbeResult): ProbeSample[] {
  if (!result.ok) throw new Error(`probe failed: ${result.code} ${result.message}`);
  return result.samples;
}

const rtts = (samples: ProbeSample[]) => samples.map((s) => s.rttMs);
const rounded = (values: number[]) => values.map((v) => Math.round(v));

describe.skipIf(!isRoot())('the lab on --wan continent', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab({ wan: 'continent' });
  });

  afterAll(async () => {
    await lab?.down();
  });

  test('status shows the profile, the delays in effect with their jitter, and etcd timings to match', async () => {
    const status = await lab.status();
    expect(status.wan.profile).toBe('continent');
    expect(status.wan.jitterPercent).toBe(10);
    expect(status.wan.spike).toBeNull();
    expect(status.wan.links['a>b']).toEqual({ delayMs: 35, jitterMs: 3.5, profileMs: 35, overridden: false });
    expect(status.wan.links['b>a']?.delayMs).toBe(35);
    for (const key of ['a>w', 'w>a', 'b>w', 'w>b']) {
      expect(status.wan.links[key]).toEqual({ delayMs: 40, jitterMs: 4, profileMs: 40, overridden: false });
    }
    expect(status.etcd).toMatchObject({ heartbeatMs: 90, electionTimeoutMs: 900 });
    // What the members really run with, not only what status says.
    const etcdArgv = readLabState(lab.dir)?.processes['etcd-a']?.argv ?? [];
    expect(etcdArgv).toContain('--heartbeat-interval=90');
    expect(etcdArgv).toContain('--election-timeout=900');

    const text = await baton(['lab', 'status', '--dir', lab.dir]);
    expect(text.stdout).toContain('WAN profile continent, jitter up to +10 % per chunk');
    expect(text.stdout).toMatch(/a>b\s+35-38\.5 ms/);
  });

  test('a MySQL round trip from site a costs about 2 x 35 ms to b1 and next to nothing to a2', async () => {
    const far = await probeFromSite(lab, 'a', 'b1', { queries: 20 });
    const near = await probeFromSite(lab, 'a', 'a2', { queries: 20 });
    const farRtts = rtts(samplesOf(far));
    const nearRtts = rtts(samplesOf(near));
    console.log(
      `[wan] a -> b1: connect ${far.ok && Math.round(far.connectMs)} ms, round trips ${rounded(farRtts).join(' ')} ms; ` +
        `a -> a2: connect ${near.ok && Math.round(near.connectMs)} ms, median ${median(nearRtts).toFixed(1)} ms`,
    );
    expect(Math.min(...farRtts)).toBeGreaterThanOrEqual(AB_ROUND_TRIP);
    expect(median(farRtts)).toBeLessThan(AB_ROUND_TRIP + MEDIAN_SLACK);
    expect(median(nearRtts)).toBeLessThan(10);
    // Handshake (1), greeting (1) and authentication (1): three round trips, as on a real WAN.
    if (!far.ok) throw new Error('unreachable');
    expect(far.connectMs).toBeGreaterThanOrEqual(3 * AB_ROUND_TRIP);
    expect(far.connectMs).toBeLessThan(3 * AB_ROUND_TRIP + 300);
  });

  test('a connect to a killed server fails after one round trip from the far site, at once from its own', async () => {
    await lab.fault('kill', 'b2');
    try {
      const far = await probeFromSite(lab, 'a', 'b2', { queries: 1 });
      const near = await probeFromSite(lab, 'b', 'b2', { queries: 1 });
      console.log(
        `[wan] connect to killed b2: from a ${JSON.stringify(far)}, from b ${JSON.stringify(near)}`,
      );
      if (far.ok || near.ok) throw new Error('connected to a killed server');
      // The proxy already accepted the client, so the refusal arrives as a reset.
      expect(far.code).toBe('ECONNRESET');
      expect(far.failedAfterMs).toBeGreaterThanOrEqual(AB_ROUND_TRIP);
      expect(far.failedAfterMs).toBeLessThan(AB_ROUND_TRIP + 200);
      expect(near.code).toBe('ECONNREFUSED');
      expect(far.failedAfterMs - near.failedAfterMs).toBeGreaterThanOrEqual(AB_ROUND_TRIP - 10);
    } finally {
      await lab.fault('start', 'b2');
    }
    await eventually(
      async () =>
        (await lab.status()).nodes.find((n) => n.name === 'b2')?.readOnly === true ? true : undefined,
      15_000,
      'b2 back',
    );
  });

  test('a connect into a cut site hangs as on a real partition, though the WAN proxy is not cut', async () => {
    const before = await probeFromSite(lab, 'a', 'b1', { tcpOnly: true });
    expect(before.ok).toBe(true);
    await lab.fault('cut', 'b');
    try {
      const during = await probeFromSite(lab, 'a', 'b1', { tcpOnly: true, connectTimeoutMs: 1_500 });
      console.log(
        `[wan] TCP connect a -> b1: ${JSON.stringify(before)}; with b cut: ${JSON.stringify(during)}`,
      );
      expect(during).toMatchObject({ ok: false, code: 'ETIMEDOUT' });
    } finally {
      await lab.fault('heal');
    }
    expect((await probeFromSite(lab, 'a', 'b1', { tcpOnly: true })).ok).toBe(true);
  });

  test('etcd peer traffic crosses the WAN: a put through the raft leader w waits for a follower 80 ms away', async () => {
    const status = await lab.status();
    const witness = status.etcd.members.find((m) => m.site === 'w');
    const client = new Etcd3({
      hosts: witness?.endpoint as string,
      defaultCallOptions: () => ({ deadline: Date.now() + 5_000 }),
    });
    try {
      await client.put('/lab-test/wan').value('warm-up');
      const puts: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        await client.put('/lab-test/wan').value(String(i));
        puts.push(performance.now() - started);
      }
      console.log(`[wan] etcd puts through w: ${rounded(puts).join(' ')} ms`);
      expect(Math.min(...puts)).toBeGreaterThanOrEqual(AW_ROUND_TRIP);
      expect(median(puts)).toBeLessThan(AW_ROUND_TRIP + 100);
    } finally {
      client.close();
    }
  });

  test('fault delay sets one link on top of the profile; heal returns every link to the profile, not to zero', async () => {
    const zero = await lab.fault('delay', 'a', 'b', '0');
    expect(zero).toMatch(/one-way latency a -> b: 0 ms \(profile continent: 35 ms\) at /);
    expect(faultEffectiveAt(zero)).toBeLessThanOrEqual(Date.now());
    await lab.fault('delay', 'a', 'w', '100');
    let status = await lab.status();
    expect(status.wan.links['a>b']).toEqual({ delayMs: 0, jitterMs: 0, profileMs: 35, overridden: true });
    expect(status.wan.links['a>w']).toMatchObject({ delayMs: 100, jitterMs: 10, overridden: true });
    expect(status.faults.delays).toEqual({ 'a>b': 0, 'a>w': 100 });
    const halfRtts = rtts(samplesOf(await probeFromSite(lab, 'a', 'b1', { queries: 10 })));
    expect(Math.min(...halfRtts)).toBeGreaterThanOrEqual(AB_ROUND_TRIP / 2);
    expect(median(halfRtts)).toBeLessThan(AB_ROUND_TRIP / 2 + MEDIAN_SLACK);

    const healed = await lab.fault('heal');
    expect(healed).toContain('links back to profile continent (a-b 35 ms, a-w 40 ms, b-w 40 ms)');
    status = await lab.status();
    expect(status.faults.delays).toEqual({});
    expect(status.wan.links['a>b']).toEqual({ delayMs: 35, jitterMs: 3.5, profileMs: 35, overridden: false });
    expect(status.wan.links['a>w']).toMatchObject({ delayMs: 40, overridden: false });
    const healedRtts = rtts(samplesOf(await probeFromSite(lab, 'a', 'b1', { queries: 10 })));
    console.log(
      `[wan] a -> b1 with a>b at 0 ms: ${rounded(halfRtts).join(' ')} ms; healed: ${rounded(healedRtts).join(' ')} ms`,
    );
    expect(Math.min(...healedRtts)).toBeGreaterThanOrEqual(AB_ROUND_TRIP);
    expect(median(healedRtts)).toBeLessThan(AB_ROUND_TRIP + MEDIAN_SLACK);
  });

  test('fault spike --no-wait shows in status while it runs, and the WAN proxy ends it on time', async () => {
    const output = await lab.fault('spike', '--factor', '3', '--for', '2', '--no-wait');
    const endsAt = Date.parse(/until (\S+Z)/.exec(output)?.[1] ?? '');
    expect(endsAt - faultEffectiveAt(output)).toBe(2_000);
    const during = await lab.status();
    expect(during.wan.spike?.factor).toBe(3);
    expect(during.wan.links['a>b']).toMatchObject({ delayMs: 105, profileMs: 35 });
    expect(during.wan.links['w>b']?.delayMs).toBe(120);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, endsAt - Date.now()) + 200));
    const after = await lab.status();
    expect(after.wan.spike).toBeNull();
    expect(after.wan.links['a>b']?.delayMs).toBe(35);
  });

  test('fault spike multiplies every round trip for its duration, then ends by itself', async () => {
    // The probe needs about 2 s to start (a Node process in the namespace, then a WAN connect).
    const probing = probeFromSite(lab, 'a', 'b1', { forMs: 9_000, pauseMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const spike = await lab.fault('spike', '--factor', '3', '--for', '3');
    const samples = samplesOf(await probing);
    const startedAt = faultEffectiveAt(spike);
    const endedAt = Date.parse(/ended at (\S+Z)/.exec(spike)?.[1] ?? '');
    expect(endedAt - startedAt).toBeGreaterThanOrEqual(3_000);
    expect(endedAt - startedAt).toBeLessThan(3_100);
    // Both legs inside the spike: sent after it began, answered (3 x 77 ms at most) before it ended.
    const inside = rtts(samples.filter((s) => s.sentAt >= startedAt && s.sentAt < endedAt - 300));
    const before = rtts(samples.filter((s) => s.sentAt < startedAt - 300));
    const after = rtts(samples.filter((s) => s.sentAt >= endedAt));
    console.log(
      `[wan] spike x3 for ${endedAt - startedAt} ms: before ${median(before).toFixed(0)} ms (${before.length}), ` +
        `inside ${median(inside).toFixed(0)} ms (${inside.length}), after ${median(after).toFixed(0)} ms (${after.length})`,
    );
    expect(inside.length).toBeGreaterThan(3);
    expect(before.length).toBeGreaterThan(3);
    expect(after.length).toBeGreaterThan(3);
    expect(Math.min(...inside)).toBeGreaterThanOrEqual(3 * AB_ROUND_TRIP);
    expect(median(before)).toBeLessThan(AB_ROUND_TRIP + MEDIAN_SLACK);
    expect(Math.min(...after)).toBeGreaterThanOrEqual(AB_ROUND_TRIP);
    expect(median(after)).toBeLessThan(AB_ROUND_TRIP + MEDIAN_SLACK);
    expect((await lab.status()).wan.spike).toBeNull();
  });
});
