/**
 * Fault handling for the etcd3 connection pool, replacing the library defaults:
 * - its per-host circuit breaker stays open 5 s and kept failing calls for 1.5-5 s after etcd
 *   recovered (FIELD-NOTES), which would delay the writer's reopening after an etcd stall;
 * - its global policy retries deadline errors, which only re-sends a txn whose deadline passed.
 * Ours: a host is skipped for `openMs` after consecutive failures (so a stalled member does not
 * eat every call's deadline), doubling while it keeps failing, and only "unavailable" errors are
 * retried, on another member.
 * Every call still carries our own gRPC deadline, so retries cannot outlive it.
 */
import net from 'node:net';
import * as etcd3 from 'etcd3';
import type { IOptions } from 'etcd3';
import { LinkRtt } from '../link-rtt.js';

type FaultHandling = Required<NonNullable<IOptions['faultHandling']>>;
type HostPolicy = ReturnType<FaultHandling['host']>;
type GlobalPolicy = FaultHandling['global'];
type WatchBackoff = FaultHandling['watchBackoff'];

/** Thrown without calling the host: the pool then tries the next member. */
export class HostCircuitOpenError extends etcd3.GRPCUnavailableError {
  constructor(host: string) {
    super(`etcd member ${host} skipped after repeated failures`);
  }
}

const noEvent = () => ({ dispose: () => undefined });

function policy(execute: (fn: (context: { signal: AbortSignal }) => unknown) => Promise<unknown>): never {
  // cockatiel's IPolicy also has typed events the pool never subscribes to; stub them.
  return { execute, onSuccess: noEvent, onFailure: noEvent, _altReturn: undefined } as never;
}

function isOutage(err: unknown): boolean {
  return err instanceof etcd3.GRPCUnavailableError || err instanceof etcd3.GRPCDeadlineExceededError;
}

interface BreakerState {
  failures: number;
  openUntil: number;
  /** How long the breaker stays open on its next trip: doubles per failed trial, up to maxOpenMs. */
  nextOpenMs: number;
  /** With a reachability check: its verdict once the open time passed (undefined: not yet known). */
  reachable?: boolean;
  checking: boolean;
  /** How long this member's calls take from here (any call: reads, writes, keepalives). */
  latency: LinkRtt;
  /** Start times of the calls in flight. */
  inFlight: Set<number>;
}

/** Whether a member answers at all, cheaply and off the call path (see tcpReachable). */
export type ReachabilityCheck = (host: string) => Promise<boolean>;

/**
 * A TCP connect to the member's client port within `timeoutMs`. A member cut off by a partition
 * (packets dropped) fails it, which is the case that made trial calls expensive; a hung process
 * still accepts connections, so its real trial call decides, as before.
 */
export function tcpReachable(timeoutMs: number): ReachabilityCheck {
  return (host) =>
    new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL(host.includes('://') ? host : `http://${host}`);
      } catch {
        resolve(false);
        return;
      }
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 2379));
      const socket = net.connect({ host: url.hostname, port });
      const done = (ok: boolean): void => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(timeoutMs, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
}

/**
 * Per-member breakers that share one view: a member is skipped for openMs after `threshold`
 * consecutive outage errors, but only while some other member may still answer. Each trial call
 * after that costs a whole deadline when the member is still cut off (a TCP connect into a DROP
 * hangs), and in the lab one lost read every 1.5 s delayed a colo-cut failover by seconds: so
 * the open time doubles per failed trial, up to maxOpenMs, and resets on success. When every
 * member is failing (an etcd-wide stall, or our own network), skipping helps nobody and would
 * only delay the first call after recovery, so calls go through.
 */
export class HostBreakers {
  private readonly states = new Map<string, BreakerState>();

  /**
   * `reachable`: when given, a member whose open time has passed stays skipped until this check
   * says it answers; a failed check keeps it skipped another `openMs`. Then no real call is
   * spent as a trial on a partitioned member: in the lab's worst-case colo cut two such trials
   * (a step record and the promotion) cost a failover a second, in the middle of it.
   */
  constructor(
    private readonly threshold = 2,
    private readonly openMs = 1000,
    private readonly maxOpenMs = 8000,
    private readonly reachable?: ReachabilityCheck,
    /**
     * After a failed check, the next one this much later. A check is one TCP connect, not a
     * real call, so it can repeat often: a member a blip cut off is back in use within this
     * much (plus a round trip) of the heal, not a doubled open time later (issue 13: a colo cut
     * of 2.5 s kept both far members skipped for 1.3 s after the heal).
     */
    private readonly recheckMs = openMs,
  ) {}

