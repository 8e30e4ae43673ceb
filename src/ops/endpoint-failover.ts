import { systemClock } from '../clock.js';
import { EtcdStore } from '../etcd/store.js';
import type { EtcdClientSettings } from '../etcd/client.js';

/**
 * The operator's view of etcd during an outage. A multi-endpoint client keeps retrying the
 * member it picked, so during a partition `baton status` would time out on the cut member.
 * Here each endpoint has its own client and a short deadline, and the first that answers wins:
 * an operator can still read state and submit intents while one site is unreachable.
 */
export class EndpointFailover {
  private readonly stores: { endpoint: string; store: EtcdStore }[];
  private preferred = 0;

  constructor(settings: EtcdClientSettings) {
    this.stores = settings.endpoints.map((endpoint) => ({
      endpoint,
      store: EtcdStore.connect({ ...settings, endpoints: [endpoint] }, systemClock),
    }));
  }

  /** Runs fn against each endpoint in turn (the last one that worked first) until one succeeds. */
  async attempt<T>(fn: (store: EtcdStore) => Promise<T>): Promise<T> {
    const failures: string[] = [];
    for (let i = 0; i < this.stores.length; i++) {
      const index = (this.preferred + i) % this.stores.length;
      const { endpoint, store } = this.stores[index] as { endpoint: string; store: EtcdStore };
      try {
        const result = await fn(store);
        this.preferred = index;
        return result;
      } catch (error) {
        failures.push(`${endpoint}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    throw new Error(`no etcd endpoint answered: ${failures.join('; ')}`);
  }

  close(): void {
    for (const { store } of this.stores) store.client.close();
  }
}
