/**
 * Another host's clock from the `Date` header of its HTTP answers (etcd serves `/version` on
 * its client URL without authentication). The header has whole seconds, so requests go out every
 * few tens of milliseconds until two answers fall either side of the other host's second
 * boundary: then the offset is known to the time between them plus a round trip (clock-offset.ts).
 * That takes at most a little over a second.
 */
import http from 'node:http';
import https from 'node:https';
import { offsetFromSeconds, type ClockOffset, type SecondSample } from './clock-offset.js';

export interface HttpClockOptions {
  /** Time between the starts of two requests. */
  spacingMs: number;
  /** Give up after this long (a boundary comes within a second; more covers slow answers). */
  maxMs: number;
  /** Each request's own timeout. */
  requestTimeoutMs: number;
}

export const DEFAULT_HTTP_CLOCK: HttpClockOptions = { spacingMs: 10, maxMs: 1_500, requestTimeoutMs: 1_000 };

/** etcd's TLS material as the config gives it (etcd.tls): its CA, and our certificate if it asks. */
export interface HttpClockTls {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

function dateOf(url: URL, agent: http.Agent, timeoutMs: number): Promise<number> {
  const get = url.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(url, { agent, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => {
        const date = Date.parse(String(res.headers.date ?? ''));
        if (Number.isFinite(date)) resolve(date);
        else reject(new Error(`no Date header in the answer of ${url.href}`));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.href} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** This host's clock against the one behind `baseUrl` (their clock minus ours). */
export async function httpClockOffset(
  baseUrl: string,
  options: HttpClockOptions = DEFAULT_HTTP_CLOCK,
  tls?: HttpClockTls,
): Promise<ClockOffset> {
  const url = new URL('/version', baseUrl);
  // One kept-alive connection: a sample then costs one round trip, not a TCP handshake too.
  // With --client-cert-auth etcd asks for our certificate on its HTTP endpoints as well.
  const agent =
    url.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, maxSockets: 1, ...(tls ?? {}) })
      : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples: SecondSample[] = [];
  const started = Date.now();
  try {
    for (;;) {
      const sentAt = Date.now();
      const remoteSecondMs = await dateOf(url, agent, options.requestTimeoutMs);
      samples.push({ sentAt, receivedAt: Date.now(), remoteSecondMs });
      const estimate = offsetFromSeconds(samples);
      if (!estimate)
        throw new Error(`the Date headers of ${url.href} contradict each other (a clock stepped?)`);
      // Two answers either side of a second boundary pin the offset; later ones cannot do better.
      const straddled = samples.some((x) => x.remoteSecondMs !== remoteSecondMs);
      if (straddled || Date.now() - started >= options.maxMs) return estimate;
      const wait = sentAt + options.spacingMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  } finally {
    agent.destroy();
  }
}
