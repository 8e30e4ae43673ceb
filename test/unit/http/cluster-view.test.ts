import { describe, expect, it } from 'vitest';
import type { CoordinatorLiveState } from '../../../src/coordinator/loop.js';
import type { ClusterStateCache } from '../../../src/http/cluster-state-cache.js';
import type { ClusterLayout } from '../../../src/http/cluster-layout.js';
import { ClusterView } from '../../../src/http/cluster-view.js';

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
