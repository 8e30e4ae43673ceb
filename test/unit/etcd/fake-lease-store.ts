/**
 * The part of EtcdStore an EtcdSession uses, around a scripted lease client: what the session
 * and session-share tests build their etcd from.
 */
import { systemClock as clock } from '../../../src/clock.js';
import { toStoreError } from '../../../src/etcd/errors.js';
import type { EtcdStore } from '../../../src/etcd/store.js';

/** A keepalive stream that answers each write with `ttl()` after `delayMs`, or never ('hang'). */
export function keepaliveStream(ttl: () => string | 'hang', delayMs: number): unknown {
  const handlers = new Map<string, (arg?: unknown) => void>();
  const stream = {
    on(event: string, fn: (arg?: unknown) => void) {
      handlers.set(event, fn);
      return stream;
    },
    write() {
      const answer = ttl();
      if (answer === 'hang') return;
      setTimeout(() => handlers.get('data')?.({ TTL: answer }), delayMs);
    },
    end() {},
    cancel() {},
  };
  return stream;
}

export function fakeLeaseStore(leaseClient: Record<string, unknown>): EtcdStore {
  return {
    clock,
    client: { leaseClient },
    callOptions: () => ({ deadline: new Date(Date.now() + 10_000) }),
    convertError: toStoreError,
  } as unknown as EtcdStore;
}
