/**
 * The seeded blip schedule of `baton lab fault flap`: short faults of the kinds production WANs
 * and busy hosts produce, with quiet between them. Pure: the same seed and length give the same
 * schedule, so a soak that found something can be replayed. The targets that depend on the
 * moment (the writer, its colo) are resolved when a blip starts, not here.
 */

export type BlipKind = 'writer-stall' | 'writer-colo-cut' | 'etcd-member-stall';

export interface Blip {
  /** Position in the schedule, from 1. */
  index: number;
  kind: BlipKind;
  /** Planned start, from the start of the soak. */
  atMs: number;
  durationMs: number;
  /** For etcd-member-stall: which member (by site). */
  etcdSite?: 'a' | 'b' | 'w';
}

/** The ranges the issue asks for (issue 13): stalls 0.1-1.0 s, cuts 0.1-1.5 s, 1-5 s quiet. */
export const BLIP_RANGES_MS: Readonly<Record<BlipKind, readonly [number, number]>> = {
  'writer-stall': [100, 1_000],
  'writer-colo-cut': [100, 1_500],
  'etcd-member-stall': [100, 1_000],
};
export const QUIET_RANGE_MS: readonly [number, number] = [1_000, 5_000];

const KINDS: readonly BlipKind[] = ['writer-stall', 'writer-colo-cut', 'etcd-member-stall'];
const ETCD_SITES = ['a', 'b', 'w'] as const;

/** mulberry32: small, fast, and good enough to spread blips; not for anything secret. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function between(random: () => number, [low, high]: readonly [number, number]): number {
  return Math.round(low + random() * (high - low));
}

/**
 * Blips that start and end within `totalMs`, each after a quiet gap (also before the first: the
 * soak starts from a settled lab).
 */
export function flapSchedule(seed: number, totalMs: number): Blip[] {
  const random = seededRandom(seed);
  const blips: Blip[] = [];
  let at = 0;
  for (;;) {
    at += between(random, QUIET_RANGE_MS);
    const kind = KINDS[Math.floor(random() * KINDS.length)] as BlipKind;
    const durationMs = between(random, BLIP_RANGES_MS[kind]);
    const etcdSite = ETCD_SITES[Math.floor(random() * ETCD_SITES.length)];
    if (at + durationMs > totalMs) return blips;
    const blip: Blip = { index: blips.length + 1, kind, atMs: at, durationMs };
    if (kind === 'etcd-member-stall') blip.etcdSite = etcdSite;
    blips.push(blip);
    at += durationMs;
  }
}
