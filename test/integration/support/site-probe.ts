/**
 * What a MySQL client standing inside one lab site sees of another site's server. Run inside the
 * site's network namespace, so its connections cross the lab WAN as the coordinators' do (the
 * tests themselves stand on the host, which reaches every site directly):
 *
 *   ip netns exec baton<N>-a node --import tsx site-probe.ts '<ProbeSpec as JSON>'
 *
 * Prints one ProbeResult as JSON. Every step has a deadline, and the caller's execFile one more.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import mysql from 'mysql2/promise';

export interface ProbeSpec {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Round trips to measure back to back (`SELECT 1`). */
  queries?: number;
  /** Or: keep measuring for this long (ms), with `pauseMs` between queries. */
  forMs?: number;
  pauseMs?: number;
  /** Only open a TCP connection (no MySQL handshake) and report when it connected. */
  tcpOnly?: boolean;
  /** Give up connecting after this long (default 5 s). */
  connectTimeoutMs?: number;
}

export interface ProbeSample {
  /** When the query was sent (epoch ms). */
  sentAt: number;
  rttMs: number;
}

export type ProbeResult =
  | { ok: true; connectMs: number; samples: ProbeSample[] }
  | { ok: false; code: string; message: string; failedAfterMs: number };

const QUERY_DEADLINE_MS = 5_000;

function tcpConnect(spec: ProbeSpec): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: spec.host, port: spec.port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({
        ok: false,
        code: 'ETIMEDOUT',
        message: 'connect timed out',
        failedAfterMs: performance.now() - started,
      });
    }, spec.connectTimeoutMs ?? 5_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: true, connectMs: performance.now() - started, samples: [] });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({
        ok: false,
        code: error.code ?? 'unknown',
        message: error.message,
        failedAfterMs: performance.now() - started,
      });
    });
  });
}

async function probe(spec: ProbeSpec): Promise<ProbeResult> {
  if (spec.tcpOnly) return tcpConnect(spec);
  const started = performance.now();
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection({
      host: spec.host,
      port: spec.port,
      user: spec.user,
      password: spec.password,
      connectTimeout: spec.connectTimeoutMs ?? 5_000,
    });
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    return {
      ok: false,
      code: err.code ?? 'unknown',
      message: err.message,
      failedAfterMs: performance.now() - started,
    };
  }
  const connectMs = performance.now() - started;
  const samples: ProbeSample[] = [];
  const until = Date.now() + (spec.forMs ?? 0);
  try {
    for (let i = 0; spec.forMs ? Date.now() < until : i < (spec.queries ?? 1); i++) {
      const sentAt = Date.now();
      const before = performance.now();
      await conn.query({ sql: 'SELECT 1', timeout: QUERY_DEADLINE_MS });
      samples.push({ sentAt, rttMs: performance.now() - before });
      if (spec.pauseMs) await new Promise((resolve) => setTimeout(resolve, spec.pauseMs));
    }
  } finally {
    conn.destroy();
  }
  return { ok: true, connectMs, samples };
}

const spec = JSON.parse(process.argv[2] ?? '{}') as ProbeSpec;
process.stdout.write(`${JSON.stringify(await probe(spec))}\n`);
