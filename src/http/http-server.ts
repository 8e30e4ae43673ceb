import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { replicaCheck, writerCheck, type CheckResult, type RoutingView } from '../core/routing.js';
import type { Logger } from '../log.js';
import { isTimeZone } from './cluster-overview.js';
import type { ClusterView } from './cluster-view.js';
import type { BatonMetrics } from './metrics.js';
import { WEB_PAGE_HEADERS, WEB_PAGE_HTML } from './web-page.js';

/** Without `maxLagMs`, the replica check allows this much lag. */
export const DEFAULT_REPLICA_MAX_LAG_MS = 10_000;

interface Reply {
  status: number;
  body: unknown;
  contentType?: string;
  headers?: Readonly<Record<string, string>>;
}

function json(status: number, body: unknown): Reply {
  return { status, body };
}

/** The answer, with the data the check decided on (the writer may come from the watch). */
function checkReply(view: ClusterView, seen: RoutingView, node: string, check: CheckResult): Reply {
  const obs = seen.observations.get(node);
  return json(check.ok ? 200 : 503, {
    ok: check.ok,
    reason: check.reason,
    message: check.message,
    cluster: view.cluster,
    node,
    coordinator: view.coordinator,
    writer: seen.writer?.node ?? null,
    epoch: seen.writer?.epoch ?? null,
    stateAgeMs: seen.writerReadAt === undefined ? null : Math.round(seen.now - seen.writerReadAt),
    observedAgoMs: obs === undefined ? null : Math.round(seen.now - obs.observedAt),
  });
}