  policy(host: string): HostPolicy {
    const state: BreakerState = {
      failures: 0,
      openUntil: 0,
      nextOpenMs: this.openMs,
      checking: false,
      latency: new LinkRtt(),
      inFlight: new Set(),
    };
    this.states.set(endpointHost(host), state);
    return policy(async (fn) => {
      if (this.isOpen(host, state) && this.anotherMayAnswer(state)) throw new HostCircuitOpenError(host);
      const startedAt = performance.now();
      state.inFlight.add(startedAt);
      try {
        const result = await fn({ signal: new AbortController().signal });
        state.failures = 0;
        state.nextOpenMs = this.openMs;
        state.latency.sample(performance.now() - startedAt);
        return result;
      } catch (err) {
        if (isOutage(etcd3.castGrpcError(err as Error))) {
          state.failures += 1;
          if (state.failures >= this.threshold) {
            state.openUntil = Date.now() + state.nextOpenMs;
            state.nextOpenMs = Math.min(this.maxOpenMs, state.nextOpenMs * 2);
            delete state.reachable;
          }
        }
        throw err;
      } finally {
        state.inFlight.delete(startedAt);
      }
    }) as HostPolicy;
  }

  /**
   * The order in which to try members for the next call: the configured order (the operator
   * lists the member in this coordinator's own site first: a call to a member across a WAN pays
   * its round trip on top of etcd's own), except that a member which is skipped, or has a call
   * outstanding for longer than its calls usually take (hung, or a link gone slow), goes last.
   * So a hedged second attempt (session keepalives) lands on another member.
   */
  preferenceOrder<H extends { host: string }>(hosts: readonly H[]): H[] {
    const now = performance.now();
    const rank = (h: H): number => {
      const state = this.states.get(h.host);
      if (!state) return 0;
      if (this.skipped(state)) return 2;
      const slowAfter = Math.max(MIN_SLOW_CALL_MS, state.latency.allowanceMs());
      for (const started of state.inFlight) if (now - started > slowAfter) return 1;
      return 0;
    };
    return hosts
      .map((h, index) => ({ h, index, rank: rank(h) }))
      .sort((x, y) => x.rank - y.rank || x.index - y.index)
      .map((x) => x.h);
  }

  /**
   * How long a call to the member tried first usually takes, with its variation (TCP's RTO):
   * the allowance for one more call. 0 before any member was used.
   */
  preferredLatencyMs(): number {
    const first = this.preferenceOrder([...this.states.keys()].map((host) => ({ host })))[0];
    const state = first && this.states.get(first.host);
    return state && state.latency.smoothedMs() !== undefined ? state.latency.allowanceMs() : 0;
  }

  /** Skipped; once the open time has passed, what keeps it skipped is a pending check: run it. */
  private isOpen(host: string, state: BreakerState): boolean {
    if (!this.skipped(state)) return false;
    if (Date.now() >= state.openUntil) this.startCheck(host, state);
    return true;
  }

  private startCheck(host: string, state: BreakerState): void {
    const check = this.reachable;
    if (!check || state.checking) return;
    state.checking = true;
    void check(host)
      .catch(() => false)
      .then((ok) => {
        state.checking = false;
        if (ok) state.reachable = true;
        else state.openUntil = Date.now() + this.recheckMs;
      });
  }

  /** Open: within its open time, or past it while no check has found it reachable. */
  private skipped(state: BreakerState): boolean {
    if (state.failures < this.threshold) return false;
    return Date.now() < state.openUntil || (this.reachable !== undefined && state.reachable !== true);
  }

  private anotherMayAnswer(self: BreakerState): boolean {
    for (const state of this.states.values()) if (state !== self && !this.skipped(state)) return true;
    return false;
  }
}

/** A call outstanding this long is slow whatever the member's history (hedges start at 100 ms). */
const MIN_SLOW_CALL_MS = 50;

/** The pool names members without their scheme. */
function endpointHost(endpoint: string): string {
  return endpoint.replace(/^https?:\/\//, '');
}

/**
 * etcd3's pool sends each call to members in a fresh random order; make it use
 * `breakers.preferenceOrder` instead. The pool is internal to etcd3 1.x: checked here so a
 * library change fails at start-up, not silently.
 */
export function preferConfiguredOrder(client: etcd3.Etcd3, breakers: HostBreakers): void {
  const pool = (client as unknown as { pool?: { hosts?: { host: string }[]; shuffledHosts?: unknown } }).pool;
  if (!pool || !Array.isArray(pool.hosts) || typeof pool.shuffledHosts !== 'function') {
    throw new Error('etcd3 connection pool layout changed: cannot order members (see fault-policy.ts)');
  }
  const hosts = pool.hosts;
  pool.shuffledHosts = function* () {
    for (;;) yield* breakers.preferenceOrder(hosts);
  };
}

/** Retry only "unavailable" (the pool picks another member each attempt), never deadlines. */
export function retryUnavailable(maxAttempts = 3): GlobalPolicy {
  return policy(async (fn) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn({ signal: new AbortController().signal });
      } catch (err) {
        const cast = err instanceof Error ? etcd3.castGrpcError(err) : err;
        if (attempt >= maxAttempts || !(cast instanceof etcd3.GRPCUnavailableError)) throw err;
      }
    }
  }) as GlobalPolicy;
}

/** Watch stream reconnect delay: doubling from minMs to maxMs (the library default grows to 30 s). */
export function watchBackoff(minMs = 100, maxMs = 1000): WatchBackoff {
  const at = (duration: number): { duration: number; next: () => unknown } => ({
    duration,
    next: () => at(Math.min(maxMs, duration * 2)),
  });
  return { ...at(minMs), next: () => at(minMs) } as WatchBackoff;
}
