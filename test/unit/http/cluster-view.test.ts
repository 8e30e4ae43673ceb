import { describe, expect, it } from 'vitest';
import type { CoordinatorLiveState } from '../../../src/coordinator/loop.js';
import type { ClusterStateCache } from '../../../src/http/cluster-state-cache.js';
import type { ClusterLayout } from '../../../src/http/cluster-layout.js';
import { ClusterView, OVERVIEW_READ_MAX_AGE_MS } from '../../../src/http/cluster-view.js';
import type { ClusterState } from '../../../src/ops/cluster-state.js';

const LAYOUT: ClusterLayout = {
  nodes: [
    { name: 'a1', colo: 'a', role: 'candidate' },
    { name: 'b1', colo: 'b', role: 'candidate' },
  ],
  policy: 'availability',
  failoverBudget: { count: 3, windowMs: 3_600_000 },
};

function viewWith(live: Partial<CoordinatorLiveState>): {
  view: ClusterView;
  set(w: CoordinatorLiveState['writer']): void;
} {
  let state: CoordinatorLiveState = {
    now: 10_000,
    sessionValid: true,
    leaseLeftMs: 3_000,
    observations: new Map(),
    isLeader: false,
    ...live,
  };
  const cache = { current: () => undefined } as unknown as ClusterStateCache;
  const view = new ClusterView('lab', 'a', { liveState: () => state }, cache, LAYOUT, 2_500, 4_000);
  return {
    view,
    set(writer) {
      const { writer: _old, ...rest } = state;
      state = writer ? { ...rest, writer } : rest;
    },
  };
}

describe('ClusterView: the writer the checks answer on', () => {
  it('is the loop’s record until the watch brings a newer epoch', () => {
    const { view } = viewWith({ writer: { node: 'a1', epoch: 3 }, writerReadAt: 9_000 });
    expect(view.routingView().writer).toEqual({ node: 'a1', epoch: 3 });
    view.writerSeen({ node: 'b1', epoch: 4 });
    expect(view.routingView().writer).toEqual({ node: 'b1', epoch: 4 });
    // The loop's read time still decides freshness: a watch event proves no absence of change.
    expect(view.routingView().writerReadAt).toBe(9_000);
  });

  it('never goes back to an older epoch, from either side', () => {
    const { view, set } = viewWith({ writer: { node: 'a1', epoch: 3 } });
    view.writerSeen({ node: 'b1', epoch: 4 });
    view.writerSeen({ node: 'a1', epoch: 2 });
    expect(view.routingView().writer).toEqual({ node: 'b1', epoch: 4 });
    set({ node: 'a1', epoch: 5 });
    expect(view.routingView().writer).toEqual({ node: 'a1', epoch: 5 });
  });

  it('with nothing read yet, the watch alone names no writer only if it saw none', () => {
    const { view } = viewWith({});
    expect(view.routingView().writer).toBeUndefined();
    view.writerSeen({ node: 'b1', epoch: 1 });
    expect(view.routingView().writer).toEqual({ node: 'b1', epoch: 1 });
  });
});

describe('ClusterView: quarantine and pin, read by the loop with the writer record', () => {
  it('answers from the loop’s last read while it is fresh', () => {
    const { view } = viewWith({ writerReadAt: 9_000, quarantined: new Set(['a2']), pinned: true });
    expect(view.routingView().quarantined).toEqual(new Set(['a2']));
    expect(view.pinned()).toBe(true);
  });

  it('knows nothing once that read is older than freshForMs, or when the record was unreadable', () => {
    expect(
      viewWith({ writerReadAt: 7_000, quarantined: new Set(['a2']), pinned: true }).view.quarantined(),
    ).toBe(undefined);
    expect(viewWith({ writerReadAt: 7_000, pinned: true }).view.pinned()).toBeUndefined();
    expect(viewWith({ writerReadAt: 9_500, pinned: false }).view.quarantined()).toBeUndefined();
  });
});

describe('ClusterView: the web view’s overview never makes the writer wait on etcd', () => {
  type Answer = { state: ClusterState; readAt: number } | { error: string };
  const stateWith = (writer: string, epoch: number): ClusterState => ({
    cluster: 'lab',
    revision: epoch,
    writer: { node: writer, epoch, since: 0, reason: 'bootstrap-writer' },
    observations: {},
    guardians: {},
    intents: [],
    history: [],
  });

  /** A cache whose reads finish only when the test says so; `now` is the loop's clock. */
  function setUp() {
    let now = 10_000;
    const pending: ((answer: Answer) => void)[] = [];
    const cache = {
      current: () => undefined,
      withHistory: () => new Promise<Answer>((resolve) => pending.push(resolve)),
    } as unknown as ClusterStateCache;
    const live = () => ({
      now,
      sessionValid: true,
      leaseLeftMs: 3_000,
      observations: new Map(),
      isLeader: false,
    });
    const view = new ClusterView('lab', 'a', { liveState: live }, cache, LAYOUT, 2_500, 4_000);
    return {
      view,
      pending,
      advance: (ms: number) => (now += ms),
      now: () => now,
    };
  }

  it('waits for the first read, then answers from the last one while the next runs', async () => {
    const { view, pending, advance, now } = setUp();
    const first = view.overview(() => 1);
    pending.shift()?.({ state: stateWith('a1', 1), readAt: now() });
    expect((await first)?.writer?.node).toBe('a1');
    advance(1_000);
    // The next read hangs (etcd is slow), and a switchover's commit reaches the watch.
    view.writerSeen({ node: 'b1', epoch: 2, since: 5, reason: 'switchover-requested' });
    const second = await view.overview(() => 2);
    expect(pending).toHaveLength(1);
    expect(second?.writer).toMatchObject({ node: 'b1', epoch: 2 });
    expect(second?.stateAgeMs).toBe(1_000);
    // The read lands: the poll after it draws from it.
    pending.shift()?.({ state: stateWith('b1', 2), readAt: now() });
    await Promise.resolve();
    advance(500);
    const third = await view.overview(() => 3);
    expect([third?.revision, third?.stateAgeMs]).toEqual([2, 500]);
  });

  it('waits once the last read is too old, and says why it still shows it when etcd fails', async () => {
    const { view, pending, advance, now } = setUp();
    const first = view.overview(() => 1);
    pending.shift()?.({ state: stateWith('a1', 1), readAt: now() });
    await first;
    advance(OVERVIEW_READ_MAX_AGE_MS + 1);
    let answered = false;
    const late = view
      .overview(() => 2)
      .then((o) => {
        answered = true;
        return o;
      });
    await Promise.resolve();
    expect(answered).toBe(false);
    pending.shift()?.({ error: 'etcd: deadline exceeded' });
    expect(await late).toMatchObject({
      revision: 1,
      stateAgeMs: OVERVIEW_READ_MAX_AGE_MS + 1,
      readError: 'etcd: deadline exceeded',
    });
  });
});
