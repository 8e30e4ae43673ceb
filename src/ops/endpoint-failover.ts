import { systemClock } from '../clock.js';
import { EtcdStore } from '../etcd/store.js';
import type { EtcdClientSettings } from '../etcd/client.js';
import { StoreError } from '../etcd/errors.js';
import { probeEtcdTls } from '../etcd/tls-probe.js';

const PROBE_TIMEOUT_MS = 2_000;

/**
 * The operator's view of etcd during an outage. A multi-endpoint client keeps retrying the
 * member it picked, so during a partition `baton status` would time out on the cut member.
 * Here each endpoint has its own client and a short deadline, and the first that answers wins:
 * an operator can still read state and submit intents while one site is unreachable.
 */
export class EndpointFailover {
  private readonly stores: { endpoint: string; store: EtcdStore }[];
  private readonly tls: EtcdClientSettings['tls'];
  private preferred = 0;

  constructor(settings: EtcdClientSettings) {
    this.tls = settings.tls;
    this.stores = settings.endpoints.map((endpoint) => ({
      endpoint,
      store: EtcdStore.connect({ ...settings, endpoints: [endpoint] }, systemClock),
    }));
  }

  /**
   * Runs fn against each endpoint in turn (the last one that worked first) until one succeeds.
   * An answer that every member would give alike (a wrong password, a key the role does not
   * grant) ends the search at once: it is etcd's answer, not an outage.
   */
  async attempt<T>(fn: (store: EtcdStore) => Promise<T>): Promise<T> {
    const failures: { endpoint: string; message: string }[] = [];
    for (let i = 0; i < this.stores.length; i++) {
      const index = (this.preferred + i) % this.stores.length;
      const { endpoint, store } = this.stores[index] as { endpoint: string; store: EtcdStore };
      try {
        const result = await fn(store);
        this.preferred = index;
        return result;
      } catch (error) {
        if (error instanceof StoreError && !error.retryable) throw error;
        failures.push({ endpoint, message: (error as Error).message.split('\n')[0] as string });
      }
    }
    throw new Error(await this.describeFailures(failures));
  }

  /** One line: the reason once when every endpoint failed alike, and TLS's own reason if any. */
  private async describeFailures(failures: { endpoint: string; message: string }[]): Promise<string> {
    const first = failures[0];
    if (this.tls && first) {
      const refusal = await probeEtcdTls(first.endpoint, this.tls, PROBE_TIMEOUT_MS);
      if (refusal) return `${refusal} (${first.endpoint}; every endpoint refused us)`;
    }
    const messages = new Set(failures.map((f) => f.message));
    if (messages.size === 1 && failures.length > 1 && first)
      return `no etcd endpoint answered (${failures.map((f) => f.endpoint).join(', ')}): ${first.message}`;
    return `no etcd endpoint answered: ${failures.map((f) => `${f.endpoint}: ${f.message}`).join('; ')}`;
  }

  close(): void {
    for (const { store } of this.stores) store.client.close();
  }
}
