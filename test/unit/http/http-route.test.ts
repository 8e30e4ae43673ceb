import { describe, expect, it } from 'vitest';
import type { CoordinatorLiveState } from '../../../src/coordinator/loop.js';
import type { NodeObservation } from '../../../src/core/observation.js';
import type { ClusterStateCache } from '../../../src/http/cluster-state-cache.js';
import type { ClusterState } from '../../../src/ops/cluster-state.js';
import type { ClusterLayout } from '../../../src/http/cluster-layout.js';
import { ClusterView } from '../../../src/http/cluster-view.js';
import { route } from '../../../src/http/http-server.js';

const LAYOUT: ClusterLayout = {
  nodes: [
    { name: 'a1', colo: 'a', role: 'candidate' },
    { name: 'b1', colo: 'b', role: 'candidate' },
  ],
  policy: 'availability',
  failoverBudget: { count: 3, windowMs: 3_600_000 },
};

const NOW = 50_000;

function obs(node: string, readOnly: boolean): NodeObservation {
  return { node, reachable: true, health: 'up', readOnly, observedAt: NOW - 100 };
}

const live: CoordinatorLiveState = {
  now: NOW,
  sessionValid: true,
  leaseLeftMs: 3_000,
  writer: { node: 'a1', epoch: 2 },
  writerReadAt: NOW - 200,
  observations: new Map([
    ['a1', obs('a1', false)],
    ['b1', obs('b1', true)],
  ]),
  isLeader: true,
  lastCycleEndedAt: NOW - 150,
};
const cache = {
  current: () => undefined,
  withHistory: () => Promise.resolve({ error: 'etcd: deadline exceeded' }),
} as unknown as ClusterStateCache;
const views = new Map([
  ['lab', new ClusterView('lab', 'w', { liveState: () => live }, cache, LAYOUT, 2_500, 4_000)],
]);
const metrics = () => Promise.resolve({ text: 'baton_is_leader 1\n', contentType: 'text/plain' });

async function ask(path: string, method = 'GET') {
  return route(method, new URL(path, 'http://baton'), views, metrics);
}