/** A path segment, or undefined when its %-encoding is malformed (a 400, not a 500). */
function segment(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function parseLagMs(raw: string | null): number | undefined | 'invalid' {
  if (raw === null) return undefined;
  if (!/^\d{1,9}$/.test(raw)) return 'invalid';
  return Number(raw);
}

/** `/clusters/<c>/overview[?tz=ZONE]`: the web view's data, its times in the browser's zone. */
function overviewReply(view: ClusterView, url: URL, wallNow: () => number): Reply | Promise<Reply> {
  const timeZone = url.searchParams.get('tz') ?? undefined;
  if (timeZone !== undefined && !isTimeZone(timeZone))
    return json(400, { error: `unknown time zone ${timeZone} (an IANA name such as Europe/Berlin)` });
  return view
    .overview(wallNow, timeZone)
    .then((overview) =>
      overview ? json(200, overview) : json(503, { error: 'the cluster state has not been read yet' }),
    );
}

/**
 * The read-only HTTP listener: routes a request to an answer computed from memory (ClusterView),
 * so it never waits on etcd or MySQL. Every check answers 200 or 503 with a short JSON body
 * saying why; 404 for an unknown cluster or node; GET and HEAD only. `/` is the web view
 * (web-page.ts), which polls `/clusters` and `/clusters/<c>/overview`.
 */
export function route(
  method: string,
  url: URL,
  views: ReadonlyMap<string, ClusterView>,
  metricsText: () => Promise<{ text: string; contentType: string }>,
  wallNow: () => number = Date.now,
): Reply | Promise<Reply> {
  if (method !== 'GET' && method !== 'HEAD') return json(405, { error: 'only GET and HEAD' });
  const parts = url.pathname.split('/').filter((p) => p !== '');
  const all = [...views.values()];
  if (parts.length === 0)
    return {
      status: 200,
      body: WEB_PAGE_HTML,
      contentType: 'text/html; charset=utf-8',
      headers: WEB_PAGE_HEADERS,
    };
  if (parts.length === 1) {
    switch (parts[0]) {
      case 'clusters':
        return json(200, { coordinator: all[0]?.coordinator ?? null, clusters: [...views.keys()].sort() });
      case 'health':
        return json(200, { ok: true, status: 'up' });
      case 'liveness': {
        const stalled = all.filter((v) => {
          const live = v.live();
          return live.lastCycleEndedAt === undefined || live.now - live.lastCycleEndedAt > v.sessionTtlMs;
        });
        return json(stalled.length === 0 ? 200 : 503, {
          ok: stalled.length === 0,
          message:
            stalled.length === 0
              ? 'every decision loop ran within one session TTL'
              : `decision loop stalled: ${stalled.map((v) => v.cluster).join(', ')}`,
        });
      }
      case 'readiness': {
        const problems = all.flatMap((v) => {
          const live = v.live();
          if (!live.sessionValid) return [`${v.cluster}: no provable etcd session`];
          if (live.writerReadAt === undefined || live.now - live.writerReadAt > v.freshForMs)
            return [`${v.cluster}: state not read recently`];
          const stale = v.nodes().filter((n) => {
            const obs = live.observations.get(n);
            return obs === undefined || live.now - obs.observedAt > v.freshForMs;
          });
          return stale.length > 0 ? [`${v.cluster}: no fresh observation of ${stale.join(', ')}`] : [];
        });
        return json(problems.length === 0 ? 200 : 503, {
          ok: problems.length === 0,
          message: problems.length === 0 ? 'session held, state and observations fresh' : problems.join('; '),
        });
      }
      case 'metrics':
        return metricsText().then(({ text, contentType }) => ({ status: 200, body: text, contentType }));
    }
  }
  if (parts[0] !== 'clusters' || parts.length < 2) return json(404, { error: 'not found' });
  const cluster = segment(parts[1] as string);
  if (cluster === undefined) return json(400, { error: 'malformed cluster name' });
  const view = views.get(cluster);
  if (!view) return json(404, { error: `unknown cluster ${cluster}` });
  if (parts.length === 2)
    return view
      .stateDocument()
      .then((doc) =>
        doc ? json(200, doc) : json(503, { error: 'the cluster state has not been read yet' }),
      );
  if (parts.length === 3 && parts[2] === 'overview') return overviewReply(view, url, wallNow);
  if (parts.length !== 5 || parts[2] !== 'nodes') return json(404, { error: 'not found' });
  const node = segment(parts[3] as string);
  if (node === undefined) return json(400, { error: 'malformed node name' });
  if (!view.hasNode(node)) return json(404, { error: `unknown node ${node} in cluster ${view.cluster}` });
  const seen = view.routingView();
  if (parts[4] === 'writer') return checkReply(view, seen, node, writerCheck(seen, node));
  if (parts[4] === 'replica') {
    const maxLagMs = parseLagMs(url.searchParams.get('maxLagMs'));
    if (maxLagMs === 'invalid')
      return json(400, { error: 'maxLagMs must be a whole number of milliseconds' });
    const includeWriter = ['1', 'true', 'yes'].includes(url.searchParams.get('includeWriter') ?? '');
    return checkReply(
      view,
      seen,
      node,
      replicaCheck(seen, node, {
        maxLagMs: maxLagMs ?? DEFAULT_REPLICA_MAX_LAG_MS,
        includeWriter,
      }),
    );
  }
  return json(404, { error: 'not found' });
}

export interface HttpListener {
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(listen.slice(at + 1)) };
}

/** Starts the listener; rejects with a clear message when the address cannot be bound. */
export async function startHttpListener(
  listen: string,
  views: ReadonlyMap<string, ClusterView>,
  metrics: BatonMetrics,
  log: Logger,
): Promise<HttpListener> {
  const { host, port } = parseListen(listen);
  const metricsText = async () => {
    // The per-observer verdicts come from the reports in etcd, read for the scrape (bounded).
    await Promise.all([...views.values()].map((view) => view.refreshReports()));
    return { text: await metrics.registry.metrics(), contentType: metrics.registry.contentType };
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let reply: Reply;
    try {
      reply = await route(req.method ?? 'GET', new URL(req.url ?? '/', 'http://baton'), views, metricsText);
    } catch (error) {
      log.warn({ err: (error as Error).message, url: req.url }, 'http request failed');
      reply = json(500, { error: 'internal error' });
    }
    const body = typeof reply.body === 'string' ? reply.body : `${JSON.stringify(reply.body)}\n`;
    res.writeHead(reply.status, {
      ...reply.headers,
      'content-type': reply.contentType ?? 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const server: Server = createServer((req, res) => void handle(req, res));
  // A health checker that opens a connection and stalls must not hold a socket for ever.
  server.requestTimeout = 5_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(`http.listen ${listen}: ${error.code ?? error.message}`)),
    );
    server.listen(port, host, () => resolve());
  });
  log.info({ event: 'http-listening', listen }, `http listener on ${listen}`);
  return {
    address: { host, port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