describe('route: what each path answers, from memory', () => {
  it.each([
    { path: '/clusters/lab/nodes/a1/writer', status: 200 },
    { path: '/clusters/lab/nodes/b1/writer', status: 503 },
    { path: '/clusters/lab/nodes/zz/writer', status: 404 },
    { path: '/clusters/nope/nodes/a1/writer', status: 404 },
    { path: '/clusters/lab/nodes/a1/primary', status: 404 },
    { path: '/clusters/lab/nodes/b1/replica?maxLagMs=x', status: 400 },
    { path: '/clusters/%E0%A4%A/nodes/a1/writer', status: 400 },
    { path: '/clusters/lab/nodes/%E0%A4%A/writer', status: 400 },
    { path: '/clusters/lab', status: 503 }, // the background read has not happened yet
    { path: '/health', status: 200 },
    { path: '/liveness', status: 200 },
    { path: '/nowhere', status: 404 },
  ])('$path → $status', async ({ path, status }) => {
    expect((await ask(path)).status).toBe(status);
  });

  it('/ is the web view, under a policy that keeps it to its own origin', async () => {
    const page = await ask('/');
    expect(page.status).toBe(200);
    expect(page.contentType).toBe('text/html; charset=utf-8');
    expect(String(page.body)).toContain('<div id="topology">');
    expect(page.headers?.['content-security-policy']).toContain("connect-src 'self'");
  });

  it('/clusters lists the clusters this coordinator serves', async () => {
    expect((await ask('/clusters')).body).toEqual({ coordinator: 'w', clusters: ['lab'] });
  });

  it('/clusters/<c>/overview: 503 before the first read, 400 for an unknown time zone', async () => {
    expect((await ask('/clusters/lab/overview')).status).toBe(503);
    expect((await ask('/clusters/lab/overview?tz=Mars/Olympus')).status).toBe(400);
  });

  it('/clusters/<c>/overview draws the cluster from a state read, the writer from the watch', async () => {
    const state: ClusterState = {
      cluster: 'lab',
      revision: 9,
      writer: { node: 'a1', epoch: 2, since: 1_000, reason: 'bootstrap-writer' },
      observations: {},
      guardians: {},
      intents: [],
      history: [],
    };
    const overviewFrom = async (withHistory: () => Promise<unknown>) => {
      const read = {
        current: () => ({ state, readAt: NOW - 3_000 }),
        withHistory,
      } as unknown as ClusterStateCache;
      const view = new ClusterView('lab', 'w', { liveState: () => live }, read, LAYOUT, 2_500, 4_000);
      view.writerSeen({ node: 'b1', epoch: 3, since: 2_000, reason: 'switchover-requested' });
      const url = new URL('/clusters/lab/overview?tz=UTC', 'http://baton');
      return route('GET', url, new Map([['lab', view]]), metrics, () => 5_000);
    };
    const answer = await overviewFrom(() => Promise.resolve({ state, readAt: NOW - 40 }));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      answeredBy: 'w',
      generatedAt: 5_000,
      stateAgeMs: 40,
      readError: null,
      writer: { node: 'b1', epoch: 3, reason: 'switchover-requested' },
      servers: [
        { name: 'a1', role: 'standby master' },
        { name: 'b1', role: 'writer' },
      ],
    });
    // etcd does not answer: the last read, saying how old it is and why.
    const older = await overviewFrom(() => Promise.resolve({ error: 'etcd: deadline exceeded' }));
    expect(older.body).toMatchObject({ stateAgeMs: 3_000, readError: 'etcd: deadline exceeded' });
  });

  it('only GET and HEAD', async () => {
    expect((await ask('/health', 'POST')).status).toBe(405);
    expect((await ask('/health', 'HEAD')).status).toBe(200);
  });

  it('a 503 says why, and how old the data is', async () => {
    expect((await ask('/clusters/lab/nodes/b1/writer')).body).toMatchObject({
      ok: false,
      reason: 'not-the-writer',
      writer: 'a1',
      epoch: 2,
      stateAgeMs: 200,
      observedAgoMs: 100,
    });
  });

  it('/metrics is the registry text', async () => {
    expect(await ask('/metrics')).toEqual({
      status: 200,
      body: 'baton_is_leader 1\n',
      contentType: 'text/plain',
    });
  });
});

describe('GET /clusters/<c>: the state with its history, read for the request', () => {
  const state = { cluster: 'lab', revision: 9, observations: {}, guardians: {}, intents: [] };
  function viewWith(cacheLike: Partial<ClusterStateCache>) {
    const v = new ClusterView(
      'lab',
      'w',
      { liveState: () => live },
      cacheLike as ClusterStateCache,
      LAYOUT,
      2_500,
      4_000,
    );
    return new Map([['lab', v]]);
  }

  it('answers the full read, history included, with its age', async () => {
    const history = [{ event: 'promoted', node: 'a1', epoch: 2 }];
    const reply = await route(
      'GET',
      new URL('/clusters/lab', 'http://baton'),
      viewWith({
        current: () => ({ state: { ...state, history: [] }, readAt: NOW - 900 }),
        withHistory: () => Promise.resolve({ state: { ...state, history } as never, readAt: NOW - 40 }),
      }),
      metrics,
    );
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ history, answeredBy: 'w', ageMs: 40 });
  });

  it('falls back to the background state without history, and says why, when etcd does not answer', async () => {
    const reply = await route(
      'GET',
      new URL('/clusters/lab', 'http://baton'),
      viewWith({
        current: () => ({ state: { ...state, history: [] }, readAt: NOW - 900 }),
        withHistory: () => Promise.resolve({ error: 'etcd: deadline exceeded' }),
      }),
      metrics,
    );
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ historyError: 'etcd: deadline exceeded', ageMs: 900 });
  });
});
